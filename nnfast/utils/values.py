"""Values handed to Keras programs: Python floats that also answer ``numpy()``, as the tensors
Keras returns from a metric's ``result()`` or a loss call do (``metric.result().numpy()``)."""
import functools

import numpy as np

__all__ = ["KerasScalar", "KerasInteger", "keras_scalars"]


class KerasScalar(float):
    """A float with Keras tensors' ``numpy()``: a 0-d float32 array, as Keras 3's float32 scalar
    tensor gives."""

    __slots__ = ()

    def numpy(self):
        return np.asarray(float(self), np.float32)


class KerasInteger(int):
    """An int with Keras variables' ``numpy()``: a 0-d int32 array, as Keras 3's
    ``optimizer.iterations`` gives."""

    __slots__ = ()

    def numpy(self):
        return np.asarray(int(self), np.int32)


def keras_scalars(method):
    """`method` returning a KerasScalar where it returns a real number (arrays pass unchanged)."""
    @functools.wraps(method)
    def wrapped(*args, **kwargs):
        value = method(*args, **kwargs)
        if isinstance(value, (float, np.floating)) and not isinstance(value, KerasScalar):
            return KerasScalar(value)
        return value
    return wrapped
