"""The Layer base class: Keras's constructor arguments, weights declared as specs and bound to
views of the model's arenas, per-batch-size buffers, shapes, configs, and calling a layer on a
symbolic tensor (the functional API).

A layer declares its weights (name, shape, initializer, trainable) in Keras's creation order; the
model allocates the weights it trains in one parameter arena (gradients in a twin arena) and the
others (frozen layers, moving statistics) in a state arena, and binds views to the layer. Forward
and backward write into buffers the layer keeps per batch size, so a training step allocates
nothing."""
import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .. import regularizers
from ..utils import aligned, checks
from ..utils.naming import auto_name, reset_names  # noqa: F401 (layers' default names; reset_names exported)
from ..utils.registry import serialize

FLOAT_DTYPES = ("float32", "float64")

@dataclass(frozen=True)
class WeightSpec:
    """One weight a layer declares: its name, shape, initializer and whether training updates it."""
    name: str
    shape: tuple
    initializer: Callable
    trainable: bool = True


def unsupported(owner, **arguments):
    """NotImplementedError naming each Keras argument given a value whose behaviour nnfast does not
    implement (None, or False for a flag, means "not used": nothing is silently ignored)."""
    given = [k for k, v in arguments.items() if v is not None and v is not False]
    if given:
        raise NotImplementedError(f"{owner}: the Keras argument(s) {', '.join(given)} are not supported by nnfast "
                                  "(see docs/keras.md)")


