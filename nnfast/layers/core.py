"""Core layers: Dense and Dropout, with Keras 3's constructor arguments, and how a layer runs an
activation (Dense's, and activation_layers' Activation, ReLU, ...). An activation is a name or an
nnfast.activations function (or a functools.partial of one). A layer runs it in the native
kernels when they compute it (linear, relu, leaky_relu with slope 0.2, sigmoid, tanh, softmax);
any other activation that keeps the shape (elu, gelu, swish, relu with a max_value, ...) runs in
NumPy with the gradient Keras's torch backend takes (nnfast.activation_gradients), and such a
model trains in the Python loop, not the one-call native step. glu, sparsemax and foreign
callables are refused with NotImplementedError."""
import numpy as np

from .. import activations, constraints, regularizers
from ..initializers import keras_defaults as keras_initializers  # names as Keras 3 means them
from ..activation_gradients import numpy_activation
from ..utils import checks
from ..utils.registry import serialize
from .base import Layer, WeightSpec, unsupported


def resolve_activation(activation, argument="activation"):
    """(kernel activation, NumpyActivation or None) for an activation identifier: the kernels' name
    and None when they compute it, else "linear" and the NumPy function applied after them."""
    name = activations.kernel_activation(activation)
    if name is not None:
        return name, None
    in_numpy = numpy_activation(activation)
    if in_numpy is None:
        raise NotImplementedError(f"{argument}={activation!r} is not supported by nnfast's layers: they run every "
                                  "activation of keras.activations that keeps the shape, not glu, sparsemax, "
                                  "softmax over another axis or a callable of your own")
    return "linear", in_numpy


def activation_config(kernel_name, in_numpy):
    """The activation's name for a config (Keras stores the function's name)."""
    if in_numpy is None:
        return kernel_name
    if in_numpy.keywords:
        raise TypeError(f"an activation with arguments ({in_numpy.name} with {in_numpy.keywords}) cannot be saved in "
                        "a config: use a layer that takes them (ReLU, LeakyReLU, ELU) instead")
    return in_numpy.name


class Dense(Layer):
    """y = activation(x @ kernel + bias), kernel of shape (input_dim, units) as in Keras. Takes flat
    features (put a Flatten before it for images)."""

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None, lora_rank=None,
                 lora_alpha=None, **kwargs):
        unsupported("Dense", lora_rank=lora_rank, lora_alpha=lora_alpha)
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.units = checks.integer("units", units, lo=1)
        self.activation, self.numpy_activation = resolve_activation(activation)
        self.use_bias = checks.truth("use_bias", use_bias)
        self.kernel_initializer = keras_initializers.get(kernel_initializer)
        self.bias_initializer = keras_initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.for_training("kernel_regularizer", kernel_regularizer)
        self.bias_regularizer = regularizers.for_training("bias_regularizer", bias_regularizer)
        self.kernel_constraint = constraints.checked("kernel_constraint", kernel_constraint, ndim=2)
        self.bias_constraint = constraints.checked("bias_constraint", bias_constraint, ndim=1)

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
        z = y if self.numpy_activation is None else self.buffer("z", y.shape, y.dtype)
        self._x, self._z = x, backend.dense_forward(x, self.kernel, self.bias, self.kernel_activation, z)
        self._y = self._z if self.numpy_activation is None else self.numpy_activation.forward(self._z, y)
        return self._y

    def backward(self, backend, dy, need_dx):
        if self.numpy_activation is not None:  # back through the NumPy activation to z, then the kernels' linear
            dy = self.numpy_activation.backward(self._z, self._y, dy, self.buffer("dz", dy.shape, dy.dtype))
        dx = self.buffer("dx", (len(dy), self.input_dim), dy.dtype) if need_dx else None
        backend.dense_backward(self._x, self.kernel, self._z, dy, self.kernel_activation, dx,
                               self.kernel_grad, self.bias_grad)
        self.add_regularizer_gradients()
        return dx

    def weight_regularizers(self):
        triples = [(self.kernel, self.kernel_grad, self.kernel_regularizer),
                   (self.bias, self.bias_grad, self.bias_regularizer)]
        return [(w, g, r) for w, g, r in triples if w is not None and r is not None]

    def weight_constraints(self):
        pairs = [(self.kernel, self.kernel_constraint), (self.bias, self.bias_constraint)]
        return [(w, c) for w, c in pairs if w is not None and c is not None]

    def get_config(self):
        return {**self.base_config(), "units": self.units,
                "activation": activation_config(self.activation, self.numpy_activation),
                "use_bias": self.use_bias, "kernel_initializer": serialize(self.kernel_initializer),
                "bias_initializer": serialize(self.bias_initializer),
                "kernel_regularizer": serialize(self.kernel_regularizer),
                "bias_regularizer": serialize(self.bias_regularizer),
                "kernel_constraint": serialize(self.kernel_constraint),
                "bias_constraint": serialize(self.bias_constraint)}


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
