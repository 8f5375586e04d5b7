"""Sequential: a Keras-like model on the native kernels (or, with backend="reference", on the NumPy
reference, running the very same loop).

Speed by design: every parameter and gradient lives in one contiguous arena per model (layers hold
views), each step is one native optimizer call for the whole model, activation and gradient
buffers are allocated once per batch size, and softmax + (sparse) categorical cross-entropy is
fused when the last layer is softmax.
"""
import json
import math

import numpy as np

from . import _core, backends, callbacks as callbacks_module, losses, metrics as metrics_module, optimizers
from .layers import LAYERS, Dense, Dropout

_DTYPES = ("float32", "float64")
# Losses the one-call native step computes with a kernel (plus the fused softmax cross-entropy).
_KERNEL_LOSSES = (losses.MeanSquaredError, losses.MeanAbsoluteError, losses.BinaryCrossentropy)


class Sequential:
    """A linear stack of layers: ``Sequential([Dense(128, activation="relu", input_dim=784),
    Dense(10, activation="softmax")])``."""

    def __init__(self, layers=None, backend="native", dtype="float32", seed=None, name="sequential"):
        self._backend = backends.get(backend)
        try:
            self.dtype = np.dtype(dtype)
        except TypeError:
            self.dtype = None
        if self.dtype is None or self.dtype.name not in _DTYPES:
            raise ValueError(f"dtype must be one of {_DTYPES}, got {dtype!r}")
        self.seed = seed
        self.name = name
        self.layers = []
        self.built = False
        self.optimizer = self.loss = None
        self.metrics = []
        self._prepared = False
        self._fast_ok = False
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
        self._trainable = [layer for layer in self.layers if layer.param_specs()]
        self._regularized = [layer for layer in self._trainable if getattr(layer, "kernel_regularizer", None)]
        first = self.layers.index(self._trainable[0]) if self._trainable else len(self.layers)
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
        self.optimizer = optimizers.get(optimizer)
        self.optimizer._ops = self._backend.ops
        if loss is None:
            raise ValueError("compile needs a loss: one of " + ", ".join(losses.LOSSES) + ", or a callable")
        self.loss = losses.get(loss)
        self._metric_names = list(metrics or [])
        self._prepared = False
        for m in self._metric_names:
            metrics_module.get(m, 2, False)  # validate names now
        self.compiled = True

    def _require_compiled(self):
        if self.optimizer is None or self.loss is None:
            raise ValueError("compile the model first: model.compile(optimizer=..., loss=...)")

    def _fused(self):
        last = self.layers[-1]
        return (self.loss.fuses_softmax and isinstance(last, Dense) and last.activation == "softmax")

    # ---- data checks ----------------------------------------------------------------------------

    def _inputs(self, x, name="x", check_finite=True):
        """x as a C-contiguous (n, input_dim) array of the model's dtype, checked (for NaN/Inf too
        unless check_finite is False: the one-call native step checks that itself)."""
        if (type(x) is np.ndarray and self.built and x.dtype == self.dtype and x.ndim == 2
                and x.shape[1] == self.input_dim and x.flags.c_contiguous and x.flags.aligned):
            if check_finite and not _core.all_finite(x):  # already in the model's layout
                raise ValueError(f"{name} contains NaN or Inf")
            return x
        x = np.asarray(x)
        if x.dtype.kind not in "fiub":
            raise ValueError(f"{name} must hold real numbers, got dtype {x.dtype}")
        if x.ndim != 2:
            raise ValueError(f"{name} must be 2-D (samples, features), got shape {x.shape}")
        if not self._ensure_built():
            self.build(x.shape[1])
        if x.shape[1] != self.input_dim:
            raise ValueError(f"{name} has {x.shape[1]} features but the model's input size is {self.input_dim}")
        x = np.ascontiguousarray(x, dtype=self.dtype)
        if not _core.all_finite(x):
            raise ValueError(f"{name} contains NaN or Inf")
        return x

    def _targets(self, y, n, name="y", check_finite=True):
        """y checked against the loss: class indices (n,) for sparse losses, else (n, outputs)."""
        if (not self.loss.sparse and type(y) is np.ndarray and y.dtype == self.dtype and y.ndim == 2
                and y.shape == (n, self.output_dim) and y.flags.c_contiguous and y.flags.aligned):
            if check_finite and not _core.all_finite(y):  # already in the model's layout
                raise ValueError(f"{name} contains NaN or Inf")
            return y
        y = np.asarray(y)
        if len(y) != n:
            raise ValueError(f"{name} has {len(y)} samples but x has {n}")
        if self.loss.sparse:
            if y.ndim == 2 and y.shape[1] == 1:
                y = y[:, 0]
            if y.ndim != 1:
                raise ValueError(f"{name} must hold one class index per sample for {self.loss.name}, got shape {y.shape}")
            if y.dtype.kind == "f":
                if not np.array_equal(y, np.round(y)):
                    raise ValueError(f"{name} must hold integer class indices for {self.loss.name}")
            elif y.dtype.kind not in "iub":
                raise ValueError(f"{name} must hold integer class indices, got dtype {y.dtype}")
            y = y.astype(np.int64)
            if n and (y.min() < 0 or y.max() >= self.output_dim):
                raise ValueError(f"{name} has class indices in [{y.min()}, {y.max()}] but the model has "
                                 f"{self.output_dim} outputs")
            return np.ascontiguousarray(y)
        if y.dtype.kind not in "fiub":
            raise ValueError(f"{name} must hold real numbers, got dtype {y.dtype}")
        if y.ndim == 1:
            y = y[:, None]
        if y.shape != (n, self.output_dim):
            raise ValueError(f"{name} must have shape ({n}, {self.output_dim}) for a model with "
                             f"{self.output_dim} outputs, got {y.shape}")
        y = np.ascontiguousarray(y, dtype=self.dtype)
        if not _core.all_finite(y):
            raise ValueError(f"{name} contains NaN or Inf")
        return y

    # ---- the step -------------------------------------------------------------------------------

    def _forward(self, x, training):
        h = x
        for layer in self.layers:
            h = layer.forward(self._backend, h, training)
        return h

    def _loss_and_grad(self, out, y):
        """(loss, d out) for the batch; out is logits when fused."""
        grad = self.layers[-1]._buffer("dloss", out.shape, out.dtype)
        if self.layers[-1].fused_softmax:
            value, grad = self.loss.fused(self._backend, out, y, grad)
        else:
            value, grad = self.loss(self._backend, out, y, grad)
        for layer in self._regularized:
            value += layer.regularization()
        return value, grad

    def _backward(self, grad):
        """Backward through the layers down to the first one with parameters (which needs no dx)."""
        backend = self._backend
        for layer, need_dx in self._backward_plan:
            grad = layer.backward(backend, grad, need_dx)

    def _fast_step(self, batch):
        """(step, the optimizer state it was made for, the output buffer): the one-call native step
        (forward, loss, backward and update in C++) for this batch size, or None when the model
        needs the general loop: another backend or layer type, a
        regularizer, a loss without a kernel, gradient clipping, or optimizer state not made yet."""
        opt = self.optimizer
        if not self._fast_ok or opt._args is None:
            return None
        cached = self._fast_steps.get(batch)
        if cached is not None and cached[1] is opt._args:
            return cached
        layers = []
        for i, layer in enumerate(self.layers):
            shape = (batch, layer.units)
            layers.append((layer.params[0], layer.params[1] if layer.use_bias else None,
                           layer._buffer("y", shape, self.dtype),
                           layer._buffer("dx", (batch, layer.input_dim), self.dtype) if i else None,
                           layer.grads[0], layer.grads[1] if layer.use_bias else None, layer._kernel_activation))
        last = self.layers[-1]
        kernel = "softmax_cross_entropy" if last.fused_softmax else self.loss.kernel
        kwargs = dict(opt._kw, learning_rate=0.0, step=1)
        step = _core.DenseStackStep(layers, last._buffer("dloss", (batch, last.units), self.dtype), kernel,
                                    opt._FN, kwargs, self._param_views, self._grad_views, tuple(opt._args))
        cached = self._fast_steps[batch] = (step, opt._args, last._y_buffer(batch))
        return cached

    def _train_batch(self, x, y, check_finite=False):
        fast = self._fast_step(len(x)) if self._fast_ok else None
        if fast is not None:
            opt = self.optimizer
            lr = opt._learning_rate
            if callable(lr):
                lr = float(lr(opt.iterations))
            try:
                value = fast[0].run(x, y, lr, opt.iterations + 1, check_finite)
            finally:  # counted even when Ctrl-C lands as the call returns
                opt.iterations += fast[0].last_updates
            return value, fast[2]
        if check_finite:  # the caller left the NaN/Inf check to the native step, which is not built yet
            self._inputs(x)
            self._targets(y, len(x))
        out = self._forward(x, True)
        value, grad = self._loss_and_grad(out, y)
        if not math.isfinite(value):
            return value, out  # no update: the weights stay the last finite ones
        self._backward(grad)
        self.optimizer.apply(self._param_views, self._grad_views)
        return value, out

    def _prepare(self, metric_names=None):
        for layer in self.layers:
            if isinstance(layer, Dense):
                layer.fused_softmax = False
        if self._fused():
            self.layers[-1].fused_softmax = True
        sparse = self.loss.sparse
        self._metrics = [metrics_module.get(m, self.output_dim, sparse) for m in self._metric_names]
        argmax_only = (metrics_module.SparseCategoricalAccuracy, metrics_module.CategoricalAccuracy)
        # argmax of logits is argmax of softmax: only other metrics need the probabilities
        self._metrics_need_probs = self.layers[-1].fused_softmax and any(
            not isinstance(m, argmax_only) for m in self._metrics)
        last = self.layers[-1]
        self._fast_ok = (self.backend == "native" and self.fast_step and not self._regularized
                         and all(type(layer) is Dense for layer in self.layers)
                         and (last.fused_softmax or (type(self.loss) in _KERNEL_LOSSES and last.activation != "softmax"))
                         and not self.optimizer._clip_mode and self.optimizer._ops is self._backend.ops)
        self._fast_steps = {}
        self._prepared = True

    def _predictions(self, out):
        """Probabilities from the last layer's output (softmax applied when it was fused)."""
        if self.layers[-1].fused_softmax:
            return self._backend.activation_forward(out, "softmax", self.layers[-1]._buffer("probs", out.shape, out.dtype))
        return out

    def _update_metrics(self, out, y):
        pred = self._predictions(out) if self._metrics_need_probs else out
        for m in self._metrics:
            m.update(pred, y)

    # ---- fit / evaluate / predict ---------------------------------------------------------------

    def fit(self, x, y, batch_size=32, epochs=1, verbose=1, callbacks=None, validation_split=0.0,
            validation_data=None, shuffle=True, initial_epoch=0):
        """Train; returns the History. Stops with FloatingPointError when the loss becomes NaN or
        Inf (the weights are then the last finite ones), and returns early on KeyboardInterrupt."""
        self._require_compiled()
        x = self._inputs(x)
        y = self._targets(y, len(x))
        batch_size = self._batch_size(batch_size)
        if not 0.0 <= validation_split < 1.0:
            raise ValueError(f"validation_split must be in [0, 1), got {validation_split!r}")
        if validation_data is None and validation_split > 0:
            cut = int(len(x) * (1.0 - validation_split))  # the last fraction, before shuffling (Keras)
            x, xv, y, yv = x[:cut], x[cut:], y[:cut], y[cut:]
            validation_data = (xv, yv)
        elif validation_data is not None:
            xv = self._inputs(validation_data[0], "validation_data[0]")
            validation_data = (xv, self._targets(validation_data[1], len(xv), "validation_data[1]"))
        if len(x) == 0:
            raise ValueError("x has no samples to train on")
        self._prepare()
        steps = -(-len(x) // batch_size)
        cbs = callbacks_module.CallbackList(callbacks, model=self, add_history=True, add_progbar=verbose != 0,
                                            verbose=verbose, epochs=epochs, steps=steps)
        self.stop_training = False
        if self._shuffle_rng is None:  # one stream per model: successive fit calls continue it
            self._shuffle_rng = np.random.default_rng(None if self.seed is None else self.seed + 1)
        rng = self._shuffle_rng
        xb_full = np.empty((batch_size, self.input_dim), self.dtype)
        yb_full = np.empty((batch_size,) + y.shape[1:], y.dtype)
        order = np.arange(len(x), dtype=np.int64)
        full_steps = len(x) // batch_size
        # Batch views made once: every full batch, and the last partial one, reuse the same buffers.
        views = {n: (xb_full[:n], yb_full[:n]) for n in {batch_size, len(x) - (steps - 1) * batch_size}}
        per_batch = cbs.wants_batch_hooks()
        every_batch = cbs.wants_batch_hooks(every_batch=True)  # else native runs, one batch-end call each
        cbs.on_train_begin()
        try:
            for epoch in range(initial_epoch, epochs):
                snapshot = self._params.copy()
                for m in self._metrics:
                    m.reset()
                cbs.on_epoch_begin(epoch)
                if shuffle:
                    rng.shuffle(order)
                total, seen = 0.0, 0
                step = 0
                while step < steps:
                    ran, losses = self._native_steps(x, y, order, step, full_steps, batch_size, every_batch)
                    for value in losses:
                        if not math.isfinite(value):
                            self._stop_non_finite(value, epoch, step, snapshot)
                        total += value * batch_size
                        seen += batch_size
                        step += 1
                    if ran:
                        if per_batch:
                            cbs.on_train_batch_end(step - 1, self._logs(total, seen))
                        continue
                    idx = order[step * batch_size:(step + 1) * batch_size]
                    n = len(idx)
                    xb, yb = views[n]
                    np.take(x, idx, axis=0, out=xb, mode="clip")
                    np.take(y, idx, axis=0, out=yb, mode="clip")
                    if per_batch:
                        cbs.on_train_batch_begin(step)
                    value, out = self._train_batch(xb, yb)
                    if not math.isfinite(value):
                        self._stop_non_finite(value, epoch, step, snapshot)
                    total += value * n
                    seen += n
                    if self._metrics:
                        self._update_metrics(out, yb)
                    if per_batch:
                        cbs.on_train_batch_end(step, self._logs(total, seen))
                    step += 1
                logs = self._logs(total, seen)
                if validation_data is not None:
                    val = self._evaluate(*validation_data, batch_size)
                    logs.update({"val_" + k: v for k, v in val.items()})
                cbs.on_epoch_end(epoch, logs)
                if self.stop_training:
                    break
        except KeyboardInterrupt:
            pass  # the weights are those of the last completed step
        cbs.on_train_end()
        return self.history

    # Steps per native call of the epoch loop: long enough that Python's share is negligible,
    # short enough that Ctrl-C (seen between calls) still stops fit promptly.
    _NATIVE_CHUNK_STEPS = 256

    def _native_metrics(self):
        """Whether every metric is an argmax accuracy that run_steps counts natively."""
        kind = metrics_module.SparseCategoricalAccuracy if self.loss.sparse else metrics_module.CategoricalAccuracy
        return all(type(m) is kind for m in self._metrics)

    def _native_steps(self, x, y, order, step, full_steps, batch_size, every_batch):
        """(ran, losses): runs whole batches from `step` on in native calls (gathering included)
        when nothing in Python needs to see each batch: no callback that needs every batch, no metrics
        but argmax accuracies (counted natively), a constant learning rate and the one-call step
        ready; else (False, [])."""
        opt = self.optimizer
        if (every_batch or step >= full_steps or callable(opt._learning_rate)
                or (self._metrics and not self._native_metrics())):
            return False, []
        fast = self._fast_step(batch_size) if self._fast_ok else None
        if fast is None:
            return False, []
        count = min(self._NATIVE_CHUNK_STEPS, full_steps - step)
        losses = np.empty(count)
        correct = np.empty(count, np.int64) if self._metrics else None
        try:
            ran = fast[0].run_steps(x, y, order, step, count, opt._learning_rate, opt.iterations + 1, losses, correct)
        finally:  # counted even when Ctrl-C lands as the call returns: the weights took those steps
            updates = fast[0].last_updates
            opt.iterations += updates
            for m in self._metrics:  # what update() per step adds: integer counts, exact in any order
                m.add(correct[:updates].sum(), updates * batch_size)
        return True, losses[:ran].tolist()

    def _stop_non_finite(self, value, epoch, step, snapshot):
        if not np.isfinite(self._params).all():
            self._params[...] = snapshot
        raise FloatingPointError(
            f"the loss became {value} at epoch {epoch + 1}, step {step + 1}; training stopped "
            "and the weights are the last finite ones")

    def _logs(self, total, seen):
        return {"loss": total / seen, **{m.name: m.result() for m in self._metrics}}

    def _batch_size(self, batch_size):
        if batch_size is None:
            return 32
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
        return int(batch_size)

    def _evaluate(self, x, y, batch_size):
        for m in self._metrics:
            m.reset()
        total = 0.0
        for s in range(0, len(x), batch_size):
            xb, yb = x[s:s + batch_size], y[s:s + batch_size]
            out = self._forward(xb, False)
            value, _ = self._loss_and_grad(out, yb)
            total += value * len(xb)
            self._update_metrics(out, yb)
        return {"loss": total / max(len(x), 1), **{m.name: m.result() for m in self._metrics}}

    def evaluate(self, x, y, batch_size=32, verbose=0, return_dict=False):
        """Loss (and metrics) over x, y: a float when there are no metrics, else [loss, *metrics],
        or a dict with return_dict=True."""
        self._require_compiled()
        x = self._inputs(x)
        y = self._targets(y, len(x))
        self._prepare()
        result = self._evaluate(x, y, self._batch_size(batch_size))
        if verbose:
            print(" - ".join(f"{k}: {v:.4f}" for k, v in result.items()))
        if return_dict:
            return result
        values = list(result.values())
        return values[0] if len(values) == 1 else values

    def predict(self, x, batch_size=32, verbose=0):
        """Model outputs for x, (n, outputs), in the model's dtype."""
        x = self._inputs(x)
        batch_size = self._batch_size(batch_size)
        if self.loss is not None:
            self._prepare()
        out = np.empty((len(x), self.output_dim), self.dtype)
        for s in range(0, len(x), batch_size):
            out[s:s + batch_size] = self._predictions(self._forward(x[s:s + batch_size], False))
        return out

    def train_on_batch(self, x, y):
        """One optimizer step on (x, y); returns the loss (and metrics, as a list, if any)."""
        self._require_compiled()
        if not self._prepared:
            self._inputs(x)  # builds the model from x when it has no input size yet
            self._prepare()
        fast = self._fast_ok  # then the native step checks x and y for NaN/Inf before any update
        x = self._inputs(x, check_finite=not fast)
        y = self._targets(y, len(x), check_finite=not fast)
        for m in self._metrics:
            m.reset()
        value, out = self._train_batch(x, y, check_finite=fast)
        if not math.isfinite(value):
            raise FloatingPointError(f"the loss became {value}; the weights were not updated")
        self._update_metrics(out, y)
        return value if not self._metrics else [value] + [m.result() for m in self._metrics]

    # ---- save / load ----------------------------------------------------------------------------

    def get_config(self):
        self._ensure_built()
        return {"name": self.name, "backend": self.backend, "dtype": self.dtype.name, "seed": self.seed,
                "input_dim": getattr(self, "input_dim", None),
                "layers": [{"class": type(l).__name__, "config": l.get_config(), "state": l.get_state()}
                           for l in self.layers]}

    def save(self, path):
        """Architecture, weights and optimizer state in one .npz file."""
        arrays = {"weights": self._params} if self.built else {}
        meta = {"model": self.get_config()}
        if self.optimizer is not None:
            state = self.optimizer.get_state()
            meta["optimizer"] = {"config": state["config"], "iterations": state["iterations"],
                                 "names": state.get("names"), "slots": {k: len(v) for k, v in state["slots"].items()}}
            for k, lst in state["slots"].items():
                for i, a in enumerate(lst):
                    arrays[f"slot:{k}:{i}"] = a
            meta["loss"] = self.loss.name if not isinstance(self.loss, losses.CustomLoss) else None
            meta["metrics"] = self._metric_names
        with open(path, "wb") as f:
            np.savez(f, meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8), **arrays)


