"""The initializer protocol shared by every initializer: the base classes, Keras' fan rule and the
truncated-normal draw."""
import math

import numpy as np

from ..utils import checks
from ..utils.registry import Configurable

__all__ = ["Initializer", "RandomInitializer", "compute_fans", "draw_truncated_normal"]


def compute_fans(shape, input_axes=None, output_axes=None):
    """(fan_in, fan_out) of a weight shape, by Keras' rule.

    With both ``input_axes`` and ``output_axes`` given, each fan is the product of those axes'
    sizes. Otherwise a 0-D shape has 1 and 1; a 1-D shape (a bias) ``shape[0]`` twice; a kernel
    ``(in, out)`` in and out; a shape of 3 or more dimensions multiplies ``shape[-2]`` and
    ``shape[-1]`` by the receptive field ``prod(shape[:-2])``.
    """
    shape = checks.shape("shape", shape)
    if input_axes is not None and output_axes is not None:
        return (math.prod(shape[axis] for axis in input_axes),
                math.prod(shape[axis] for axis in output_axes))
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive_field = math.prod(shape[:-2])
    return shape[-2] * receptive_field, shape[-1] * receptive_field


def draw_truncated_normal(rng, shape, mean, stddev):
    """float64 N(mean, stddev) with every draw further than 2 stddev from the mean redrawn until none
    is left (Keras' truncated normal)."""
    x = rng.standard_normal(shape)
    flat = x.reshape(-1)
    redraw = np.flatnonzero(np.abs(flat) > 2.0)
    while redraw.size:
        flat[redraw] = rng.standard_normal(redraw.size)
        redraw = redraw[np.abs(flat[redraw]) > 2.0]
    return mean + stddev * x


class Initializer(Configurable):
    """Base class: ``init(shape, dtype="float32", rng=None) -> ndarray``; subclasses define
    ``_generate(shape, dtype, rng)`` with the checked shape tuple and numpy dtype."""

    def __call__(self, shape, dtype="float32", rng=None):
        if rng is not None and not isinstance(rng, np.random.Generator):
            raise TypeError(f"rng must be a numpy.random.Generator or None, got {type(rng).__name__}")
        return self._generate(checks.shape("shape", shape), checks.float_dtype("dtype", dtype), rng)

    def _generate(self, shape, dtype, rng):
        raise NotImplementedError

    def clone(self):
        """A new initializer with the same config (Keras' ``Initializer.clone``)."""
        return type(self).from_config(self.get_config())


class RandomInitializer(Initializer):
    """An initializer that draws from ``rng``, or from ``default_rng(seed)`` when none is given.
    Subclasses define ``_sample(rng, shape)``, float64 draws rounded to the dtype once."""

    def __init__(self, seed=None):
        self.seed = checks.optional_integer("seed", seed)

    def _generate(self, shape, dtype, rng):
        if rng is None:
            rng = np.random.default_rng(self.seed)
        return np.asarray(self._sample(rng, shape)).astype(dtype, order="C", copy=False)

    def _sample(self, rng, shape):
        raise NotImplementedError

    def get_config(self):
        return {"seed": self.seed}
