"""Layers of a Sequential model: Dense, Dropout, Activation.

A layer declares its parameters (name, shape, initializer); the model allocates every parameter
and gradient in one contiguous arena and hands each layer views into it. Forward and backward
write into buffers the layer keeps per batch size, so the training step allocates nothing.
"""
import numpy as np

from . import initializers, regularizers
from .reference import ACTIVATIONS
from .utils import checks
from .utils.registry import serialize


def _activation_name(activation):
    name = "linear" if activation is None else activation
    if not isinstance(name, str) or name not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {', '.join(ACTIVATIONS)} or None, got {activation!r}")
    return name


class Layer:
    """Base class: no parameters, identity shape."""

    fused_softmax = False  # only a softmax Dense output layer is ever fused with its loss

    def __init__(self, name=None):
        self.name = name
        self.input_dim = None
        self.output_dim = None
        self._buffers = {}

    def param_specs(self):
        """[(name, shape, initializer)] of the trainable parameters, in arena order."""
        return []

    def bind(self, params, grads):
        """Receive views into the model's parameter and gradient arenas (param_specs order)."""
        self.params, self.grads = params, grads

    def build(self, input_dim):
        self.input_dim = input_dim
        self.output_dim = input_dim
        return self.output_dim

    def buffer(self, key, shape, dtype):
        """A reusable array for (key, shape): allocated once per batch size. The model's trainer
        and native-step planner use the same buffers the layer's forward and backward write."""
        b = self._buffers.get((key, shape))
        if b is None:
            b = self._buffers[(key, shape)] = np.empty(shape, dtype)
        return b

    def regularization(self):
        """Penalty added to the loss (adds its gradient to the parameter gradients)."""
        return 0.0

    def get_config(self):
        """The constructor arguments: ``type(layer).from_config(layer.get_config())`` rebuilds it."""
        return {"name": self.name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def get_state(self):
        """Run-time state a saved model must restore to continue identically (beyond weights)."""
        return {}

    def set_state(self, state):
        pass

    def __repr__(self):
        return f"{type(self).__name__}({self.get_config()})"


class Dense(Layer):
    """y = activation(x @ kernel + bias), kernel of shape (input_dim, units) as in Keras."""

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, input_dim=None, input_shape=None,
                 name=None):
        super().__init__(name)
        self.units = checks.integer("units", units, lo=1)
        self.activation = _activation_name(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        if input_shape is not None:
            if len(tuple(input_shape)) != 1:
                raise ValueError(f"input_shape must be 1-D, like (784,), got {input_shape!r}")
            input_dim = tuple(input_shape)[0]
        self.declared_input_dim = None if input_dim is None else int(input_dim)
        self.fused_softmax = False  # set by the model: forward gives logits, backward takes dlogits

    def build(self, input_dim):
        self.input_dim, self.output_dim = input_dim, self.units
        return self.units

    def param_specs(self):
        specs = [("kernel", (self.input_dim, self.units), self.kernel_initializer)]
        if self.use_bias:
            specs.append(("bias", (self.units,), self.bias_initializer))
        return specs

    # the parameters and their gradients (views into the model's arenas once built)
    kernel = property(lambda self: self.params[0], doc="(input_dim, units)")
    bias = property(lambda self: self.params[1] if self.use_bias else None, doc="(units,) or None")
    kernel_grad = property(lambda self: self.grads[0], doc="(input_dim, units)")
    bias_grad = property(lambda self: self.grads[1] if self.use_bias else None, doc="(units,) or None")

    @property
    def kernel_activation(self):
        """The activation the kernels apply: linear when the softmax is fused with the loss."""
        return "linear" if self.fused_softmax else self.activation

    def output_buffer(self, batch):
        """The output buffer for this batch size (written by forward, or by the one-call step)."""
        return self.buffer("y", (batch, self.units), self.params[0].dtype)

    def forward(self, backend, x, training):
        y = self.buffer("y", (len(x), self.units), x.dtype)
        b = self.params[1] if self.use_bias else None
        self._x, self._y = x, backend.dense_forward(x, self.params[0], b, self.kernel_activation, y)
        return self._y

    def backward(self, backend, dy, need_dx):
        dx = self.buffer("dx", (len(dy), self.input_dim), dy.dtype) if need_dx else None
        db = self.grads[1] if self.use_bias else None
        backend.dense_backward(self._x, self.params[0], self._y, dy, self.kernel_activation, dx,
                               self.grads[0], db)
        if self.kernel_regularizer is not None:
            kernel = self.params[0]
            penalty = self.buffer("dpenalty", kernel.shape, kernel.dtype)
            self.grads[0] += self.kernel_regularizer.gradient(kernel, out=penalty)
        return dx

    def regularization(self):
        return 0.0 if self.kernel_regularizer is None else float(self.kernel_regularizer(self.params[0]))

    def get_config(self):
        return {"name": self.name, "units": self.units, "activation": self.activation,
                "use_bias": self.use_bias, "kernel_initializer": serialize(self.kernel_initializer),
                "bias_initializer": serialize(self.bias_initializer),
                "kernel_regularizer": serialize(self.kernel_regularizer), "input_dim": self.declared_input_dim}


class Dropout(Layer):
    """Inverted dropout while training (identity otherwise), masks from a seeded counter-based
    stream drawn natively: the same seed gives the same masks on both backends."""

    def __init__(self, rate, seed=None, name=None):
        super().__init__(name)
        self.rate = checks.real("rate", rate, 0.0, 1.0, hi_open=True)
        self.seed = seed
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
        return {"name": self.name, "rate": self.rate, "seed": self.seed}

    def get_state(self):
        return {"calls": self._calls}  # where the random stream continues

    def set_state(self, state):
        self._calls = int(state.get("calls", 0))


class Activation(Layer):
    """y = activation(x), element-wise (softmax: over each row)."""

    def __init__(self, activation, name=None):
        super().__init__(name)
        self.activation = _activation_name(activation)

    def forward(self, backend, x, training):
        y = self.buffer("y", x.shape, x.dtype)
        self._y = backend.activation_forward(x, self.activation, y)
        return self._y

    def backward(self, backend, dy, need_dx):
        dx = self.buffer("dx", dy.shape, dy.dtype)
        return backend.activation_backward(self._y, dy, self.activation, dx)

    def get_config(self):
        return {"name": self.name, "activation": self.activation}


LAYERS = {"Dense": Dense, "Dropout": Dropout, "Activation": Activation}
