"""The callback base class: every training, test and predict hook, as a no-op."""

__all__ = ["Callback"]


class Callback:
    """Base class of callbacks: every hook is a no-op; ``model`` and ``params`` are set by CallbackList.

    A hook may be overridden in a subclass or set on an instance (LambdaCallback does);
    :meth:`overrides` tells which hooks a callback has.

    ``needs_every_batch`` (True): whether the per-batch training hooks must see every batch. A
    callback that only shows the latest state (the progress bar) sets it False; ``fit`` may then
    train runs of batches natively and call ``on_train_batch_end`` once per run, for its last batch.
    """

    model = None
    params = {}
    needs_every_batch = True

    def set_model(self, model):
        self.model = model

    def overrides(self, hook):
        """Whether ``hook`` (a hook's name) does something here: set on the instance, or overridden
        by its class."""
        return hook in vars(self) or getattr(type(self), hook) is not getattr(Callback, hook)

    def set_params(self, params):
        """``params``: dict with ``epochs``, ``steps`` (per epoch, None if unknown) and ``verbose``."""
        self.params = dict(params)

    def on_train_begin(self, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_train_batch_begin(self, batch, logs=None):
        self.on_batch_begin(batch, logs=logs)  # as Keras: the Keras 2 name still runs

    def on_train_batch_end(self, batch, logs=None):
        self.on_batch_end(batch, logs=logs)

    def on_batch_begin(self, batch, logs=None):
        """Keras 2's name of ``on_train_batch_begin``, which calls it (as in Keras 3)."""

    def on_batch_end(self, batch, logs=None):
        """Keras 2's name of ``on_train_batch_end``, which calls it (as in Keras 3)."""

    def on_test_begin(self, logs=None):
        pass

    def on_test_end(self, logs=None):
        pass

    def on_test_batch_begin(self, batch, logs=None):
        pass

    def on_test_batch_end(self, batch, logs=None):
        pass

    def on_predict_begin(self, logs=None):
        pass

    def on_predict_end(self, logs=None):
        pass

    def on_predict_batch_begin(self, batch, logs=None):
        pass

    def on_predict_batch_end(self, batch, logs=None):
        pass
