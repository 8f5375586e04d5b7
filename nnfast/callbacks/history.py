"""History: the per-epoch logs of training, kept as ``model.history``."""

from .base import Callback

__all__ = ["History"]


class History(Callback):
    """Records the epoch logs: ``history[name]`` is the list of per-epoch values, ``epoch`` the indices.

    As Keras, ``epoch`` is cleared at each training start and ``history`` keeps growing.
    """

    def __init__(self):
        self.history = {}
        self.epoch = []

    def set_model(self, model):
        super().set_model(model)
        model.history = self

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for name, value in (logs or {}).items():
            self.history.setdefault(name, []).append(value)
