"""ModelCheckpoint: save the model at epoch ends or every few batches, optionally only when the
monitored quantity improved."""

import math
import os

from ..utils import checks
from .base import Callback
from .monitor import Monitor, say

__all__ = ["ModelCheckpoint"]


class ModelCheckpoint(Callback):
    """Call ``model.save(path)`` (``model.save_weights(path)`` with ``save_weights_only``) at each
    epoch end or every ``save_freq`` batches.

    ``filepath`` may hold format fields: ``{epoch}`` (1-based), ``{batch}`` (1-based, batch saves
    only) and any logged name, e.g. ``"ckpt/{epoch:02d}-{val_loss:.2f}.npz"``; missing folders are
    created. Any file name is taken (nnfast writes its ``.npz`` format whatever the name; Keras
    requires ``.keras``, or ``.weights.h5`` for weights). With ``save_best_only`` a save happens
    only when ``monitor`` beats the best value seen by this callback, starting from
    ``initial_value_threshold`` (None: the first value is an improvement); as in Keras 3, an epoch
    whose logs lack ``monitor`` warns and saves.
    """

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False, save_weights_only=False,
                 mode="auto", save_freq="epoch", initial_value_threshold=None):
        self.filepath = os.fspath(filepath)
        self.monitor = Monitor("ModelCheckpoint", monitor, mode, when_missing="the model is saved anyway")
        self.verbose = verbose
        self.save_best_only = bool(save_best_only)
        self.save_weights_only = bool(save_weights_only)
        if save_freq != "epoch":
            save_freq = checks.integer("save_freq", save_freq, lo=1)
        self.save_freq = save_freq
        self.best = (None if initial_value_threshold is None
                     else checks.real("initial_value_threshold", initial_value_threshold, -math.inf))
        self._epoch = 0
        self._batches_since_save = 0

    def on_train_begin(self, logs=None):
        self.monitor.reset(self.model)
        self._batches_since_save = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq == "epoch":
            return
        self._batches_since_save += 1
        if self._batches_since_save >= self.save_freq:
            self._batches_since_save = 0
            self._save(self._epoch, batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._save(epoch, None, logs)

    def _path(self, epoch, batch, logs):
        fields = dict(logs, epoch=epoch + 1)
        if batch is not None:
            fields["batch"] = batch + 1
        try:
            return self.filepath.format(**fields)
        except KeyError as e:
            raise KeyError(f"ModelCheckpoint cannot format filepath {self.filepath!r}: {e} is not "
                           f"logged (available: {', '.join(fields)})") from None

    def _save(self, epoch, batch, logs):
        logs = logs or {}
        path = self._path(epoch, batch, logs)
        if self.save_best_only:
            current = self.monitor.value(logs)
            if current is not None:
                name = self.monitor.name
                best = "None" if self.best is None else f"{self.best:.5f}"
                if self.best is not None and not self.monitor.improved(current, self.best):
                    say(self.verbose, f"\nEpoch {epoch + 1}: {name} did not improve from {best}")
                    return
                say(self.verbose, f"\nEpoch {epoch + 1}: {name} improved from {best} to {current:.5f}, "
                                  f"saving model to {path}")
                self.best = current
        else:
            say(self.verbose, f"\nEpoch {epoch + 1}: saving model to {path}")
        folder = os.path.dirname(path)
        if folder:
            os.makedirs(folder, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(path)
        else:
            self.model.save(path)
        say(self.verbose, f"\nEpoch {epoch + 1}: finished saving model to {path}")  # as Keras, after the save
