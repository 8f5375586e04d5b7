"""Weight initializers with Keras names and formulas.

An initializer is called as ``init(shape, dtype="float32", rng=None)`` and returns a new C-contiguous
array of that shape and dtype (float32 or float64). ``rng`` is a ``numpy.random.Generator``: a model
passes one seeded from its own seed, so its weights are reproducible. Without one, a random
initializer draws from ``numpy.random.default_rng(seed)`` made from its own ``seed`` argument
(``None``: fresh OS entropy). Random values are drawn in float64 and rounded to ``dtype`` once, so a
float32 and a float64 model built from the same seed start from the same weights, up to rounding.

Fans follow Keras: a kernel ``(in, out)`` has ``fan_in = in`` and ``fan_out = out``; a 1-D shape (a
bias) has ``fan_in = fan_out = shape[0]``; a 0-D shape has 1 and 1; a shape of 3 or more dimensions
multiplies ``shape[-2]`` and ``shape[-1]`` by the receptive field ``prod(shape[:-2])``.

==================  ===========================================================================
name                values
==================  ===========================================================================
glorot_uniform      U(-l, l), l = sqrt(6 / (fan_in + fan_out))  (Keras' default kernel initializer)
glorot_normal       truncated normal, stddev sqrt(2 / (fan_in + fan_out)) / .87962566103423978
he_uniform          U(-l, l), l = sqrt(6 / fan_in)
he_normal           truncated normal, stddev sqrt(2 / fan_in) / .87962566103423978
variance_scaling    the general rule behind the four above (scale, mode, distribution)
random_normal       N(mean, stddev); defaults 0 and 1.0, the seed notes' ``np.random.randn``
                    (Keras' RandomNormal defaults to stddev 0.05)
random_uniform      U(minval, maxval); defaults -0.05 and 0.05, as Keras
truncated_normal    truncated N(mean, stddev); defaults 0 and 0.05, as Keras
zeros, ones         constants
==================  ===========================================================================

"Truncated normal" is Keras' rule: draw from N(mean, s) and redraw every value further than 2 s from
the mean until none is left. The divisor .87962566103423978 (the stddev of a unit normal truncated to
[-2, 2]) makes the truncated values' stddev the target ``sqrt(scale / n)``.

``get(identifier)`` resolves a name (case- and underscore-insensitive: ``"glorot_uniform"`` or
``"GlorotUniform"``) to a default instance; instances and other callables pass through.
"""

import math

import numpy as np

from .utils import checks
from .utils.registry import Configurable, resolve

__all__ = ["Initializer", "Zeros", "Ones", "RandomNormal", "RandomUniform", "TruncatedNormal",
           "VarianceScaling", "GlorotUniform", "GlorotNormal", "HeUniform", "HeNormal",
           "zeros", "ones", "random_normal", "random_uniform", "truncated_normal", "variance_scaling",
           "glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "compute_fans", "get"]

# stddev of a unit normal truncated to [-2, 2]; dividing by it restores the requested stddev
_TRUNCATED_STDDEV = 0.87962566103423978


def compute_fans(shape):
    """(fan_in, fan_out) of a weight shape, by Keras' rule (see the module docstring)."""
    shape = checks.shape("shape", shape)
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive_field = math.prod(shape[:-2])
    return shape[-2] * receptive_field, shape[-1] * receptive_field


def _truncated_normal(rng, shape, mean, stddev):
    """N(mean, stddev) with every draw further than 2 stddev from the mean redrawn until none is left."""
    x = rng.standard_normal(shape)
    flat = x.reshape(-1)
    redraw = np.flatnonzero(np.abs(flat) > 2.0)
    while redraw.size:
        flat[redraw] = rng.standard_normal(redraw.size)
        redraw = redraw[np.abs(flat[redraw]) > 2.0]
    return mean + stddev * x


# --------------------------------------------------------------------------------------------------
# initializers
# --------------------------------------------------------------------------------------------------

class Initializer(Configurable):
    """Base class: ``init(shape, dtype="float32", rng=None) -> ndarray``; subclasses define ``_generate``."""

    def __call__(self, shape, dtype="float32", rng=None):
        if rng is not None and not isinstance(rng, np.random.Generator):
            raise TypeError(f"rng must be a numpy.random.Generator or None, got {type(rng).__name__}")
        return self._generate(checks.shape("shape", shape), checks.float_dtype("dtype", dtype), rng)

    def _generate(self, shape, dtype, rng):
        raise NotImplementedError


class Zeros(Initializer):
    """All zeros (Keras' default bias initializer)."""

    def _generate(self, shape, dtype, rng):
        return np.zeros(shape, dtype)


class Ones(Initializer):
    """All ones."""

    def _generate(self, shape, dtype, rng):
        return np.ones(shape, dtype)


class _RandomInitializer(Initializer):
    """An initializer that draws from ``rng``, or from ``default_rng(seed)`` when none is given."""

    def __init__(self, seed=None):
        self.seed = checks.optional_integer("seed", seed)

    def _generate(self, shape, dtype, rng):
        if rng is None:
            rng = np.random.default_rng(self.seed)
        return np.asarray(self._sample(rng, shape)).astype(dtype, order="C", copy=False)

    def _sample(self, rng, shape):
        """float64 draws of the given shape."""
        raise NotImplementedError

    def get_config(self):
        return {"seed": self.seed}


class _NormalInitializer(_RandomInitializer):
    """A normal distribution's mean and stddev (finite; stddev > 0), checked and in the config."""

    def __init__(self, mean, stddev, seed):
        super().__init__(seed)
        self.mean = checks.real("mean", mean, -math.inf, math.inf, lo_open=True, hi_open=True)
        self.stddev = checks.real("stddev", stddev, 0.0, math.inf, lo_open=True, hi_open=True)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, **super().get_config()}


