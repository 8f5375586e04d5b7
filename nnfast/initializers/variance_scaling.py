"""VarianceScaling and its fixed-argument presets: Glorot, He and LeCun, uniform and normal."""
import math

from ..utils import checks
from .base import RandomInitializer, compute_fans, draw_truncated_normal

__all__ = ["VarianceScaling", "GlorotUniform", "GlorotNormal", "HeUniform", "HeNormal", "LecunUniform",
           "LecunNormal"]

# stddev of a unit normal truncated to [-2, 2]; dividing by it restores the requested stddev
TRUNCATED_STDDEV = 0.87962566103423978


def optional_axes(name, axes):
    """None, or the axes as a list of ints (negative ones count from the end, as in Keras)."""
    if axes is None:
        return None
    if isinstance(axes, (str, bytes)) or not hasattr(axes, "__iter__"):
        raise TypeError(f"{name} must be a list of ints or None, got {axes!r}")
    return [checks.integer(name, axis, lo=None) for axis in axes]


class VarianceScaling(RandomInitializer):
    """Values with variance ``scale / n``, n = fan_in, fan_out or their mean (``mode``), at least 1.

    ``distribution``: "truncated_normal" (Keras also accepts "normal" for it; the stddev is
    corrected for the truncation), "untruncated_normal" or "uniform" (U(-l, l),
    l = sqrt(3 scale / n)); compared in lower case, as Keras. ``input_axes`` and ``output_axes``
    (both or neither) choose the axes whose sizes multiply into the fans (see ``compute_fans``).
    """

    MODES = ("fan_in", "fan_out", "fan_avg")
    DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform")

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None,
                 input_axes=None, output_axes=None):
        super().__init__(seed)
        self.scale = checks.real("scale", scale, 0.0, math.inf, lo_open=True, hi_open=True)
        self.mode = checks.one_of("mode", mode, self.MODES)
        distribution = checks.string("distribution", distribution).lower()
        distribution = "truncated_normal" if distribution == "normal" else distribution  # Keras' alias
        self.distribution = checks.one_of("distribution", distribution, self.DISTRIBUTIONS)
        self.input_axes = optional_axes("input_axes", input_axes)
        self.output_axes = optional_axes("output_axes", output_axes)

    def _sample(self, rng, shape):
        fan_in, fan_out = compute_fans(shape, self.input_axes, self.output_axes)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        variance = self.scale / max(1.0, n)
        if self.distribution == "uniform":
            limit = math.sqrt(3.0 * variance)
            return rng.uniform(-limit, limit, shape)
        if self.distribution == "untruncated_normal":
            return rng.normal(0.0, math.sqrt(variance), shape)
        return draw_truncated_normal(rng, shape, 0.0, math.sqrt(variance) / TRUNCATED_STDDEV)

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution,
                **super().get_config(), "input_axes": self.input_axes, "output_axes": self.output_axes}


class VarianceScalingPreset(VarianceScaling):
    """A VarianceScaling whose scale, mode and distribution are fixed (``PRESET``); the seed and the
    fan axes vary, and only they are in the config (as in Keras)."""

    PRESET = None

    def __init__(self, seed=None, input_axes=None, output_axes=None):
        super().__init__(*self.PRESET, seed=seed, input_axes=input_axes, output_axes=output_axes)

    def get_config(self):
        return {"seed": self.seed, "input_axes": self.input_axes, "output_axes": self.output_axes}


class GlorotUniform(VarianceScalingPreset):
    """U(-l, l), l = sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio, 2010); Keras' default kernel
    initializer."""

    PRESET = (1.0, "fan_avg", "uniform")


class GlorotNormal(VarianceScalingPreset):
    """Truncated normal, stddev sqrt(2 / (fan_in + fan_out)) after truncation."""

    PRESET = (1.0, "fan_avg", "truncated_normal")


class HeUniform(VarianceScalingPreset):
    """U(-l, l), l = sqrt(6 / fan_in) (He et al., 2015)."""

    PRESET = (2.0, "fan_in", "uniform")


class HeNormal(VarianceScalingPreset):
    """Truncated normal, stddev sqrt(2 / fan_in) after truncation."""

    PRESET = (2.0, "fan_in", "truncated_normal")


class LecunUniform(VarianceScalingPreset):
    """U(-l, l), l = sqrt(3 / fan_in) (LeCun et al., 1998)."""

    PRESET = (1.0, "fan_in", "uniform")


class LecunNormal(VarianceScalingPreset):
    """Truncated normal, stddev sqrt(1 / fan_in) after truncation (Klambauer et al., 2017: for selu)."""

    PRESET = (1.0, "fan_in", "truncated_normal")
