"""ProgbarLogger: the callback that shows training, evaluation and prediction as a progress bar."""

from ..utils.progbar import Progbar, write
from .base import Callback

__all__ = ["ProgbarLogger"]


class ProgbarLogger(Callback):
    """Shows a :class:`Progbar` per epoch (``verbose`` from the params: 0, 1 or 2; "auto" means 1).

    With ``epochs > 1`` each epoch opens with an ``Epoch 3/50`` line (Keras 3). Inside ``fit`` the
    validation pass is silent; ``evaluate`` and ``predict`` get a bar of their own.
    """

    needs_every_batch = False  # it shows the latest step and logs: one update per run of batches is enough

    def __init__(self):
        self.verbose = 1
        self.epochs = 1
        self.target = None
        self.seen = 0
        self.progbar = None
        self._in_fit = False

    def set_params(self, params):
        super().set_params(params)
        verbose = params.get("verbose", 1)
        self.verbose = 1 if verbose == "auto" else verbose
        self.epochs = params.get("epochs", 1)
        self.target = params.get("steps")

    def _start(self):
        self.seen = 0
        # every value shown as the logs give it, as Keras 3's logger asks its bar
        self.progbar = Progbar(self.target, verbose=self.verbose, stateless_metrics=set())

    def _advance(self, batch, logs):
        if self.progbar is None:
            self._start()
        self.seen = batch + 1
        self.progbar.update(self.seen, logs, finalize=False)

    def _finish(self, logs):
        if self.progbar is None:
            self._start()
        if self.progbar.target is None:
            self.progbar.target = self.seen
        self.progbar.update(self.progbar.target, logs, finalize=True)
        self.progbar = None

    def on_train_begin(self, logs=None):
        self._in_fit = True

    def on_train_end(self, logs=None):
        self._in_fit = False
        if self.progbar is not None:  # an epoch that did not finish (KeyboardInterrupt)
            self.progbar.end_line()
            self.progbar = None

    def on_epoch_begin(self, epoch, logs=None):
        if self.verbose and self.epochs > 1:
            write(f"Epoch {epoch + 1}/{self.epochs}\n")
        self._start()

    def on_train_batch_end(self, batch, logs=None):
        self._advance(batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        self._finish(logs)

    def on_test_begin(self, logs=None):
        if not self._in_fit:
            self._start()

    def on_test_batch_end(self, batch, logs=None):
        if not self._in_fit:
            self._advance(batch, logs)

    def on_test_end(self, logs=None):
        if not self._in_fit:
            self._finish(logs)

    def on_predict_begin(self, logs=None):
        self._start()

    def on_predict_batch_end(self, batch, logs=None):
        self._advance(batch, None)

    def on_predict_end(self, logs=None):
        self._finish(None)
