"""EarlyStopping: stop training when the monitored quantity stops improving."""

import math

import numpy as np

from ..utils import checks
from .base import Callback
from .monitor import Monitor, say

__all__ = ["EarlyStopping"]


class EarlyStopping(Callback):
    """Stop training when ``monitor`` has not improved for ``patience`` epochs (Keras 3 semantics).

    Each monitored epoch adds one to a wait counter; an improvement by more than ``|min_delta|`` on the
    best value so far resets it (with ``baseline``, only if the value also beats the baseline).
    Training stops (``model.stop_training = True``) when the counter reaches ``patience``, never after
    the first epoch. Epochs before ``start_from_epoch`` are not monitored. With
    ``restore_best_weights`` the weights of the best epoch (or of the first monitored one if none
    improved) are put back at the end of training, whether it stopped early or not.
    """

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto",
                 baseline=None, restore_best_weights=False, start_from_epoch=0):
        self.monitor = Monitor("EarlyStopping", monitor, mode, min_delta)
        self.patience = checks.integer("patience", patience)
        self.verbose = verbose
        self.baseline = checks.optional_real("baseline", baseline, -math.inf)
        self.restore_best_weights = bool(restore_best_weights)
        self.start_from_epoch = checks.integer("start_from_epoch", start_from_epoch)
        self.on_train_begin()

    def on_train_begin(self, logs=None):
        self.monitor.reset(self.model)
        self.wait = 0
        self.stopped_epoch = 0
        self.best = self.monitor.worst
        self.best_epoch = 0
        self.best_weights = None

    def _snapshot(self, epoch):
        self.best_epoch = epoch
        if self.restore_best_weights:
            self.best_weights = [np.array(w, copy=True) for w in self.model.get_weights()]

    def on_epoch_end(self, epoch, logs=None):
        current = self.monitor.value(logs)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self._snapshot(epoch)
        self.wait += 1
        if self.monitor.improved(current, self.best):
            self.best = current
            self._snapshot(epoch)
            if self.baseline is None or self.monitor.improved(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0:
            say(self.verbose, f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            say(self.verbose, "Restoring model weights from the end of the best epoch: "
                               f"{self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)
