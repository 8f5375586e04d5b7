"""One public call at a time per model.

A model's layers write their activations, gradients and weights into buffers the model owns, so
two threads running the same model at once would tear each other's results. Every public method
that reads or writes those (fit, evaluate, predict, train_on_batch, compile, get/set/save/load of
weights, save) holds the model's reentrant lock: a call from another thread waits until the
running one returns, and then sees the weights that call left; calls made from inside it on the
same thread (a callback calling predict or save during fit) go straight through. Different models
share nothing and run in parallel."""
import functools

__all__ = ["exclusive"]


def exclusive(method):
    """Run `method` holding its model's lock (``self._run_lock``, an RLock the model makes)."""
    @functools.wraps(method)
    def locked(self, *args, **kwargs):
        with self._run_lock:
            return method(self, *args, **kwargs)
    return locked