def feature_shape(name, value):
    """A per-sample shape (no batch axis) as a tuple of ints >= 1."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        value = (value,)
    try:
        shape = tuple(value)
    except TypeError:
        raise TypeError(f"{name} must be a tuple of ints, got {value!r}") from None
    for d in shape:
        checks.integer(name, d, lo=1)
    return tuple(int(d) for d in shape)


class Layer:
    """Base class: no weights, identity shape. Keras's base arguments: name, trainable, dtype,
    autocast, input_shape / input_dim / batch_size / batch_input_shape (the first layer of a
    Sequential model may declare its input shape)."""

    fused_softmax = False  # only a softmax Dense output layer is ever fused with its loss
    multiple_inputs = False  # Add and Concatenate take a list of inputs
    differentiable = True  # backward gives its input's gradient (not Lambda's arbitrary function)

    def __init__(self, name=None, trainable=True, dtype=None, autocast=True, input_shape=None, input_dim=None,
                 batch_size=None, batch_input_shape=None, activity_regularizer=None, weights=None):
        unsupported(type(self).__name__, weights=weights)
        if name is not None and not isinstance(name, str):
            raise TypeError(f"name must be a str, got {name!r}")
        self.name = auto_name(type(self).__name__) if name is None else name
        # a penalty on the layer's output, divided by the batch size, added to the loss (Keras 3)
        self.activity_regularizer = regularizers.for_training("activity_regularizer", activity_regularizer)
        self.trainable = checks.flag("trainable", trainable)
        self.autocast = checks.flag("autocast", autocast)  # one dtype per model: nothing to cast
        self.dtype = None if dtype is None else np.dtype(checks.one_of("dtype", np.dtype(dtype).name, FLOAT_DTYPES))
        if batch_input_shape is not None:
            batch_size, input_shape = batch_input_shape[0], tuple(batch_input_shape)[1:]
        if input_dim is not None:
            input_shape = (checks.integer("input_dim", input_dim, lo=1),)
        self.declared_input_shape = None if input_shape is None else feature_shape("input_shape", input_shape)
        self.batch_size = None if batch_size is None else checks.integer("batch_size", batch_size, lo=1)
        self.input_shape = self.output_shape = None
        self.built = False
        self.node = None  # the functional-API call that placed this layer in a graph
        self._buffers = {}

    # ---- shapes and weights ---------------------------------------------------------------------

    @property
    def declared_input_dim(self):
        """The declared input size of a layer taking flat features (None otherwise)."""
        shape = self.declared_input_shape
        return shape[0] if shape is not None and len(shape) == 1 else None

    # math.prod, not np.prod: these are read a few hundred times per fit call (planning the native
    # step), and np.prod of a short tuple costs about 3 us
    @property
    def input_dim(self):
        return None if self.input_shape is None else int(math.prod(self.input_shape))

    @property
    def output_dim(self):
        return None if self.output_shape is None else int(math.prod(self.output_shape))

    def compute_output_shape(self, input_shape):
        """The per-sample output shape for a per-sample input shape (identity here)."""
        return input_shape

    def build(self, input_shape):
        """Fix the input shape (per sample, no batch axis); returns the output shape."""
        self.input_shape = input_shape
        self.output_shape = self.compute_output_shape(input_shape)
        self.built = True
        return self.output_shape

    def weight_specs(self):
        """[WeightSpec] in Keras's creation order (so get_weights matches Keras's order)."""
        return []

    def bind(self, weights, grads):
        """Views of the model's arenas, aligned with weight_specs: `grads` holds None for a weight
        training does not update."""
        self.weights, self.grads = list(weights), list(grads)

    @property
    def trainable_weights(self):
        return [w for w, s in zip(self.weights, self.weight_specs()) if s.trainable and self.trainable]

    @property
    def non_trainable_weights(self):
        return [w for w, s in zip(self.weights, self.weight_specs()) if not (s.trainable and self.trainable)]

    def get_weights(self):
        return [w.copy() for w in getattr(self, "weights", [])]

    def set_weights(self, weights):
        """Copy arrays into the layer's weights (in get_weights order, shapes checked first)."""
        current = getattr(self, "weights", [])
        weights = [np.asarray(w) for w in weights]
        if len(weights) != len(current):
            raise ValueError(f"weights must hold {len(current)} arrays for layer {self.name!r}, got {len(weights)}")
        for i, (w, new) in enumerate(zip(current, weights)):
            if new.shape != w.shape:
                raise ValueError(f"weights[{i}] must have shape {w.shape}, got {new.shape}")
        for w, new in zip(current, weights):
            w[...] = new

    def count_params(self):
        if not self.built:  # its weights' shapes wait on its input's (Keras raises here too)
            raise ValueError(f"count_params needs layer {self.name!r} built, and it is not: its input shape is "
                             "unknown until the model has one (a keras.Input or input_shape=, or a first fit)")
        return sum(int(np.prod(s.shape)) for s in self.weight_specs())

    def buffer(self, key, shape, dtype):
        """A reusable array for (key, shape): allocated once per batch size, starting a cache line
        (nnfast.utils.aligned). The model's trainer and native-step planner use the same buffers
        the layer's forward and backward write."""
        b = self._buffers.get((key, shape))
        if b is None:
            b = self._buffers[(key, shape)] = aligned.zeros_shaped(shape, dtype)
        return b

    def no_gradient_message(self):
        """Why training cannot pass a gradient through this layer (one that is not differentiable)."""
        return (f"layer {self.name!r} ({type(self).__name__}) cannot form its input's gradient, and a trained "
                "layer comes before it")

    def check_samples(self, x, name):
        """Raises ValueError when samples x (the model's input `name`, converted) are values this
        layer cannot take though the model's checks passed them (Embedding: indices out of range).
        The model calls it on the layers its inputs feed, before any step."""

    def weight_regularizers(self):
        """[(weight, its gradient, regularizer)]: the penalties this layer adds to the loss."""
        return []

    def regularization(self):
        """The weight penalties added to the loss."""
        return sum(float(regularizer(weight)) for weight, _, regularizer in self.weight_regularizers())

    def add_regularizer_gradients(self):
        """Adds each weight penalty's gradient to its weight's gradient (after the layer's backward)."""
        for weight, grad, regularizer in self.weight_regularizers():
            grad[...] += regularizer.gradient(weight, out=self.buffer("dpenalty", weight.shape, weight.dtype))

    def weight_constraints(self):
        """[(weight, constraint)] to apply after each optimizer step (Keras's kernel_constraint, ...)."""
        return []

    # ---- the functional API -----------------------------------------------------------------------

    def __call__(self, inputs, training=None, mask=None):
        """Place this layer in a graph: ``y = Dense(10)(x)`` on symbolic tensors (keras.Input).
        Keras's `training` and `mask` arguments are refused: a layer runs in training mode inside
        fit and in inference mode in predict and evaluate, and nnfast has no masks."""
        from ..models.graph import call_layer  # the graph module builds on layers

        given = [name for name, value in (("training", training), ("mask", mask)) if value is not None]
        if given:
            raise NotImplementedError(f"{type(self).__name__}(...)(x, {given[0]}=...) is not supported by nnfast: a "
                                      "layer runs in training mode in fit and in inference mode in predict and "
                                      "evaluate, and nnfast has no masks")

        return call_layer(self, inputs)

    # ---- configuration ----------------------------------------------------------------------------

    def base_config(self):
        config = {"name": self.name, "trainable": self.trainable}
        if self.dtype is not None:
            config["dtype"] = self.dtype.name
        if self.declared_input_shape is not None:
            config["input_shape"] = list(self.declared_input_shape)
        if self.activity_regularizer is not None:
            config["activity_regularizer"] = serialize(self.activity_regularizer)
        return config

    def get_config(self):
        """The constructor arguments: ``type(layer).from_config(layer.get_config())`` rebuilds it."""
        return self.base_config()

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def get_state(self):
        """Run-time state a saved model must restore to continue identically (beyond weights)."""
        return {}

    def set_state(self, state):
        pass

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


class IdentityLayer(Layer):
    """A layer whose output is its input, and whose input's gradient is its output's (InputLayer,
    ActivityRegularization)."""

    def forward(self, backend, x, training):
        return x

    def backward(self, backend, dy, need_dx):
        return dy
