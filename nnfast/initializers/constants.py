"""Initializers that draw nothing: Zeros, Ones, Constant, Identity."""
import math

import numpy as np

from ..utils import checks
from .base import Initializer

__all__ = ["Zeros", "Ones", "Constant", "Identity"]


class Zeros(Initializer):
    """All zeros (Keras' default bias initializer)."""

    def _generate(self, shape, dtype, rng):
        return np.zeros(shape, dtype)


class Ones(Initializer):
    """All ones."""

    def _generate(self, shape, dtype, rng):
        return np.ones(shape, dtype)


class Constant(Initializer):
    """Every value ``value`` (a real scalar; Keras' default 0.0), or an array of values broadcast to
    the weight's shape, as Keras broadcasts it (a bias from ``np.log([pos / neg])``)."""

    def __init__(self, value=0.0):
        if np.ndim(value) == 0:
            self.value = checks.real("value", value, -math.inf, math.inf)
            return
        try:
            values = np.array(value, dtype=np.float64)
        except (TypeError, ValueError) as e:
            raise TypeError(f"value must be a real number or an array of them, got {value!r}") from e
        if not np.isfinite(values).all():
            raise ValueError(f"value must be finite, got {value!r}")
        self.value = values

    def _generate(self, shape, dtype, rng):
        if np.ndim(self.value) == 0:
            return np.full(shape, self.value, dtype)
        try:
            return np.broadcast_to(self.value, shape).astype(dtype)
        except ValueError:
            raise ValueError(f"Constant's value of shape {self.value.shape} does not broadcast to the weight's "
                             f"shape {tuple(shape)}") from None

    def get_config(self):
        return {"value": self.value if np.ndim(self.value) == 0 else self.value.tolist()}


class Identity(Initializer):
    """``gain`` times the identity matrix; a 2-D shape only, which may be rectangular (ones on the
    main diagonal, as ``numpy.eye(rows, cols)``)."""

    def __init__(self, gain=1.0):
        self.gain = checks.real("gain", gain, -math.inf, math.inf, lo_open=True, hi_open=True)

    def _generate(self, shape, dtype, rng):
        if len(shape) != 2:
            raise ValueError(f"shape must be 2-D for the Identity initializer, got {shape}")
        return (self.gain * np.eye(*shape)).astype(dtype)

    def get_config(self):
        return {"gain": self.gain}
