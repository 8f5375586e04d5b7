"""Training, evaluation and prediction of a model (as Keras 3's Trainer): fit, evaluate, predict
and train_on_batch over the model's layers, loss, metrics and optimizer.

One loop serves both backends and every model. Batches run through the one-call native step when
the model allows it (NativeStepPlanner), whole runs of batches go to C++ at once when nothing in
Python needs to see each batch (NativeRuns), and any other model takes the general Python loop of
layer calls. All three give the same bits."""
import math

import numpy as np

from .. import callbacks as callbacks_module
from .. import metrics as metrics_module
from ..layers import Dense
from . import validation
from .native_step import NativeRuns, NativeStepPlanner, covers


class Trainer:
    """fit / evaluate / predict / train_on_batch, mixed into a model that provides ``layers``,
    ``optimizer``, ``loss``, ``metrics`` names, ``dtype``, ``input_dim``/``output_dim``, the
    parameter arena and ``build``."""

    @property
    def native_planner(self):
        """The planner of the one-call native step (NativeStepPlanner) when the compiled model is
        one it covers, else None. Made when training or evaluation starts."""
        return self._native_planner

    # ---- the step -------------------------------------------------------------------------------

    def _forward(self, x, training):
        h = x
        for layer in self.layers:
            h = layer.forward(self._backend, h, training)
        return h

    def _loss_and_grad(self, out, y):
        """(loss, d out) for the batch; out is logits when fused."""
        grad = self.layers[-1].buffer("dloss", out.shape, out.dtype)
        if self.layers[-1].fused_softmax:
            value, grad = self.loss.fused_value_and_grad(self._backend, out, y, grad)
        else:
            value, grad = self.loss.value_and_grad(self._backend, out, y, grad)
        for layer in self._regularized:
            value += layer.regularization()
        return value, grad

    def _backward(self, grad):
        """Backward through the layers down to the first one with parameters (which needs no dx)."""
        backend = self._backend
        for layer, need_dx in self._backward_plan:
            grad = layer.backward(backend, grad, need_dx)

    def _train_batch(self, x, y, check_finite=False):
        planner = self._native_planner
        step = planner.step(self.optimizer, len(x)) if planner is not None else None
        if step is not None:
            opt = self.optimizer
            lr = step.update.learning_rate
            if callable(lr):
                lr = float(lr(opt.iterations))
            try:
                value = step.call.run(x, y, lr, opt.iterations + 1, check_finite)
            finally:  # counted even when Ctrl-C lands as the call returns
                opt.iterations += step.call.last_updates
            return value, step.output
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

    def _prepare(self):
        """Plan training for the compiled loss and metrics: softmax fusion, metric objects and
        whether the one-call native step covers the model."""
        for layer in self.layers:
            if isinstance(layer, Dense):
                layer.fused_softmax = False
        last = self.layers[-1]
        if self.loss.fuses_softmax and isinstance(last, Dense) and last.activation == "softmax":
            last.fused_softmax = True
        self._metrics = [metrics_module.get(m, self.output_dim, self.loss.sparse) for m in self.metric_names]
        argmax_only = (metrics_module.SparseCategoricalAccuracy, metrics_module.CategoricalAccuracy)
        # argmax of logits is argmax of softmax: only other metrics need the probabilities
        self._metrics_need_probs = last.fused_softmax and any(not isinstance(m, argmax_only) for m in self._metrics)
        native = self.fast_step and covers(self.layers, self.loss, self.backend, self._regularized)
        self._native_planner = (NativeStepPlanner(self.layers, self.loss, self._param_views, self._grad_views,
                                                  self.dtype) if native else None)
        self._prepared = True

    def _predictions(self, out):
        """Probabilities from the last layer's output (softmax applied when it was fused)."""
        last = self.layers[-1]
        if last.fused_softmax:
            return self._backend.activation_forward(out, "softmax", last.buffer("probs", out.shape, out.dtype))
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
        batch_size = validation.batch_size(batch_size)
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
        runs = None
        if self._native_planner is not None:
            runs = NativeRuns(self._native_planner, self.optimizer, self._metrics, self.loss.sparse)
            if not runs.applicable(every_batch):
                runs = None
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
                    batch_losses = runs.run(x, y, order, step, full_steps, batch_size) if runs is not None else None
                    if batch_losses is not None:
                        for value in batch_losses:
                            if not math.isfinite(value):
                                self._stop_non_finite(value, epoch, step, snapshot)
                            total += value * batch_size
                            seen += batch_size
                            step += 1
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

    def _stop_non_finite(self, value, epoch, step, snapshot):
        if not np.isfinite(self._params).all():
            self._params[...] = snapshot
        raise FloatingPointError(
            f"the loss became {value} at epoch {epoch + 1}, step {step + 1}; training stopped "
            "and the weights are the last finite ones")

    def _logs(self, total, seen):
        return {"loss": total / seen, **{m.name: m.result() for m in self._metrics}}

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
        result = self._evaluate(x, y, validation.batch_size(batch_size))
        if verbose:
            print(" - ".join(f"{k}: {v:.4f}" for k, v in result.items()))
        if return_dict:
            return result
        values = list(result.values())
        return values[0] if len(values) == 1 else values

    def predict(self, x, batch_size=32, verbose=0):
        """Model outputs for x, (n, outputs), in the model's dtype."""
        x = self._inputs(x)
        batch_size = validation.batch_size(batch_size)
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
        native = self._native_planner is not None  # then the native step checks x and y for NaN/Inf
        x = self._inputs(x, check_finite=not native)
        y = self._targets(y, len(x), check_finite=not native)
        for m in self._metrics:
            m.reset()
        value, out = self._train_batch(x, y, check_finite=native)
        if not math.isfinite(value):
            raise FloatingPointError(f"the loss became {value}; the weights were not updated")
        self._update_metrics(out, y)
        return value if not self._metrics else [value] + [m.result() for m in self._metrics]
