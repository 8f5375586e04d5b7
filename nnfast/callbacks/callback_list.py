"""CallbackList: one callback made of many, each hook called on every one in order."""

from .base import Callback
from .history import History
from .progbar_logger import ProgbarLogger

__all__ = ["CallbackList"]


class CallbackList(Callback):
    """Calls each hook on every callback, in order, with one shared ``logs`` dict.

    ``add_history`` / ``add_progbar`` append a History / ProgbarLogger unless one is already in
    ``callbacks``; they are available as ``.history`` and ``.progbar`` (None when absent). Extra
    keyword arguments (``verbose``, ``epochs``, ``steps``) are passed to every ``set_params``.
    """

    def __init__(self, callbacks=None, model=None, add_history=False, add_progbar=False, **params):
        if callbacks is None:
            callbacks = []
        elif isinstance(callbacks, Callback):
            callbacks = [callbacks]
        try:
            self.callbacks = list(callbacks)
        except TypeError:
            raise TypeError(f"callbacks must be a list of nnfast.callbacks.Callback, got {callbacks!r}") from None
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"callbacks must be nnfast.callbacks.Callback instances, got {cb!r}")
        self.history = self._find_or_add(History, add_history)
        self.progbar = self._find_or_add(ProgbarLogger, add_progbar)
        if model is not None:
            self.set_model(model)
        if params:
            self.set_params(params)

    def _find_or_add(self, cls, add):
        found = next((cb for cb in self.callbacks if isinstance(cb, cls)), None)
        if found is None and add:
            found = cls()
            self.callbacks.append(found)
        return found

    def set_model(self, model):
        super().set_model(model)
        for cb in self.callbacks:
            cb.set_model(model)

    def set_params(self, params):
        super().set_params(params)
        for cb in self.callbacks:
            cb.set_params(params)

    def wants_batch_hooks(self, every_batch=False):
        """Whether any callback overrides a per-batch training hook (else the loop skips them); with
        ``every_batch``, only callbacks that need to see every batch count."""
        hooks = ("on_train_batch_begin", "on_train_batch_end", "on_batch_begin", "on_batch_end")
        return any(cb.overrides(h) and (cb.needs_every_batch or not every_batch)
                   for cb in self.callbacks for h in hooks)

    def _dispatch(self, hook, *args, logs):
        logs = {} if logs is None else logs
        for cb in self.callbacks:
            getattr(cb, hook)(*args, logs)

    def on_train_begin(self, logs=None):
        self._dispatch("on_train_begin", logs=logs)

    def on_train_end(self, logs=None):
        self._dispatch("on_train_end", logs=logs)

    def on_epoch_begin(self, epoch, logs=None):
        self._dispatch("on_epoch_begin", epoch, logs=logs)

    def on_epoch_end(self, epoch, logs=None):
        self._dispatch("on_epoch_end", epoch, logs=logs)

    def on_train_batch_begin(self, batch, logs=None):
        self._dispatch("on_train_batch_begin", batch, logs=logs)

    def on_train_batch_end(self, batch, logs=None):
        self._dispatch("on_train_batch_end", batch, logs=logs)

    def on_test_begin(self, logs=None):
        self._dispatch("on_test_begin", logs=logs)

    def on_test_end(self, logs=None):
        self._dispatch("on_test_end", logs=logs)

    def on_test_batch_begin(self, batch, logs=None):
        self._dispatch("on_test_batch_begin", batch, logs=logs)

    def on_test_batch_end(self, batch, logs=None):
        self._dispatch("on_test_batch_end", batch, logs=logs)

    def on_predict_begin(self, logs=None):
        self._dispatch("on_predict_begin", logs=logs)

    def on_predict_end(self, logs=None):
        self._dispatch("on_predict_end", logs=logs)

    def on_predict_batch_begin(self, batch, logs=None):
        self._dispatch("on_predict_batch_begin", batch, logs=logs)

    def on_predict_batch_end(self, batch, logs=None):
        self._dispatch("on_predict_batch_end", batch, logs=logs)