class RandomNormal(_NormalInitializer):
    """N(mean, stddev). The default stddev 1.0 is the seed notes' ``np.random.randn`` (Keras: 0.05)."""

    def __init__(self, mean=0.0, stddev=1.0, seed=None):
        super().__init__(mean, stddev, seed)

    def _sample(self, rng, shape):
        return rng.normal(self.mean, self.stddev, shape)


class TruncatedNormal(_NormalInitializer):
    """N(mean, stddev) with values further than 2 stddev from the mean redrawn (Keras' default 0.05)."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        super().__init__(mean, stddev, seed)

    def _sample(self, rng, shape):
        return _truncated_normal(rng, shape, self.mean, self.stddev)


class RandomUniform(_RandomInitializer):
    """U(minval, maxval), as Keras (defaults -0.05 and 0.05)."""

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        super().__init__(seed)
        self.minval = checks.real("minval", minval, -math.inf, math.inf, lo_open=True, hi_open=True)
        self.maxval = checks.real("maxval", maxval, -math.inf, math.inf, lo_open=True, hi_open=True)
        if self.minval > self.maxval:
            raise ValueError(f"minval must not exceed maxval, got minval={minval!r}, maxval={maxval!r}")

    def _sample(self, rng, shape):
        return rng.uniform(self.minval, self.maxval, shape)

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, **super().get_config()}


class VarianceScaling(_RandomInitializer):
    """Values with variance ``scale / n``, n = fan_in, fan_out or their mean (``mode``), at least 1.

    ``distribution``: "truncated_normal" (stddev corrected for the truncation), "untruncated_normal"
    or "uniform" (U(-l, l), l = sqrt(3 scale / n)).
    """

    MODES = ("fan_in", "fan_out", "fan_avg")
    DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform")

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None):
        super().__init__(seed)
        self.scale = checks.real("scale", scale, 0.0, math.inf, lo_open=True, hi_open=True)
        self.mode = checks.one_of("mode", mode, self.MODES)
        self.distribution = checks.one_of("distribution", distribution, self.DISTRIBUTIONS)

    def _sample(self, rng, shape):
        fan_in, fan_out = compute_fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        variance = self.scale / max(1.0, n)
        if self.distribution == "uniform":
            limit = math.sqrt(3.0 * variance)
            return rng.uniform(-limit, limit, shape)
        if self.distribution == "untruncated_normal":
            return rng.normal(0.0, math.sqrt(variance), shape)
        return _truncated_normal(rng, shape, 0.0, math.sqrt(variance) / _TRUNCATED_STDDEV)

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution,
                **super().get_config()}


class _Preset(VarianceScaling):
    """A VarianceScaling whose scale, mode and distribution are fixed (``_ARGS``); only the seed varies."""

    _ARGS = None

    def __init__(self, seed=None):
        super().__init__(*self._ARGS, seed=seed)

    def get_config(self):
        return {"seed": self.seed}


class GlorotUniform(_Preset):
    """U(-l, l), l = sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio, 2010)."""

    _ARGS = (1.0, "fan_avg", "uniform")


class GlorotNormal(_Preset):
    """Truncated normal, stddev sqrt(2 / (fan_in + fan_out)) after truncation."""

    _ARGS = (1.0, "fan_avg", "truncated_normal")


class HeUniform(_Preset):
    """U(-l, l), l = sqrt(6 / fan_in) (He et al., 2015)."""

    _ARGS = (2.0, "fan_in", "uniform")


class HeNormal(_Preset):
    """Truncated normal, stddev sqrt(2 / fan_in) after truncation."""

    _ARGS = (2.0, "fan_in", "truncated_normal")


# Keras' lowercase aliases
zeros, ones = Zeros, Ones
random_normal, random_uniform, truncated_normal = RandomNormal, RandomUniform, TruncatedNormal
variance_scaling = VarianceScaling
glorot_uniform, glorot_normal, he_uniform, he_normal = GlorotUniform, GlorotNormal, HeUniform, HeNormal

_BY_NAME = {"zeros": Zeros, "ones": Ones, "random_normal": RandomNormal,
            "random_uniform": RandomUniform, "truncated_normal": TruncatedNormal,
            "variance_scaling": VarianceScaling, "glorot_uniform": GlorotUniform,
            "glorot_normal": GlorotNormal, "he_uniform": HeUniform, "he_normal": HeNormal}


def get(identifier):
    """An initializer from a name, an Initializer class or instance, or a callable; None -> None."""
    return resolve(identifier, "initializer", Initializer, _BY_NAME)
