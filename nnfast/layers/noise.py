"""Regularization layers that add or multiply noise while training, the identity otherwise:
GaussianNoise and GaussianDropout, with Keras 3's arguments. Their noise comes from NumPy's
generator, seeded from the layer's seed and a count of the training forwards (as Dropout's masks,
the same seed gives the same noise; Keras's own random stream is another)."""
import math

import numpy as np

from ..utils import checks
from .base import Layer


class NoiseLayer(Layer):
    """Base: a seed (the model seeds a layer that has none) and the count of noisy forwards."""

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = checks.optional_integer("seed", seed)
        self._calls = 0

    def set_seed(self, seed):
        """The model seeds a layer that has no seed of its own."""
        if self.seed is None:
            self.seed = int(seed)

    def standard_normal(self, shape, dtype):
        """The next draw of N(0, 1) noise of this shape."""
        rng = np.random.default_rng([int(self.seed or 0) & 0xFFFFFFFFFFFFFFFF, self._calls])
        self._calls += 1
        return rng.standard_normal(shape, dtype=dtype)

    def get_state(self):
        return {"calls": self._calls}  # where the noise continues

    def set_state(self, state):
        self._calls = int(state.get("calls", 0))


class GaussianNoise(NoiseLayer):
    """x + N(0, stddev^2) noise while training (Keras's GaussianNoise); the gradient passes unchanged."""

    def __init__(self, stddev, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.stddev = checks.real("stddev", stddev, 0.0, 1.0)

    def forward(self, backend, x, training):
        self._active = bool(training) and self.stddev > 0
        if not self._active:
            return x
        y = self.buffer("y", x.shape, x.dtype)
        noise = self.standard_normal(x.shape, x.dtype)
        noise *= x.dtype.type(self.stddev)
        return np.add(x, noise, out=y)

    def backward(self, backend, dy, need_dx):
        return dy

    def get_config(self):
        return {**self.base_config(), "stddev": self.stddev, "seed": self.seed}


class GaussianDropout(NoiseLayer):
    """x * N(1, rate / (1 - rate)) noise while training (Keras's GaussianDropout); the gradient is
    dy times the same noise."""

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.rate = checks.real("rate", rate, 0.0, 1.0, hi_open=True)  # Keras takes 1, then divides by 0

    def forward(self, backend, x, training):
        self._active = bool(training) and self.rate > 0
        if not self._active:
            return x
        y = self.buffer("y", x.shape, x.dtype)
        self._noise = self.standard_normal(x.shape, x.dtype)
        self._noise *= x.dtype.type(math.sqrt(self.rate / (1.0 - self.rate)))
        self._noise += x.dtype.type(1.0)
        return np.multiply(x, self._noise, out=y)

    def backward(self, backend, dy, need_dx):
        if not self._active:
            return dy
        return np.multiply(dy, self._noise, out=self.buffer("dx", dy.shape, dy.dtype))

    def get_config(self):
        return {**self.base_config(), "rate": self.rate, "seed": self.seed}
