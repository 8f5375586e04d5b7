"""Model: a graph of layers with one parameter arena, compiled with an optimizer, a loss and
metrics (Keras's functional Model: ``Model(inputs, outputs)``). Sequential is the chain case.
Training is the Trainer's (trainer.py), saving is in saving.py.

Speed by design: every trained weight and its gradient live in one contiguous arena per model
(layers hold views; weights training does not update, like moving statistics or a frozen layer's,
live in a state arena), each step is one native optimizer call for the whole model, activation and
gradient buffers are allocated once per batch size, and softmax + (sparse) categorical
cross-entropy is fused when the last layer is softmax."""
import math
import os
import threading

import numpy as np

from .. import backends, losses, optimizers
from .. import metrics as metrics_module
from ..layers.base import Layer
from ..utils import aligned, checks, naming
from . import graph, npz, saving, validation
from .locking import exclusive
from .trainer import Trainer

DTYPES = ("float32", "float64")

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
        self.name = name if name is not None else naming.auto_name(self.default_name)  # "functional_1", ... as Keras
        self.trainable = trainable
        self.built = False
        self.optimizer = self.loss = None
        self.metrics, self.metric_names = [], []  # the compiled metrics' objects, and what compile got
        self._metrics_for = None  # the (output_dim, sparse targets) self.metrics were made for
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

    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        """As Keras: setting a model's flag sets every layer's, so model.trainable = False also puts
        its batch normalizations in inference mode, and True thaws layers frozen one by one."""
        self._trainable = value
        for layer in getattr(self, "layers", ()):
            layer.trainable = value

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
        self.layers = graph.uniquely_named([n.layer for n in nodes])
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
        """Initial values for every layer's weights from the model's seed, in layer order, then the
        arenas holding them (_lay_out)."""
        layers = graph.of_dtype([n.layer for n in nodes], self.dtype)
        if self.seed is None:  # np.random.seed(s) before building makes the run reproducible
            self.seed = int(np.random.randint(2**31 - 1))
        rng = np.random.default_rng(self.seed)
        specs = [layer.weight_specs() for layer in layers]
        sizes = [math.prod(s.shape) for layer_specs in specs for s in layer_specs]  # exact, however large
        expected = saving.EXPECTED_WEIGHTS.get()
        if expected is not None and sum(sizes) != expected:
            raise ValueError(f"the model's config describes {sum(sizes)} weights, the file holds {expected}")
        values = []
        for layer, layer_specs in zip(layers, specs):
            values += [spec.initializer(spec.shape, self.dtype, rng) for spec in layer_specs]
            if hasattr(layer, "set_seed"):  # Dropout, the noise layers: the model seeds them
                layer.set_seed(int(rng.integers(2**63)))
        self._nodes, self._input_nodes = nodes, input_nodes
        # each layer's weights' own trainable flags (fixed), read before every training call
        self._spec_flags = [(layer, tuple(s.trainable for s in layer_specs))
                            for layer, layer_specs in zip(layers, specs)]
        self._stashed_slots = {}  # optimizer slots of weights frozen since the optimizer's first step
        self._lay_out(values)
        self._input_layers = [n.layer for n in input_nodes]
        # (input index, layer) for each layer an input feeds that checks its samples (Embedding)
        self._sample_checks = [(i, node.layer) for node in nodes for i, source in enumerate(input_nodes)
                               if type(node.layer).check_samples is not Layer.check_samples
                               and any(t.node is source for t in node.inputs)]
        self.built = True

    def _trained_pattern(self):
        """Whether training updates each weight (every layer's, in order), as the trainable flags
        of the model, its layers and their weights say now."""
        return tuple(flag and layer.trainable and self.trainable for layer, flags in self._spec_flags for flag in flags)

    def _lay_out(self, values):
        """Views into one arena of trained weights (and its gradient twin) and one of the other
        weights, holding `values` (every weight, in order), bound to the layers."""
        layers = [n.layer for n in self._nodes]
        pattern = self._trained_pattern()
        sizes = [v.size for v in values]
        n_trained = sum(n for n, t in zip(sizes, pattern) if t)
        # on cache lines, so a weight, its gradient and its optimizer slots share their offsets in
        # their lines (nnfast.utils.aligned)
        self._params = aligned.zeros(n_trained, self.dtype)
        self._grads = aligned.zeros(n_trained, self.dtype)
        self._state = aligned.zeros(sum(sizes) - n_trained, self.dtype)
        self._param_views, self._grad_views, self._weight_views = [], [], []
        offsets = {"trained": 0, "state": 0}
        position = 0
        trained_layers = []
        for layer in layers:
            weights, grads = [], []
            layer_specs = layer.weight_specs()
            if any(pattern[position:position + len(layer_specs)]):
                trained_layers.append(layer)
            for spec in layer_specs:
                is_trained, n = pattern[position], sizes[position]
                arena, key = (self._params, "trained") if is_trained else (self._state, "state")
                w = arena[offsets[key]:offsets[key] + n].reshape(spec.shape)
                w[...] = values[position]
                if is_trained:
                    g = self._grads[offsets[key]:offsets[key] + n].reshape(spec.shape)
                    self._param_views.append(w)
                    self._grad_views.append(g)
                else:  # a frozen layer still computes its gradient, into scratch, for simplicity
                    g = np.zeros(spec.shape, self.dtype) if spec.trainable else None
                offsets[key] += n
                position += 1
                weights.append(w)
                grads.append(g)
            layer.bind(weights, grads)
            self._weight_views += weights
        self._pattern = pattern
        self._regularized = [layer for layer in layers if layer.weight_regularizers()]
        self._activity_regularized = any(layer.activity_regularizer is not None for layer in layers)
        self._constrained = [layer for layer in trained_layers if layer.weight_constraints()]
        self._graph = graph.GraphRun(self._nodes, self._input_nodes, trained_layers)

    def _follow_trainable(self):
        """Before training: when trainable flags changed since the arenas were laid out (a layer
        frozen or unfrozen after the model was built, as in fine-tuning), lay them out again with
        the same values. As Keras 3 on torch: the optimizer keeps the slots of the weights it
        trains (and of those frozen since its first step, for when they thaw), and a weight it never
        trained is refused with Keras's ValueError, before anything changes."""
        pattern = self._trained_pattern() if self.built else None
        if pattern is None or pattern == self._pattern:
            return
        state = self.optimizer.get_state() if self.optimizer is not None else None
        old = [i for i, t in enumerate(self._pattern) if t]
        new = [i for i, t in enumerate(pattern) if t]
        slots = None
        if state is not None and state["slots"]:
            known = dict(self._stashed_slots)
            for name, arrays in state["slots"].items():
                for i, a in zip(old, arrays):
                    known.setdefault(i, {})[name] = a
            unknown = [i for i in new if i not in known]
            if unknown:
                layer, spec = self._weight_owner(unknown[0])
                raise ValueError(f"Unknown variable: {layer.name}/{spec.name}. This optimizer can only be called for "
                                 "the variables it was originally built with. When working with a new set of "
                                 "variables, you should recreate a new optimizer instance (compile again).")
            slots = {name: [known[i][name] for i in new] for name in state["slots"]}
            self._stashed_slots = {i: v for i, v in known.items() if i not in new}
        self._lay_out([w.copy() for w in self._weight_views])
        if slots is not None:
            self.optimizer.set_state({**state, "slots": slots})
        self._prepared = False

    def optimizer_variables(self):
        """(count, bytes) of the compiled optimizer's variables as Keras 3's summary counts them (the
        slots of weights frozen since its first step included), or None before its first step."""
        if self.optimizer is None or not self.built:
            return None
        frozen = [a for slots in self._stashed_slots.values() for a in slots.values()]
        return self.optimizer.keras_variables(self.dtype, frozen)

    def _weight_owner(self, index):
        """(layer, WeightSpec) of weight `index` (every layer's weights, in order)."""
        specs = [(n.layer, s) for n in self._nodes for s in n.layer.weight_specs()]
        return specs[index]

    @property
    def weights(self):
        """Views of every weight, layer by layer, in Keras's order (trained or not)."""
        return list(self._weight_views) if self._ensure_built() else []

    @property
    def trainable_weights(self):
        """The weights training updates, as the trainable flags say now (a layer frozen after the
        build counts at once, as in Keras; training lays the arenas out again first)."""
        if not self._ensure_built():
            return []
        return [w for w, trained in zip(self._weight_views, self._trained_pattern()) if trained]

    @property
    def non_trainable_weights(self):
        trained = {id(w) for w in self.trainable_weights}
        return [w for w in self.weights if id(w) not in trained]

    def build(self, input_shape=None):
        """Keras's build of a functional model: built by its inputs already, so nothing to do."""

    def _ensure_built(self):
        return self.built

    def count_params(self):
        if not self._ensure_built():  # as Keras: nothing to count until the input shape is known
            raise ValueError(f"count_params needs model {self.name!r} built, and it is not: its input shape is "
                             "unknown until it has one (a keras.Input or input_shape=, or a first fit)")
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

    def __call__(self, inputs, training=None, mask=None):
        """Keras's model(x): refused, naming what to use instead (a model is not a layer here)."""
        raise NotImplementedError("calling a model, model(x), is not supported by nnfast: use model.predict(x) or "
                                  "model.predict_on_batch(x) for its outputs; a model called on keras.Input tensors "
                                  "or placed inside another model (nested models) cannot be built")

    def __reduce__(self):  # pickle, joblib and copy.deepcopy go through the model file, as Keras's do
        return saving.model_from_bytes, (saving.model_bytes(self),)

    def export(self, filepath, format="tf_saved_model", verbose=None, input_signature=None, **kwargs):
        """Keras's export for serving (a SavedModel, ONNX, ...): refused, naming what to do instead."""
        raise NotImplementedError(f"model.export(format={format!r}) is not supported by nnfast: save the model with "
                                  "model.save(path) and load it with keras.models.load_model (see docs/keras.md)")

    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False, show_trainable=False,
                layer_range=None):
        """Keras's summary table (print_fn gets it in one call, as in Keras 3; no nested models to expand)."""
        from .summary import summary_lines  # the table's layout is its own concern

        self._ensure_built()
        text = "\n".join(summary_lines(self, line_length, positions, show_trainable, layer_range))
        print(text) if print_fn is None else print_fn(text + "\n")

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
        self._metrics_for = None  # new metric objects, as Keras's compile makes
        for m in self.metric_names:
            metrics_module.get(m, 2, False)  # validate names now
        self.compiled = True

    @property
    def metrics_names(self):
        """["loss", then each compiled metric's name], as Keras lists them."""
        self._require_compiled()
        names = [metrics_module.get(m, self.output_dim, self.loss.sparse).name for m in self.metric_names]
        return ["loss"] + naming.unique_names(names)

    @exclusive
    def save_weights(self, filepath, overwrite=True):
        """Every weight (get_weights order) in one .npz file (Keras writes .weights.h5; nnfast
        writes NumPy's format whatever the name)."""
        if not overwrite and os.path.exists(filepath):
            raise ValueError(f"filepath {filepath!r} exists and overwrite is False")
        npz.write_atomically(filepath, {f"arr_{i}": w for i, w in enumerate(self.get_weights())})

    @exclusive
    def load_weights(self, filepath, skip_mismatch=False):
        """Weights written by save_weights, checked against the model's shapes: all of them are
        loaded, or none (a damaged file raises BadFileError, a ValueError, before any copy). With
        skip_mismatch, as Keras: a weight whose saved shape differs keeps its value, with a warning."""
        skip_mismatch = checks.truth("skip_mismatch", skip_mismatch)
        n = len(self.weights)
        names = {f"arr_{i}" for i in range(n)}
        data = npz.read_arrays(filepath, lambda name: DTYPES if name in names else None)
        if len(data) != n:
            raise npz.BadFileError(f"{os.fspath(filepath)!r} holds {len(data)} weights, the model has {n}")
        saved = [data[f"arr_{i}"] for i in range(n)]
        if skip_mismatch:
            saved = saving.matching_weights(saved, self.weights)
        self.set_weights(saved)

    def use_optimizer(self, optimizer):
        """Make `optimizer` (a name or an instance) the model's, running on the model's backend."""
        self.optimizer = optimizers.get(optimizer)
        self.optimizer.ops = self._backend.ops
        if self.built:
            self._stashed_slots = {}  # a new optimizer starts from the weights trained now

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
        inputs = getattr(self, "_input_layers", None)  # None: a Sequential not built yet (one input)
        x = validation.one_input_forms(x, None if inputs is None else [layer.name for layer in inputs],
                                       self.multiple_inputs)
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
    def save(self, path, overwrite=True, zipped=None, **kwargs):
        """Architecture, weights and optimizer state in one .npz file (see nnfast.models.load_model;
        overwrite, zipped and Keras's legacy keywords as saving.save_model takes them). Trainable
        flags changed since the last step are laid out first, so that the saved optimizer slots
        match the weights the saved config trains."""
        self._follow_trainable()
        saving.save_model(self, path, overwrite=overwrite, zipped=zipped, **kwargs)
