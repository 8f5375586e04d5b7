"""Model: a graph of layers with one parameter arena, compiled with an optimizer, a loss and
metrics (Keras's functional Model: ``Model(inputs, outputs)``). Sequential is the chain case.
Training is the Trainer's (trainer.py), saving is in saving.py.

Speed by design: every trained weight and its gradient live in one contiguous arena per model
(layers hold views; weights training does not update, like moving statistics or a frozen layer's,
live in a state arena), each step is one native optimizer call for the whole model, activation and
gradient buffers are allocated once per batch size, and softmax + (sparse) categorical
cross-entropy is fused when the last layer is softmax."""
import contextlib
import contextvars
import math
import os
import threading

import numpy as np

from .. import backends, losses, optimizers
from .. import metrics as metrics_module
from ..layers.base import Layer, auto_name
from ..utils import checks
from . import graph, npz, saving, validation
from .locking import exclusive
from .trainer import Trainer

DTYPES = ("float32", "float64")

# While load_model builds a model, the number of weights its file holds: the config must describe
# exactly that many, checked before the arenas are allocated (so a config claiming 10^12 units
# fails without asking for the memory).
EXPECTED_WEIGHTS = contextvars.ContextVar("nnfast_expected_weights", default=None)


@contextlib.contextmanager
def expected_weights(count):
    """Models built in this block must have exactly `count` weights (ValueError otherwise)."""
    token = EXPECTED_WEIGHTS.set(count)
    try:
        yield
    finally:
        EXPECTED_WEIGHTS.reset(token)