def load_model(path, backend=None):
    """A Sequential model saved with Model.save: same architecture, weights and optimizer state."""
    with np.load(path) as data:
        meta = json.loads(bytes(data["meta"]).decode())
        arrays = {k: data[k] for k in data.files if k != "meta"}
    cfg = meta["model"]
    layers = []
    for spec in cfg["layers"]:
        c = dict(spec["config"])
        if spec["class"] == "Dense":
            layers.append(Dense(c["units"], activation=c["activation"], use_bias=c["use_bias"],
                                input_dim=c["input_dim"], name=c["name"]))
        else:
            layers.append(LAYERS[spec["class"]](**c))
    model = Sequential(layers, backend=backend or cfg["backend"], dtype=cfg["dtype"], seed=cfg["seed"],
                       name=cfg["name"])
    if cfg["input_dim"] is not None and not model.built:
        model.build(cfg["input_dim"])
    if "weights" in arrays:
        model._params[...] = arrays["weights"]
    for layer, spec in zip(model.layers, cfg["layers"]):
        layer.set_state(spec.get("state", {}))
    if "optimizer" in meta:
        ocfg = meta["optimizer"]["config"]
        opt = type(optimizers.get(ocfg["name"])).from_config(ocfg)
        model.compile(optimizer=opt, loss=meta["loss"], metrics=meta["metrics"]) if meta["loss"] else None
        slots = {k: [arrays[f"slot:{k}:{i}"] for i in range(n)] for k, n in meta["optimizer"]["slots"].items()}
        opt.set_state({"iterations": meta["optimizer"]["iterations"], "config": ocfg, "slots": slots,
                       "names": meta["optimizer"]["names"]})
        if not meta["loss"]:
            model.optimizer = opt
            opt._ops = model._backend.ops
    return model
