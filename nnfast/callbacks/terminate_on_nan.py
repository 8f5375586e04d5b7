"""TerminateOnNaN: stop training at a NaN or Inf loss, as Keras 3's."""

import math

from .base import Callback
from .monitor import say

__all__ = ["TerminateOnNaN"]


class TerminateOnNaN(Callback):
    """At a batch whose running loss is NaN or Inf, print ``Batch B: Invalid loss, terminating
    training`` and stop (``model.stop_training``): ``fit`` finishes that epoch's end (validation,
    ``on_epoch_end``) and returns. With ``raise_error=True`` it raises RuntimeError instead, and the
    other callbacks' ``on_train_end`` is not called.

    Without it nnfast's ``fit`` stops at such a loss with a FloatingPointError. Either way the
    failing step's update is not applied, so the weights stay finite (Keras keeps what the step
    left, NaN included).
    """

    def __init__(self, raise_error=False):
        self.raise_error = bool(raise_error)

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is None or math.isfinite(loss):
            return
        if self.raise_error:
            raise RuntimeError(f"NaN or Inf loss encountered at batch {batch}. Loss value: {loss}. "
                               "Terminating training immediately.")
        say(True, f"Batch {batch}: Invalid loss, terminating training")
        self.model.stop_training = True