class Model(Trainer):
    """``Model(inputs, outputs)``: the layers between keras.Input tensors and an output tensor,
    run in topological order. Subclassing Model with your own ``call`` or ``train_step`` is not
    supported."""

    def __init__(self, inputs=None, outputs=None, name=None, backend="native", dtype="float32", seed=None,
                 trainable=True):
        if type(self) is not Model and any(hasattr(type(self), m) for m in ("call", "train_step")):
            raise NotImplementedError("subclassed models (your own call() or train_step()) are not supported by "
                                      "nnfast: build the model with keras.Input and layer calls, or Sequential")
        self._backend = backends.get(backend)
        try:
            self.dtype = np.dtype(dtype)
        except TypeError:
            self.dtype = None
        if self.dtype is None or self.dtype.name not in DTYPES:
            raise ValueError(f"dtype must be one of {DTYPES}, got {dtype!r}")
        self.seed = seed
        self.name = name if name is not None else auto_name(self.default_name)  # "functional_1", ... as Keras
        self.trainable = trainable
        self.built = False
        self.optimizer = self.loss = None
        self.metrics = []
        self.metric_names = []
        self._prepared = False
        self._native_planner = None
        self.fast_step = True  # use the one-call native step when the model allows it
        self._shuffle_rng = None
        self.stop_training = False
        self.history = None
        self._run_lock = threading.RLock()  # one public call at a time (locking.py)
        if inputs is not None or outputs is not None:
            self._connect(inputs, outputs)

    default_name = "functional"

    # ---- structure ------------------------------------------------------------------------------

    def _connect(self, inputs, outputs):
        many = isinstance(inputs, (list, tuple))
        self.inputs = list(inputs) if many else [inputs]
        if isinstance(outputs, (list, tuple)):
            if len(outputs) != 1:
                raise NotImplementedError("models with several outputs are not supported by nnfast")
            outputs = outputs[0]
        for t in self.inputs + [outputs]:
            if not isinstance(t, graph.SymbolicTensor):
                raise TypeError(f"Model(inputs, outputs) takes keras.Input tensors and layer outputs, got {t!r}")
        self.outputs = [outputs]
        self.multiple_inputs = many
        nodes = graph.topological_nodes(self.inputs, outputs)
        self.layers = [n.layer for n in nodes]
        self._allocate(nodes, [t.node for t in self.inputs])

    @property
    def backend(self):
        return self._backend.name

    @property
    def input_shape(self):
        shapes = [(None,) + t.sample_shape for t in self.inputs]
        return shapes if self.multiple_inputs else shapes[0]

    @property
    def output_shape(self):
        """(None, *the per-sample output shape) once built (Keras's ``model.output_shape``), else None."""
        return (None,) + tuple(self._graph.nodes[-1].layer.output_shape) if self._ensure_built() else None

    @property
    def input_dim(self):
        return self._input_layers[0].output_dim if self.built else None

    @property
    def output_dim(self):
        return self._graph.nodes[-1].layer.output_dim if self.built else None

    def _allocate(self, nodes, input_nodes):
        """Views into one arena of trained weights (and its gradient twin) and one of the other
        weights, for every layer, initialised from the model's seed in layer order."""
        if self.seed is None:  # np.random.seed(s) before building makes the run reproducible
            self.seed = int(np.random.randint(2**31 - 1))
        rng = np.random.default_rng(self.seed)
        layers = [n.layer for n in nodes]
        specs = [layer.weight_specs() for layer in layers]
        sizes = [math.prod(s.shape) for layer_specs in specs for s in layer_specs]  # exact, however large
        expected = EXPECTED_WEIGHTS.get()
        if expected is not None and sum(sizes) != expected:
            raise ValueError(f"the model's config describes {sum(sizes)} weights, the file holds {expected}")
        trained = [[s.trainable and layer.trainable and self.trainable for s in layer_specs]
                   for layer, layer_specs in zip(layers, specs)]
        n_trained = sum(n for n, t in zip(sizes, [t for ts in trained for t in ts]) if t)
        self._params = np.zeros(n_trained, self.dtype)
        self._grads = np.zeros(n_trained, self.dtype)
        self._state = np.zeros(sum(sizes) - n_trained, self.dtype)
        self._param_views, self._grad_views, self._weight_views = [], [], []
        offsets = {"trained": 0, "state": 0}
        for layer, layer_specs, layer_trained in zip(layers, specs, trained):
            weights, grads = [], []
            for spec, is_trained in zip(layer_specs, layer_trained):
                n = int(np.prod(spec.shape))
                arena, key = (self._params, "trained") if is_trained else (self._state, "state")
                w = arena[offsets[key]:offsets[key] + n].reshape(spec.shape)
                w[...] = spec.initializer(spec.shape, self.dtype, rng)
                if is_trained:
                    g = self._grads[offsets[key]:offsets[key] + n].reshape(spec.shape)
                    self._param_views.append(w)
                    self._grad_views.append(g)
                else:  # a frozen layer still computes its gradient, into scratch, for simplicity
                    g = np.zeros(spec.shape, self.dtype) if spec.trainable else None
                offsets[key] += n
                weights.append(w)
                grads.append(g)
            layer.bind(weights, grads)
            self._weight_views += weights
            if hasattr(layer, "set_seed"):  # Dropout, the noise layers: the model seeds them
                layer.set_seed(int(rng.integers(2**63)))
        trained_layers = [layer for layer, t in zip(layers, trained) if any(t)]
        self._regularized = [layer for layer in trained_layers if layer.weight_regularizers()]
        self._activity_regularized = any(layer.activity_regularizer is not None for layer in layers)
        self._constrained = [layer for layer in trained_layers if layer.weight_constraints()]
        self._graph = graph.GraphRun(nodes, input_nodes, trained_layers)
        self._input_layers = [n.layer for n in input_nodes]
        # (input index, layer) for each layer an input feeds that checks its samples (Embedding)
        self._sample_checks = [(i, node.layer) for node in nodes for i, source in enumerate(input_nodes)
                               if type(node.layer).check_samples is not Layer.check_samples
                               and any(t.node is source for t in node.inputs)]
        self.built = True

    @property
    def weights(self):
        """Views of every weight, layer by layer, in Keras's order (trained or not)."""
        return list(self._weight_views) if self._ensure_built() else []

    @property
    def trainable_weights(self):
        return list(self._param_views) if self._ensure_built() else []

    @property
    def non_trainable_weights(self):
        trained = {id(w) for w in self.trainable_weights}
        return [w for w in self.weights if id(w) not in trained]

    def _ensure_built(self):
        return self.built

    def count_params(self):
        return int(sum(w.size for w in self.weights))

    @exclusive
    def get_weights(self):
        return [w.copy() for w in self.weights]

    @exclusive
    def set_weights(self, weights):
        weights = list(weights)
        if len(weights) != len(self.weights):
            raise ValueError(f"set_weights expects {len(self.weights)} arrays, got {len(weights)}")
        for i, (w, new) in enumerate(zip(self.weights, weights)):
            new = np.asarray(new)
            if new.shape != w.shape:
                raise ValueError(f"weights[{i}] must have shape {w.shape}, got {new.shape}")
        for w, new in zip(self.weights, weights):
            w[...] = new

    def get_layer(self, name=None, index=None):
        """The layer called `name`, or at `index` in ``layers`` (Keras's get_layer)."""
        if index is not None:
            return self.layers[checks.integer("index", index, lo=-len(self.layers), hi=len(self.layers) - 1)]
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError(f"name must be the name of one of the model's layers "
                         f"({', '.join(str(layer.name) for layer in self.layers)}), got {name!r}")

    def summary(self, print_fn=print, line_length=None, positions=None, expand_nested=False, show_trainable=False):
        from .summary import summary_lines  # the table's layout is its own concern

        self._ensure_built()
        for line in summary_lines(self, line_length):
            print_fn(line)

    # ---- compile --------------------------------------------------------------------------------

    @exclusive
    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None, weighted_metrics=None,
                run_eagerly=False, steps_per_execution=1, jit_compile="auto", auto_scale_loss=True):
        """Choose the optimizer (name or instance), loss (name, Loss or callable) and metrics (names or
        Metric objects), with Keras's arguments. run_eagerly, steps_per_execution, jit_compile and
        auto_scale_loss change how Keras executes, not the results: nnfast accepts and ignores them."""
        if loss_weights is not None or weighted_metrics is not None:
            given = [k for k, v in (("loss_weights", loss_weights), ("weighted_metrics", weighted_metrics)) if v]
            raise NotImplementedError(f"compile's {', '.join(given)} are not supported by nnfast (see docs/keras.md)")
        checks.integer("steps_per_execution", steps_per_execution, lo=1)
        self._ensure_built()
        self.use_optimizer(optimizer)
        if loss is None:
            raise ValueError("compile needs a loss: one of " + ", ".join(losses.LOSSES) + ", or a callable")
        self.loss = losses.get(loss)
        self.metric_names = list(metrics or [])
        self._prepared = False
        for m in self.metric_names:
            metrics_module.get(m, 2, False)  # validate names now
        self.compiled = True

    @property
    def metrics_names(self):
        """["loss", then each compiled metric's name], as Keras lists them."""
        self._require_compiled()
        names = [metrics_module.get(m, self.output_dim, self.loss.sparse).name for m in self.metric_names]
        return ["loss"] + names

    @exclusive
    def save_weights(self, filepath, overwrite=True):
        """Every weight (get_weights order) in one .npz file (Keras writes .weights.h5; nnfast
        writes NumPy's format whatever the name)."""
        if not overwrite and os.path.exists(filepath):
            raise ValueError(f"filepath {filepath!r} exists and overwrite is False")
        npz.write_atomically(filepath, {f"arr_{i}": w for i, w in enumerate(self.get_weights())})

    @exclusive
    def load_weights(self, filepath):
        """Weights written by save_weights, checked against the model's shapes: all of them are
        loaded, or none (a damaged file raises BadFileError, a ValueError, before any copy)."""
        n = len(self.weights)
        names = {f"arr_{i}" for i in range(n)}
        data = npz.read_arrays(filepath, lambda name: DTYPES if name in names else None)
        if len(data) != n:
            raise npz.BadFileError(f"{os.fspath(filepath)!r} holds {len(data)} weights, the model has {n}")
        self.set_weights([data[f"arr_{i}"] for i in range(n)])

    def use_optimizer(self, optimizer):
        """Make `optimizer` (a name or an instance) the model's, running on the model's backend."""
        self.optimizer = optimizers.get(optimizer)
        self.optimizer.ops = self._backend.ops

    def _require_compiled(self):
        if self.optimizer is None or self.loss is None:
            raise ValueError("compile the model first: model.compile(optimizer=..., loss=...)")

    # ---- data checks ----------------------------------------------------------------------------

    # The checks below run before every step, so the common case of every step after the first,
    # data already in the model's layout, is tested inline (a Python call costs as much as a tiny
    # model's whole native step) and only the NaN/Inf scan is left, unless the caller leaves that
    # to the native step (check_finite=False).

    def _inputs(self, x, name="x", check_finite=True):
        """x as C-contiguous (n, *input shape) arrays of the model's dtype, checked (a list, one per
        input, for a model with several inputs); builds the model from x's shape when it has none."""
        if (type(x) is np.ndarray and self.built and x.dtype == self.dtype and x.ndim == 2
                and not self.multiple_inputs and x.shape[1] == self._input_layers[0].output_dim
                and x.ndim == 1 + len(self._input_layers[0].output_shape)
                and x.flags.c_contiguous and x.flags.aligned):
            if check_finite:
                validation.require_finite(x, name)
            return self._checked_samples(x, name)
        if not self._ensure_built():
            self.build_for_samples(validation.features(x, name).shape[1:])
        if self.multiple_inputs:
            return self._checked_samples(
                validation.input_list(x, self.dtype, [layer.output_shape for layer in self._input_layers],
                                      [layer.name for layer in self._input_layers], name), name)
        return self._checked_samples(validation.inputs(x, self.dtype, self._input_layers[0].output_shape, name), name)

    def _checked_samples(self, x, name):
        """x (converted), once the layers the inputs feed have checked their samples (Layer.check_samples)."""
        for i, layer in self._sample_checks:
            layer.check_samples(x[i] if self.multiple_inputs else x, f"{name}[{i}]" if self.multiple_inputs else name)
        return x

    def _targets(self, y, n, name="y", check_finite=True):
        """y as the loss needs it: int64 class indices, or (n, outputs) rows of the model's dtype."""
        if (not self.loss.sparse and type(y) is np.ndarray and y.dtype == self.dtype and y.ndim == 2
                and y.shape == (n, self.output_dim) and y.flags.c_contiguous and y.flags.aligned):
            if check_finite:
                validation.require_finite(y, name)
            return y
        return validation.targets(y, n, self.loss, self.output_dim, self.dtype, name)

    # ---- configuration and saving ---------------------------------------------------------------

    def get_config(self):
        from .serialization import model_config  # configs of layers and their connections

        return model_config(self)

    @classmethod
    def from_config(cls, config):
        from .serialization import model_from_config

        return model_from_config(config)

    def to_json(self, **kwargs):
        from .serialization import model_to_json

        return model_to_json(self, **kwargs)

    @exclusive
    def save(self, path):
        """Architecture, weights and optimizer state in one .npz file (see nnfast.models.load_model)."""
        saving.save_model(self, path)
