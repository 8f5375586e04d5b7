"""LambdaCallback: a callback made of plain functions, as Keras 3's."""

from .base import Callback

__all__ = ["LambdaCallback"]

HOOKS = ("on_epoch_begin", "on_epoch_end", "on_train_begin", "on_train_end", "on_train_batch_begin",
         "on_train_batch_end")


class LambdaCallback(Callback):
    """Each given function becomes that hook of this callback, called as the hook is:
    ``on_epoch_begin(epoch, logs)``, ``on_epoch_end(epoch, logs)``, ``on_train_begin(logs)``,
    ``on_train_end(logs)``, ``on_train_batch_begin(batch, logs)``, ``on_train_batch_end(batch, logs)``.
    Other keyword arguments become attributes of the callback (Keras's ``on_batch_end=...`` among
    them, which its ``on_train_batch_end`` then calls, as in Keras).
    """

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_train_begin=None, on_train_end=None,
                 on_train_batch_begin=None, on_train_batch_end=None, **kwargs):
        given = dict(zip(HOOKS, (on_epoch_begin, on_epoch_end, on_train_begin, on_train_end,
                                 on_train_batch_begin, on_train_batch_end)))
        for name, fn in list(given.items()) + list(kwargs.items()):
            if name.startswith("on_") and fn is not None and not callable(fn):
                raise TypeError(f"{name} must be a function, got {type(fn).__name__}")
        self.__dict__.update(kwargs)
        for name, fn in given.items():
            if fn is not None:
                setattr(self, name, fn)
