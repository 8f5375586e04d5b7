"""Activation layers with Keras 3's names and arguments: Activation, ReLU, LeakyReLU, ELU, Softmax
and PReLU. The kernels' activations (core.resolve_activation) run natively; the others in NumPy with
torch's gradients (nnfast.activation_gradients), PReLU with its learned alpha."""
import functools
import math

import numpy as np

from .. import activations
from ..initializers import keras_defaults as keras_initializers  # names as Keras 3 means them
from ..utils import checks
from ..utils.registry import serialize
from .base import Layer, WeightSpec, unsupported
from .core import activation_config, resolve_activation


class Activation(Layer):
    """y = activation(x), element-wise (softmax and log_softmax: over the last axis)."""

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation, self.numpy_activation = resolve_activation(activation)

    def forward(self, backend, x, training):
        y = self.buffer("y", x.shape, x.dtype)
        self._x = x
        if self.numpy_activation is not None:
            self._y = self.numpy_activation.forward(x, y)
        else:
            self._y = backend.activation_forward(x, self.activation, y)
        return self._y

    def backward(self, backend, dy, need_dx):
        dx = self.buffer("dx", dy.shape, dy.dtype)
        if self.numpy_activation is not None:
            return self.numpy_activation.backward(self._x, self._y, dy, dx)
        return backend.activation_backward(self._y, dy, self.activation, dx)

    def get_config(self):
        return {**self.base_config(), "activation": activation_config(self.activation, self.numpy_activation)}


class ReLU(Activation):
    """Keras's ReLU layer: max(x, 0), values above max_value clipped, values at or below threshold
    set to 0 and negative_slope * (x - threshold) added below it. The defaults (and a slope of 0.2
    alone) run natively, other arguments in NumPy."""

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        self.max_value = checks.optional_real("max_value", max_value)  # each >= 0, as Keras checks
        self.negative_slope = checks.real("negative_slope", negative_slope)
        self.threshold = checks.real("threshold", threshold)
        super().__init__(functools.partial(activations.relu, negative_slope=self.negative_slope,
                                           max_value=self.max_value, threshold=self.threshold), **kwargs)

    def get_config(self):
        return {**self.base_config(), "max_value": self.max_value, "negative_slope": self.negative_slope,
                "threshold": self.threshold}


class LeakyReLU(Activation):
    """x if x > 0 else negative_slope * x (Keras's default slope 0.3; `alpha` is its old name). The
    kernels' slope is 0.2 (Keras's "leaky_relu" string): that slope runs natively, any other in NumPy."""

    def __init__(self, negative_slope=0.3, **kwargs):
        if "alpha" in kwargs:
            negative_slope = kwargs.pop("alpha")
        self.negative_slope = checks.real("negative_slope", negative_slope)
        super().__init__(functools.partial(activations.leaky_relu, negative_slope=self.negative_slope), **kwargs)

    def get_config(self):
        return {**self.base_config(), "negative_slope": self.negative_slope}


class ELU(Activation):
    """x if x > 0 else alpha * (exp(x) - 1) (Keras's ELU layer), in NumPy."""

    def __init__(self, alpha=1.0, **kwargs):
        self.alpha = checks.real("alpha", alpha, lo=-math.inf)  # any alpha, as Keras
        super().__init__(functools.partial(activations.elu, alpha=self.alpha), **kwargs)

    def get_config(self):
        return {**self.base_config(), "alpha": self.alpha}


class Softmax(Activation):
    """softmax over the last axis (Keras's Softmax layer with axis=-1)."""

    def __init__(self, axis=-1, **kwargs):
        if axis != -1:
            raise NotImplementedError(f"Softmax(axis={axis!r}) is not supported by nnfast: only axis=-1")
        super().__init__("softmax", **kwargs)

    def get_config(self):
        return {**self.base_config(), "axis": -1}


class PReLU(Layer):
    """Keras's PReLU: relu(x) - alpha * relu(-x), alpha learned per feature (or shared along
    `shared_axes`, counted from 1 after the batch axis), initialised to zeros. The gradients are
    torch's: dy where x > 0, alpha * dy where x < 0, 0 at 0; alpha's is the sum of -dy * relu(-x)
    over the batch (and the shared axes)."""

    def __init__(self, alpha_initializer="Zeros", alpha_regularizer=None, alpha_constraint=None, shared_axes=None,
                 **kwargs):
        unsupported("PReLU", alpha_regularizer=alpha_regularizer, alpha_constraint=alpha_constraint)
        super().__init__(**kwargs)
        self.alpha_initializer = keras_initializers.get(alpha_initializer)
        if shared_axes is not None and not isinstance(shared_axes, (list, tuple)):
            shared_axes = [shared_axes]
        self.shared_axes = None if shared_axes is None else [checks.integer("shared_axes", a, lo=1)
                                                             for a in shared_axes]

    def compute_output_shape(self, input_shape):
        for axis in self.shared_axes or []:
            if axis > len(input_shape):
                raise ValueError(f"shared_axes must name axes 1 .. {len(input_shape)} of samples of shape "
                                 f"{input_shape}, got {self.shared_axes}")
        return input_shape

    def weight_specs(self):
        shape = list(self.input_shape)
        for axis in self.shared_axes or []:
            shape[axis - 1] = 1
        return [WeightSpec("alpha", tuple(shape), self.alpha_initializer)]

    def forward(self, backend, x, training):
        self._x = x
        y = self.buffer("y", x.shape, x.dtype)
        negative = np.minimum(x, x.dtype.type(0.0), out=self.buffer("negative", x.shape, x.dtype))
        np.multiply(negative, self.weights[0], out=y)  # Keras's (-alpha) * relu(-x), the same bits
        return np.add(np.maximum(x, x.dtype.type(0.0), out=self.buffer("positive", x.shape, x.dtype)), y, out=y)

    def backward(self, backend, dy, need_dx):
        x, alpha, zero = self._x, self.weights[0], dy.dtype.type(0.0)
        slope, work = self.buffer("slope", dy.shape, dy.dtype), self.buffer("work", dy.shape, dy.dtype)
        if self.grads[0] is not None:  # -sum(dy * relu(-x)) over the batch (and the shared axes)
            np.multiply(dy, np.minimum(x, zero, out=work), out=work)
            np.copyto(self.grads[0], np.sum(work, axis=(0,) + tuple(self.shared_axes or ())).reshape(alpha.shape))
        np.multiply(np.less(x, zero, out=slope, casting="unsafe"), alpha, out=slope)  # alpha where x < 0,
        slope += np.greater(x, zero, out=work, casting="unsafe")  # 1 where x > 0, 0 at 0 (as torch)
        return np.multiply(dy, slope, out=self.buffer("dx", dy.shape, dy.dtype))

    def get_config(self):
        return {**self.base_config(), "alpha_initializer": serialize(self.alpha_initializer),
                "alpha_regularizer": None, "alpha_constraint": None, "shared_axes": self.shared_axes}
