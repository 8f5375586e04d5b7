"""Initializers with fixed distribution parameters: RandomNormal, TruncatedNormal, RandomUniform."""
import math

from ..utils import checks
from .base import RandomInitializer, draw_truncated_normal

__all__ = ["RandomNormal", "TruncatedNormal", "RandomUniform", "NOTES_NORMAL_STDDEV", "KERAS_NORMAL_STDDEV"]

# RandomNormal's default stddev in nnfast: the lecture notes' np.random.randn. Keras' is 0.05
# (nnfast.keras.initializers.RandomNormal uses that one).
NOTES_NORMAL_STDDEV = 1.0
KERAS_NORMAL_STDDEV = 0.05


class NormalInitializer(RandomInitializer):
    """A normal distribution's mean and stddev (finite; stddev > 0), checked and in the config."""

    def __init__(self, mean, stddev, seed):
        super().__init__(seed)
        self.mean = checks.real("mean", mean, -math.inf, math.inf, lo_open=True, hi_open=True)
        self.stddev = checks.real("stddev", stddev, 0.0, math.inf, lo_open=True, hi_open=True)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, **super().get_config()}


class RandomNormal(NormalInitializer):
    """N(mean, stddev).

    nnfast's default stddev is 1.0, the lecture notes' ``np.random.randn``; Keras' is 0.05, which
    ``nnfast.keras.initializers.RandomNormal`` (a subclass differing only in that default) has. The
    config always carries the stddev, so a serialized initializer means the same in both.
    """

    def __init__(self, mean=0.0, stddev=NOTES_NORMAL_STDDEV, seed=None):
        super().__init__(mean, stddev, seed)

    def _sample(self, rng, shape):
        return rng.normal(self.mean, self.stddev, shape)


class TruncatedNormal(NormalInitializer):
    """N(mean, stddev) with values further than 2 stddev from the mean redrawn (Keras' default
    stddev 0.05)."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        super().__init__(mean, stddev, seed)

    def _sample(self, rng, shape):
        return draw_truncated_normal(rng, shape, self.mean, self.stddev)


class RandomUniform(RandomInitializer):
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
