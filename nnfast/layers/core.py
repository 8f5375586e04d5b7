"""Core layers: Dense, Activation (and ReLU, LeakyReLU, Softmax), Dropout, with Keras 3's
constructor arguments. An activation is a name or an nnfast.activations function; a layer stays on
the native kernels when its activation is one they compute (linear, relu, leaky_relu with slope
0.2, sigmoid, tanh, softmax), and any other is refused with NotImplementedError for now."""
import numpy as np

from .. import activations, initializers, regularizers
from ..reference import LEAKY_RELU_SLOPE
from ..utils import checks
from ..utils.registry import serialize
from .base import Layer, WeightSpec, unsupported


def kernel_activation(activation, argument="activation"):
    """The native kernels' name for `activation` (a name, an nnfast.activations function or None)."""
    name = activations.kernel_activation(activation)
    if name is None:
        raise NotImplementedError(f"{argument}={activation!r} is not supported by nnfast's layers yet: they run "
                                  "linear, relu, leaky_relu (slope 0.2), sigmoid, tanh and softmax natively")
    return name


class Dense(Layer):
    """y = activation(x @ kernel + bias), kernel of shape (input_dim, units) as in Keras. Takes flat
    features (put a Flatten before it for images)."""

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None, lora_rank=None,
                 lora_alpha=None, **kwargs):
        unsupported("Dense", bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
                    bias_constraint=bias_constraint, lora_rank=lora_rank, lora_alpha=lora_alpha)
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.units = checks.integer("units", units, lo=1)
        self.activation = kernel_activation(activation)
        self.use_bias = checks.truth("use_bias", use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 1:
            raise ValueError(f"Dense takes flat features, (batch, features), got samples of shape {input_shape}: "
                             "put a Flatten layer before it")
        return (self.units,)

    def weight_specs(self):
        specs = [WeightSpec("kernel", (self.input_dim, self.units), self.kernel_initializer)]
        if self.use_bias:
            specs.append(WeightSpec("bias", (self.units,), self.bias_initializer))
        return specs

    # the parameters and their gradients (views into the model's arenas once built)
    kernel = property(lambda self: self.weights[0], doc="(input_dim, units)")
    bias = property(lambda self: self.weights[1] if self.use_bias else None, doc="(units,) or None")
    kernel_grad = property(lambda self: self.grads[0], doc="(input_dim, units)")
    bias_grad = property(lambda self: self.grads[1] if self.use_bias else None, doc="(units,) or None")

    @property
    def kernel_activation(self):
        """The activation the kernels apply: linear when the softmax is fused with the loss."""
        return "linear" if self.fused_softmax else self.activation

    def output_buffer(self, batch):
        """The output buffer for this batch size (written by forward, or by the one-call step)."""
        return self.buffer("y", (batch, self.units), self.weights[0].dtype)

    def forward(self, backend, x, training):
        y = self.buffer("y", (len(x), self.units), x.dtype)
        self._x, self._y = x, backend.dense_forward(x, self.kernel, self.bias, self.kernel_activation, y)
        return self._y

    def backward(self, backend, dy, need_dx):
        dx = self.buffer("dx", (len(dy), self.input_dim), dy.dtype) if need_dx else None
        backend.dense_backward(self._x, self.kernel, self._y, dy, self.kernel_activation, dx,
                               self.kernel_grad, self.bias_grad)
        if self.kernel_regularizer is not None:
            kernel = self.kernel
            penalty = self.buffer("dpenalty", kernel.shape, kernel.dtype)
            self.kernel_grad[...] += self.kernel_regularizer.gradient(kernel, out=penalty)
        return dx

    def regularization(self):
        return 0.0 if self.kernel_regularizer is None else float(self.kernel_regularizer(self.kernel))

    def get_config(self):
        return {**self.base_config(), "units": self.units, "activation": self.activation,
                "use_bias": self.use_bias, "kernel_initializer": serialize(self.kernel_initializer),
                "bias_initializer": serialize(self.bias_initializer),
                "kernel_regularizer": serialize(self.kernel_regularizer)}


class Dropout(Layer):
    """Inverted dropout while training (identity otherwise), masks from a seeded counter-based
    stream drawn natively: the same seed gives the same masks on both backends (not Keras's masks:
    its random stream is another)."""

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        unsupported("Dropout", noise_shape=noise_shape)
        super().__init__(**kwargs)
        self.rate = checks.real("rate", rate, 0.0, 1.0, hi_open=True)
        self.seed = checks.optional_integer("seed", seed)
        self._calls = 0

    def set_seed(self, seed):
        """The model seeds a Dropout that has no seed of its own."""
        if self.seed is None:
            self.seed = int(seed)

    def forward(self, backend, x, training):
        self._active = training and self.rate > 0
        if not self._active:
            return x
        y = self.buffer("y", x.shape, x.dtype)
        mask = self.buffer("mask", x.shape, np.uint8)
        stream = (int(self.seed or 0) * 0x9E3779B97F4A7C15 + self._calls) & 0xFFFFFFFFFFFFFFFF
        self._calls += 1
        backend.dropout_forward(x, self.rate, stream, y, mask)
        self._mask = mask
        return y

    def backward(self, backend, dy, need_dx):
        if not self._active:
            return dy
        dx = self.buffer("dx", dy.shape, dy.dtype)
        return backend.dropout_backward(dy, self._mask, self.rate, dx)

    def get_config(self):
        return {**self.base_config(), "rate": self.rate, "seed": self.seed}

    def get_state(self):
        return {"calls": self._calls}  # where the random stream continues

    def set_state(self, state):
        self._calls = int(state.get("calls", 0))


class Activation(Layer):
    """y = activation(x), element-wise (softmax: over the last axis)."""

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = kernel_activation(activation)

    def forward(self, backend, x, training):
        y = self.buffer("y", x.shape, x.dtype)
        self._y = backend.activation_forward(x, self.activation, y)
        return self._y

    def backward(self, backend, dy, need_dx):
        dx = self.buffer("dx", dy.shape, dy.dtype)
        return backend.activation_backward(self._y, dy, self.activation, dx)

    def get_config(self):
        return {**self.base_config(), "activation": self.activation}


class ReLU(Activation):
    """max(x, 0) (Keras's ReLU layer; its max_value, a negative_slope other than 0 and a threshold
    other than 0 are not supported)."""

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        unsupported("ReLU", max_value=max_value, negative_slope=negative_slope or None, threshold=threshold or None)
        super().__init__("relu", **kwargs)

    def get_config(self):
        return self.base_config()


class LeakyReLU(Layer):
    """x if x > 0 else negative_slope * x (Keras's default slope 0.3; `alpha` is its old name). The
    kernels' slope is 0.2 (Keras's "leaky_relu" string): that slope runs natively, any other in NumPy."""

    def __init__(self, negative_slope=0.3, **kwargs):
        if "alpha" in kwargs:
            negative_slope = kwargs.pop("alpha")
        super().__init__(**kwargs)
        self.negative_slope = checks.real("negative_slope", negative_slope)
        self.activation = "leaky_relu" if self.negative_slope == LEAKY_RELU_SLOPE else None

    def forward(self, backend, x, training):
        y = self.buffer("y", x.shape, x.dtype)
        if self.activation is not None:
            self._y = backend.activation_forward(x, self.activation, y)
        else:
            self._y = np.multiply(x, np.where(x > 0, 1, self.negative_slope).astype(x.dtype), out=y)
        return self._y

    def backward(self, backend, dy, need_dx):
        dx = self.buffer("dx", dy.shape, dy.dtype)
        if self.activation is not None:
            return backend.activation_backward(self._y, dy, self.activation, dx)
        # from the output, as the kernels do: y > 0 exactly where x > 0 (the slope is >= 0)
        return np.multiply(dy, np.where(self._y > 0, 1, self.negative_slope).astype(dy.dtype), out=dx)

    def get_config(self):
        return {**self.base_config(), "negative_slope": self.negative_slope}


class Softmax(Activation):
    """softmax over the last axis (Keras's Softmax layer with axis=-1)."""

    def __init__(self, axis=-1, **kwargs):
        if axis != -1:
            raise NotImplementedError(f"Softmax(axis={axis!r}) is not supported by nnfast: only axis=-1")
        super().__init__("softmax", **kwargs)

    def get_config(self):
        return {**self.base_config(), "axis": -1}
