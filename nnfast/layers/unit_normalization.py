"""Scaling to unit L2 norm as keras.ops.normalize does it (order 2): x * min(rsqrt(sum(x^2)),
1 / epsilon) over some axes, with the gradient torch's autograd takes through those operations;
and the UnitNormalization layer built on it (Dot's normalize=True uses it too)."""
import numpy as np

from ..utils import checks
from .base import Layer


def unit_scale(x, axes, epsilon):
    """(min(r, 1/epsilon), r), r = rsqrt(sum(x^2)) over `axes` (kept, so both broadcast against x)."""
    with np.errstate(divide="ignore"):
        r = (1 / np.sqrt(np.sum(np.square(x), axis=axes, keepdims=True))).astype(x.dtype, copy=False)
    return np.minimum(r, x.dtype.type(1 / epsilon)), r


def unit_scale_backward(du, x, axes, epsilon):
    """dL/dx of u = x * min(r, B), B = 1/epsilon: du * m + x * sum(du * x) * dm/dr * dr/ds * 2, with
    dr/ds = -r^3 / 2 and dm/dr 1 where r < B, 0 where r > B, a half at a tie (torch's minimum). A zero
    vector gets NaN, as on torch (0 times the infinite dr/ds)."""
    m, r = unit_scale(x, axes, epsilon)
    bound = x.dtype.type(1 / epsilon)
    slope = np.where(r < bound, 1.0, np.where(r == bound, 0.5, 0.0)).astype(x.dtype)
    with np.errstate(invalid="ignore", over="ignore"):
        through_r = slope * r * r * r
    return (du * m - x * (np.sum(du * x, axis=axes, keepdims=True) * through_r)).astype(x.dtype, copy=False)


class UnitNormalization(Layer):
    """Keras's UnitNormalization: each sample scaled to unit L2 norm along `axis` (an int or a list
    of ints counted with the batch axis first; -1 by default), with Keras's epsilon 1e-12."""

    EPSILON = 1e-12

    def __init__(self, axis=-1, **kwargs):
        if isinstance(axis, (list, tuple)):
            axis = [checks.integer("axis", a, lo=None) for a in axis]
        elif isinstance(axis, int) and not isinstance(axis, bool):
            axis = checks.integer("axis", axis, lo=None)
        else:
            raise TypeError(f"axis must be an int or a list/tuple of ints, got {axis!r}")
        super().__init__(**kwargs)
        self.axis = axis

    def batched_axes(self, rank):
        """The normalized axes of a batched input of `rank` axes, as non-negative ints."""
        axes = self.axis if isinstance(self.axis, list) else [self.axis]
        if any(a >= rank or a < -rank for a in axes):
            raise ValueError(f"UnitNormalization axis {self.axis} is out of bounds for inputs of shape "
                             f"{(None,) + tuple(self.input_shape or ())}")
        return tuple(a % rank for a in axes)

    def compute_output_shape(self, input_shape):
        self.input_shape = input_shape
        self.batched_axes(len(input_shape) + 1)
        return input_shape

    def forward(self, backend, x, training):
        self._x = x
        return x * unit_scale(x, self.batched_axes(x.ndim), self.EPSILON)[0]

    def backward(self, backend, dy, need_dx):
        return unit_scale_backward(dy, self._x, self.batched_axes(dy.ndim), self.EPSILON)

    def get_config(self):
        return {**self.base_config(), "axis": self.axis}
