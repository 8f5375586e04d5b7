"""Regularization layers that add or multiply noise while training, the identity otherwise:
GaussianNoise, GaussianDropout and AlphaDropout, with Keras 3's arguments. Their noise comes from
NumPy's generator, seeded from the layer's seed and a count of the training forwards (as
Dropout's masks, the same seed gives the same noise; Keras's own random stream is another)."""
import math

import numpy as np

from ..activations import SELU_ALPHA, SELU_SCALE
from ..utils import checks
from .base import Layer, unsupported


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

    def next_generator(self):
        """The generator of the next training forward's noise."""
        rng = np.random.default_rng([int(self.seed or 0) & 0xFFFFFFFFFFFFFFFF, self._calls])
        self._calls += 1
        return rng

    def standard_normal(self, shape, dtype):
        """The next draw of N(0, 1) noise of this shape."""
        return self.next_generator().standard_normal(shape, dtype=dtype)

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


class RateNoiseLayer(NoiseLayer):
    """Base of the dropouts with a rate in [0, 1) (Keras takes 1, then divides by 0)."""

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.rate = checks.real("rate", rate, 0.0, 1.0, hi_open=True)

    def get_config(self):
        return {**self.base_config(), "rate": self.rate, "seed": self.seed}


class GaussianDropout(RateNoiseLayer):
    """x * N(1, rate / (1 - rate)) noise while training (Keras's GaussianDropout); the gradient is
    dy times the same noise."""

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


class AlphaDropout(RateNoiseLayer):
    """Keras's AlphaDropout, for selu networks: while training, each value is kept with probability
    1 - rate or set to selu's negative saturation -alpha * scale, then a * x + b restores the mean
    and variance (a = ((1 - rate) (1 + rate alpha_p^2))^-1/2, b = -a alpha_p rate); the gradient is
    a * dy where kept, 0 elsewhere."""

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        unsupported("AlphaDropout", noise_shape=noise_shape)
        super().__init__(rate, seed=seed, **kwargs)

    def forward(self, backend, x, training):
        self._active = bool(training) and self.rate > 0
        if not self._active:
            return x
        alpha_p = -SELU_ALPHA * SELU_SCALE
        a = ((1 - self.rate) * (1 + self.rate * alpha_p**2)) ** -0.5
        self._kept = (self.next_generator().random(x.shape, dtype=x.dtype) >= x.dtype.type(self.rate)).astype(x.dtype)
        self._scale = x.dtype.type(a)
        y = self.buffer("y", x.shape, x.dtype)
        np.multiply(x, self._kept, out=y)  # Keras: a * (x * kept + alpha_p * (1 - kept)) + b
        y += x.dtype.type(alpha_p) * (1 - self._kept)
        y *= self._scale
        y += x.dtype.type(-a * alpha_p * self.rate)
        return y

    def backward(self, backend, dy, need_dx):
        if not self._active:
            return dy
        dx = self.buffer("dx", dy.shape, dy.dtype)
        np.multiply(dy, self._scale, out=dx)
        return np.multiply(dx, self._kept, out=dx)
