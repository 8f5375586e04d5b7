"""Sequential: a linear stack of layers with one parameter arena, compiled with an optimizer, a
loss and metrics (training itself is the Trainer's, saving is in saving.py).

Speed by design: every parameter and gradient lives in one contiguous arena per model (layers hold
views), each step is one native optimizer call for the whole model, activation and gradient
buffers are allocated once per batch size, and softmax + (sparse) categorical cross-entropy is
fused when the last layer is softmax."""
import numpy as np

from .. import backends, losses, optimizers
from .. import metrics as metrics_module
from ..layers import Dropout
from . import saving, validation
from .trainer import Trainer

DTYPES = ("float32", "float64")


class Sequential(Trainer):
    """A linear stack of layers: ``Sequential([Dense(128, activation="relu", input_dim=784),
    Dense(10, activation="softmax")])``."""

    def __init__(self, layers=None, backend="native", dtype="float32", seed=None, name="sequential"):
        self._backend = backends.get(backend)
        try:
            self.dtype = np.dtype(dtype)
        except TypeError:
            self.dtype = None
        if self.dtype is None or self.dtype.name not in DTYPES:
            raise ValueError(f"dtype must be one of {DTYPES}, got {dtype!r}")
        self.seed = seed
        self.name = name
        self.layers = []
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
        for layer in layers or []:
            self.add(layer)

    # ---- structure ------------------------------------------------------------------------------

    @property
    def backend(self):
        return self._backend.name

    def add(self, layer):
        if not hasattr(layer, "forward"):
            raise TypeError(f"add() takes an nnfast layer, got {type(layer).__name__}")
        if self.built:
            raise ValueError("cannot add layers to a model that is already built (it has weights)")
        if layer.name is None:
            layer.name = f"{type(layer).__name__.lower()}_{len(self.layers)}"
        self.layers.append(layer)

    def _ensure_built(self):
        """Build from the first layer's input_dim, if it declares one (else fit/predict build)."""
        if not self.built and self.layers:
            dim = getattr(self.layers[0], "declared_input_dim", None)
            if dim is not None:
                self.build(dim)
        return self.built

    def build(self, input_dim):
        """Give every layer its input size and views into one parameter arena, initialised from
        the model's seed."""
        if not self.layers:
            raise ValueError("the model has no layers")
        rng = np.random.default_rng(self.seed)
        dim = int(input_dim)
        specs = []
        for layer in self.layers:
            dim = layer.build(dim)
            specs.append(layer.param_specs())
        self.input_dim, self.output_dim = int(input_dim), dim
        sizes = [int(np.prod(shape)) for layer_specs in specs for _, shape, _ in layer_specs]
        self._params = np.zeros(sum(sizes), self.dtype)
        self._grads = np.zeros(sum(sizes), self.dtype)
        self._param_views, self._grad_views = [], []
        offset = 0
        for layer, layer_specs in zip(self.layers, specs):
            pv, gv = [], []
            for _, shape, init in layer_specs:
                n = int(np.prod(shape))
                p = self._params[offset:offset + n].reshape(shape)
                p[...] = init(shape, self.dtype, rng)
                pv.append(p)
                gv.append(self._grads[offset:offset + n].reshape(shape))
                offset += n
            layer.bind(pv, gv)
            self._param_views += pv
            self._grad_views += gv
            if isinstance(layer, Dropout):
                layer.set_seed(int(rng.integers(2**63)))
        trainable = [layer for layer in self.layers if layer.param_specs()]
        self._regularized = [layer for layer in trainable if getattr(layer, "kernel_regularizer", None)]
        first = self.layers.index(trainable[0]) if trainable else len(self.layers)
        # backward runs from the last layer down to the first with parameters (which needs no dx)
        self._backward_plan = [(self.layers[i], i > first) for i in range(len(self.layers) - 1, first - 1, -1)]
        self.built = True

    @property
    def weights(self):
        """Views of every parameter (kernel, bias, ...), layer by layer."""
        return list(self._param_views) if self._ensure_built() else []

    def count_params(self):
        return int(self._params.size) if self._ensure_built() else 0

    def get_weights(self):
        return [w.copy() for w in self.weights]

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

    def summary(self, print_fn=print):
        self._ensure_built()
        rows = [("Layer (type)", "Output Shape", "Param #")]
        for layer in self.layers:
            n = sum(int(np.prod(s)) for _, s, _ in layer.param_specs()) if self.built else 0
            rows.append((f"{layer.name} ({type(layer).__name__})", f"(None, {layer.output_dim})", str(n)))
        widths = [max(len(r[i]) for r in rows) + 2 for i in range(3)]
        line = "=" * sum(widths)
        print_fn(f'Model: "{self.name}" (backend {self.backend}, {self.dtype.name})')
        for i, r in enumerate(rows):
            print_fn("".join(c.ljust(w) for c, w in zip(r, widths)))
            print_fn(line if i == 0 else "-" * sum(widths))
        print_fn(f"Total params: {self.count_params()}")

    # ---- compile --------------------------------------------------------------------------------

    def compile(self, optimizer="rmsprop", loss=None, metrics=None):
        """Choose the optimizer (name or instance), loss (name or callable) and metrics (names)."""
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
        """x as a C-contiguous (n, input_dim) array of the model's dtype, checked; builds the model
        from x's feature count when it has no input size yet."""
        if (type(x) is np.ndarray and self.built and x.dtype == self.dtype and x.ndim == 2
                and x.shape[1] == self.input_dim and x.flags.c_contiguous and x.flags.aligned):
            if check_finite:
                validation.require_finite(x, name)
            return x
        if not self._ensure_built():
            self.build(validation.features(x, name).shape[1])
        return validation.inputs(x, self.dtype, self.input_dim, name)

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
        self._ensure_built()
        return {"name": self.name, "backend": self.backend, "dtype": self.dtype.name, "seed": self.seed,
                "input_dim": getattr(self, "input_dim", None),
                "layers": [{"class": type(layer).__name__, "config": layer.get_config(), "state": layer.get_state()}
                           for layer in self.layers]}

    def save(self, path):
        """Architecture, weights and optimizer state in one .npz file (see nnfast.models.load_model)."""
        saving.save_model(self, path)
