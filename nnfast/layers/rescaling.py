"""Rescaling: y = x * scale + offset (Keras's preprocessing layer, as image programs put it first:
``Rescaling(1 / 255)``). No weights; the gradient is dy * scale."""
import numpy as np

from ..utils import checks
from .base import Layer


class Rescaling(Layer):
    """y = x * scale + offset, in the model's dtype (scale and offset are numbers)."""

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = checks.number("scale", scale)
        self.offset = checks.number("offset", offset)

    def forward(self, backend, x, training):
        y = self.buffer("y", x.shape, x.dtype)
        np.multiply(x, x.dtype.type(self.scale), out=y)
        y += x.dtype.type(self.offset)
        return y

    def backward(self, backend, dy, need_dx):
        return np.multiply(dy, dy.dtype.type(self.scale), out=self.buffer("dx", dy.shape, dy.dtype))

    def get_config(self):
        return {**self.base_config(), "scale": self.scale, "offset": self.offset}
