"""Sequential: a linear stack of layers, the chain case of Model (Keras's Sequential). Its first
layer, a keras.Input, an InputLayer or a layer's input_shape/input_dim argument gives the input
shape; without one the model is built from the data fit or predict first sees."""
import numpy as np

from ..layers import InputLayer, Layer
from ..utils import checks
from . import graph
from .model import Model


class Sequential(Model):
    """``Sequential([Dense(128, activation="relu", input_dim=784), Dense(10, activation="softmax")])``."""

    is_sequential = True
    default_name = "sequential"

    def __init__(self, layers=None, backend="native", dtype="float32", seed=None, name=None, trainable=True):
        super().__init__(name=name, backend=backend, dtype=dtype, seed=seed, trainable=trainable)
        self.layers = []
        self._input_layer = None
        self.multiple_inputs = False
        for layer in layers or []:
            self.add(layer)

    def add(self, layer):
        """Append a layer (or, first, a keras.Input / InputLayer that fixes the input shape)."""
        if isinstance(layer, graph.SymbolicTensor) and isinstance(layer.node.layer, InputLayer):
            layer = layer.node.layer
        if isinstance(layer, Model):
            raise NotImplementedError(f"a model placed inside another model ({type(layer).__name__} "
                                      f"{layer.name!r} added to a Sequential; nested models) is not supported by "
                                      "nnfast: add the inner model's layers themselves, or use it through predict")
        if not isinstance(layer, Layer):
            raise TypeError(f"add() takes an nnfast layer or keras.Input, got {type(layer).__name__}")
        if self.built:
            raise ValueError("cannot add layers to a model that is already built (it has weights)")
        if isinstance(layer, InputLayer):
            if self.layers or self._input_layer is not None:
                raise ValueError("an Input or InputLayer can only be the first entry of a Sequential model")
            self._input_layer = layer
            return
        if any(existing.name == layer.name for existing in self.layers):  # as Keras: names find layers
            raise ValueError(f"layer names in a Sequential model must be unique: {layer.name!r} is already the name "
                             "of a layer in this model (give the layer another name=)")
        self.layers.append(layer)

    def pop(self):
        """Remove the last layer (before the model is built)."""
        if self.built:
            raise NotImplementedError("pop() on a built model is not supported by nnfast: its weights live in "
                                      "one arena; rebuild the model from the layers you keep")
        if not self.layers:
            raise ValueError("pop() needs a layer to remove: the model has none")
        return self.layers.pop()

    @property
    def declared_input_shape(self):
        """The per-sample input shape the model declares (a keras.Input or InputLayer first, or the
        first layer's input_shape / input_dim), else None."""
        if self._input_layer is not None:
            return self._input_layer.output_shape
        return self.layers[0].declared_input_shape if self.layers else None

    def _ensure_built(self):
        """Build from the declared input shape, if there is one (else fit/predict build)."""
        if not self.built and self.layers and self.declared_input_shape is not None:
            self.build_for_samples(self.declared_input_shape)
        return self.built

    def build(self, input_shape=None):
        """Keras's build: `input_shape` has the batch axis first, ``(None, 784)`` (its size is not
        used); an int is nnfast 0.1's spelling of the feature count, ``build(784)``."""
        if input_shape is None:
            if not self._ensure_built():
                raise ValueError("build() needs input_shape: the model's first layer declares none")
            return
        if isinstance(input_shape, (int, np.integer)) and not isinstance(input_shape, bool):
            input_shape = (None, input_shape)
        if not isinstance(input_shape, (tuple, list)) or len(input_shape) < 2:
            raise ValueError(f"input_shape must have the batch axis first, like (None, 784), got {input_shape!r}")
        sample_shape = checks.shape("input_shape", input_shape[1:])
        if 0 in sample_shape:
            raise ValueError(f"input_shape must have sizes >= 1 after the batch axis, got {input_shape!r}")
        if self.built:  # as Keras: the same shape again changes nothing, another one is refused
            built_shape = tuple(self._input_layer.declared_input_shape)
            if tuple(sample_shape) != built_shape:
                raise ValueError(f"Sequential model '{self.name}' has already been configured to use input shape "
                                 f"{(None, *built_shape)}. You cannot build it with input_shape {tuple(input_shape)}")
            return
        before = self._input_layer
        try:
            self.build_for_samples(sample_shape)
        except (MemoryError, ValueError) as err:  # NumPy's, for weights of sizes it cannot allocate
            if before is None and not self.built:
                self._input_layer = None
            if isinstance(err, ValueError) and "dimension" not in str(err):
                raise
            raise MemoryError(f"the weights for input_shape {input_shape!r} and the layers' units are too large to "
                              f"allocate ({err})") from None

    def build_for_samples(self, sample_shape):
        """Give every layer its input shape (per sample) and views into the model's arenas,
        initialised from the model's seed."""
        if not self.layers:
            raise ValueError("the model has no layers")
        graph.of_dtype(self.layers, self.dtype)  # before any layer is called: a refused build changes nothing
        sample_shape = tuple(int(d) for d in sample_shape)
        if self._input_layer is None:
            self._input_layer = InputLayer(shape=sample_shape)
        tensor = graph.input_of(self._input_layer)
        for layer in self.layers:
            tensor = layer(tensor)
        self.inputs, self.outputs = [graph.input_of(self._input_layer)], [tensor]
        self._allocate(graph.topological_nodes(self.inputs, tensor), [self._input_layer.node])
