"""The Orthogonal initializer (Saxe et al., 2014), by Keras' construction."""
import math

import numpy as np

from ..utils import checks
from .base import RandomInitializer

__all__ = ["Orthogonal"]


class Orthogonal(RandomInitializer):
    """``gain`` times a random orthogonal matrix, at least 2-D.

    The shape is flattened to ``rows = prod(shape[:-1])`` by ``cols = shape[-1]``. As Keras: a
    normal (max(rows, cols), min(rows, cols)) matrix is factored ``Q R``, Q's columns are multiplied
    by the signs of R's diagonal (which makes Q uniformly distributed), and Q is transposed when
    rows < cols. So the columns are orthonormal when rows >= cols (Q^T Q = I), else the rows
    (Q Q^T = I). A zero on R's diagonal (probability 0) counts as positive here.
    """

    def __init__(self, gain=1.0, seed=None):
        super().__init__(seed)
        self.gain = checks.real("gain", gain, -math.inf, math.inf, lo_open=True, hi_open=True)

    def _sample(self, rng, shape):
        if len(shape) < 2:
            raise ValueError(f"shape must be at least 2-D for the Orthogonal initializer, got {shape}")
        rows, cols = math.prod(shape[:-1]), shape[-1]
        if rows == 0 or cols == 0:
            return np.zeros(shape)
        q, r = np.linalg.qr(rng.standard_normal((max(rows, cols), min(rows, cols))))
        q *= np.where(np.diag(r) < 0, -1.0, 1.0)
        if rows < cols:
            q = q.T
        return self.gain * q.reshape(shape)

    def get_config(self):
        return {"gain": self.gain, **super().get_config()}
