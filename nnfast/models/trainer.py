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
from ..utils import checks
from ..utils.naming import unique_names
from . import batches, validation
from .locking import exclusive
from .native_step import (
    NativeRuns,
    NativeStepPlanner,
    covers,
    kernel_param,
    layer_chain,
    weighted_loss,
    weighted_loss_kernel,
)


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
        return self._graph.forward(self._backend, x if self.multiple_inputs else (x,), training)

    def _loss_and_grad(self, out, y, sample_weight=None):
        """(loss, d out) for the batch; out is logits when fused. With per-sample weights the loss
        is Keras's weighted one (each sample's loss times its weight, then the reduction) and each
        sample's gradient is scaled by its weight."""
        grad = self.layers[-1].buffer("dloss", out.shape, out.dtype)
        fused = self.layers[-1].fused_softmax
        if fused:
            value, grad = self.loss.fused_value_and_grad(self._backend, out, y, grad)
        else:
            value, grad = self.loss.value_and_grad(self._backend, out, y, grad)
        if sample_weight is not None:
            grad *= sample_weight.astype(grad.dtype).reshape((-1,) + (1,) * (grad.ndim - 1))
            kernel = weighted_loss_kernel(self.loss, fused) if self._backend.name == "native" else None
            if kernel is not None:  # the value the one-call step reports, from the same kernel
                value = weighted_loss(kernel, out, y, sample_weight, kernel_param(self.loss))
            else:
                value = self.loss(y, self._predictions(out) if fused else out, sample_weight=sample_weight)
        for layer in self._regularized:
            if layer.trainable and self.trainable:  # as Keras: the penalties of trainable weights only
                value += layer.regularization()
        return value + self._graph.activity_penalty, grad

    def _backward(self, grad):
        """Backward through the layers down to the first trained one (which needs no dx)."""
        self._graph.backward(self._backend, grad)

    def _train_batch(self, x, y, check_finite=False, sample_weight=None):
        planner = self._native_planner
        step = planner.step(self.optimizer, len(x), sample_weight is not None) if planner is not None else None
        if step is not None:
            opt = self.optimizer
            lr = step.update.learning_rate_at(opt.iterations)
            if x.ndim != 2:  # images the model flattens first: the step takes the flat view
                x = x.reshape(len(x), -1)
            try:
                value = step.run(x, y, lr, opt.iterations + 1, check_finite, sample_weight)
            finally:  # counted even when Ctrl-C lands as the call returns
                opt.iterations += step.call.last_updates
            self._apply_constraints()
            return value, step.output
        if check_finite:  # the caller left the NaN/Inf check to the native step, which is not built yet
            self._inputs(x)
            self._targets(y, batches.sample_count(x))
        out = self._forward(x, True)
        value, grad = self._loss_and_grad(out, y, sample_weight)
        if not math.isfinite(value):
            return value, out  # no update: the weights stay the last finite ones
        self._backward(grad)
        self.optimizer.apply(self._param_views, self._grad_views)
        self._apply_constraints()
        return value, out

    def _apply_constraints(self):
        """Each constrained weight replaced by constraint(weight) after the step, as Keras's optimizer
        does for the weights it trains."""
        for layer in self._constrained:
            for weight, constraint in layer.weight_constraints():
                weight[...] = constraint(weight)

    def _prepare(self):
        """Plan training for the compiled loss and metrics: softmax fusion, metric objects and
        whether the one-call native step covers the model."""
        for layer in self.layers:
            if isinstance(layer, Dense):
                layer.fused_softmax = False
        last = self.layers[-1]
        if self.loss.fuses_softmax and isinstance(last, Dense) and last.activation == "softmax":
            last.fused_softmax = True
        # The compiled metrics' objects (model.metrics) are made once per compile and shape: a
        # predict inside a training callback plans again, and must not wipe the epoch's running values.
        metrics_for = (self.output_dim, self.loss.sparse)
        if self._metrics_for != metrics_for:
            self.metrics = [metrics_module.get(m, self.output_dim, self.loss.sparse) for m in self.metric_names]
            self._metrics_for = metrics_for
        self._metrics = self.metrics
        argmax_only = (metrics_module.SparseCategoricalAccuracy, metrics_module.CategoricalAccuracy)
        # argmax of logits is argmax of softmax: only other metrics need the probabilities
        self._metrics_need_probs = last.fused_softmax and any(not isinstance(m, argmax_only) for m in self._metrics)
        chain = layer_chain(self._graph.layers) if self.fast_step and not self.multiple_inputs else None
        native = chain is not None and covers(chain, self.loss, self.backend,
                                              any(layer.trainable for layer in self._regularized)
                                              or self._activity_regularized)
        previous = self._native_planner
        timings = previous.timing_sources() if previous is not None else None
        self._native_planner = (NativeStepPlanner(chain, self.loss, self._param_views, self._grad_views,
                                                  self.dtype, timings) if native else None)
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

    @exclusive
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None, validation_split=0.0,
            validation_data=None, shuffle=True, class_weight=None, sample_weight=None, initial_epoch=0,
            steps_per_epoch=None, validation_steps=None, validation_batch_size=None, validation_freq=1):
        """Train (Keras's arguments, order and defaults); returns the History. Stops with
        FloatingPointError when the loss becomes NaN or Inf (the weights are then the last finite
        ones), and returns early on KeyboardInterrupt."""
        unsupported_fit_arguments(steps_per_epoch=steps_per_epoch, validation_steps=validation_steps)
        x, y, weights, n = self._data(x, y, sample_weight, class_weight)
        batch_size = validation.batch_size(batch_size)
        verbose = validation.verbosity(verbose)
        validation_freq = validation.frequency(validation_freq)
        epochs = checks.integer("epochs", epochs, lo=0)
        initial_epoch = checks.integer("initial_epoch", initial_epoch, lo=0)
        validation_batch_size = validation.batch_size(validation_batch_size or batch_size)
        validation_split = checks.real("validation_split", validation_split, 0.0, 1.0, hi_open=True)
        if validation_data is None and validation_split > 0:
            cut = int(n * (1.0 - validation_split))  # the last fraction, before shuffling (Keras)
            # Keras splits sample_weight with the data; class_weight weighs only the training part
            validation_data = (batches.rows(x, cut, n), y[cut:], None if sample_weight is None else weights[cut:])
            x, y, n = batches.rows(x, 0, cut), y[:cut], cut
            weights = None if weights is None else weights[:cut]
        elif validation_data is not None:
            validation_data = self._validation_data(validation_data)
        if n == 0:
            raise ValueError("x has no samples to train on")
        self._follow_trainable()
        self._graph.require_gradients()
        self._prepare()
        steps = -(-n // batch_size)
        cbs = callbacks_module.CallbackList(callbacks, model=self, add_history=True, add_progbar=verbose != 0,
                                            verbose=verbose, epochs=epochs, steps=steps)
        self.stop_training = False
        if self._shuffle_rng is None:  # one stream per model: successive fit calls continue it
            self._shuffle_rng = np.random.default_rng(None if self.seed is None else self.seed + 1)
        rng = self._shuffle_rng
        buffers = batches.BatchBuffers(x, y, batch_size)
        order = np.arange(n, dtype=np.int64)
        full_steps = n // batch_size
        flat_x = x.reshape(n, -1) if not self.multiple_inputs else None  # what native runs gather from
        per_batch = cbs.wants_batch_hooks()
        every_batch = cbs.wants_batch_hooks(every_batch=True)  # else native runs, one batch-end call each
        runs = None
        if self._native_planner is not None and not self._constrained:  # constraints run after every step
            runs = NativeRuns(self._native_planner, self.optimizer, self._metrics, self.loss.sparse)
            if not runs.applicable(every_batch):
                runs = None
        cbs.on_train_begin()
        last_logs = None  # the last finished epoch's, which on_train_end gets
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
                    # with batch hooks (a progress bar) the partial batch runs on its own, so that the
                    # hooks see the epoch's steps in the runs Keras's would
                    batch_losses = (None if runs is None
                                    else runs.run(flat_x, y, order, step, full_steps, batch_size, weights,
                                                  with_tail=not per_batch))
                    if batch_losses is not None:
                        for value in batch_losses:
                            if not math.isfinite(value):
                                self._stop_non_finite(value, epoch, step, snapshot)
                            size = batch_size if step < full_steps else n - full_steps * batch_size
                            total += value * size
                            seen += size
                            step += 1
                        if per_batch:
                            cbs.on_train_batch_end(step - 1, self._logs(total, seen))
                        if self.stop_training:
                            break
                        continue
                    idx = order[step * batch_size:(step + 1) * batch_size]
                    xb, yb = buffers.gather(x, y, idx)
                    wb = None if weights is None else weights[idx]
                    if per_batch:
                        cbs.on_train_batch_begin(step)
                    value, out = self._train_batch(xb, yb, sample_weight=wb)
                    total += value * len(idx)
                    seen += len(idx)
                    if not math.isfinite(value):
                        if per_batch:  # as Keras, the batch's end first: a callback (TerminateOnNaN) may stop
                            self._restore_finite(snapshot)
                            cbs.on_train_batch_end(step, self._logs(total, seen))
                        if not self.stop_training:
                            self._stop_non_finite(value, epoch, step, snapshot)
                        break
                    if self._metrics:
                        self._update_metrics(out, yb)
                    if per_batch:
                        cbs.on_train_batch_end(step, self._logs(total, seen))
                    step += 1
                    if self.stop_training:
                        break
                logs = self._logs(total, seen)
                if validation_data is not None and validation_freq(epoch):
                    cbs.on_test_begin()  # as Keras, whose fit runs evaluate with the callbacks
                    val = self._evaluate(*validation_data, batch_size=validation_batch_size, callbacks=cbs)
                    cbs.on_test_end(val)
                    logs.update({"val_" + k: v for k, v in val.items()})
                cbs.on_epoch_end(epoch, logs)
                last_logs = logs
                if self.stop_training:
                    break
        except KeyboardInterrupt:
            pass  # the weights are those of the last completed step
        cbs.on_train_end(last_logs)
        return self.history

    def _data(self, x, y, sample_weight=None, class_weight=None):
        """(x, y, per-sample weights or None, samples) checked for the compiled model."""
        self._require_compiled()
        x = self._inputs(x)
        n = batches.sample_count(x)
        y = self._targets(y, n)
        return x, y, validation.sample_weights(sample_weight, class_weight, y, n, self.output_dim), n

    def _validation_data(self, data):
        """validation_data as (x, y, sample weights or None): a pair or a triple, as Keras takes it."""
        if not isinstance(data, (tuple, list)) or len(data) not in (2, 3):
            raise ValueError("validation_data must be a tuple (x, y) or (x, y, sample_weight), "
                             f"got {type(data).__name__}")
        xv = self._inputs(data[0], "validation_data[0]")
        n = batches.sample_count(xv)
        yv = self._targets(data[1], n, "validation_data[1]")
        weights = validation.sample_weights(data[2] if len(data) == 3 else None, None, yv, n, self.output_dim)
        return xv, yv, weights

    def _restore_finite(self, snapshot):
        """Weights an earlier update overflowed go back to those of the epoch's start."""
        if not np.isfinite(self._params).all():
            self._params[...] = snapshot

    def _stop_non_finite(self, value, epoch, step, snapshot):
        self._restore_finite(snapshot)
        raise FloatingPointError(
            f"the loss became {value} at epoch {epoch + 1}, step {step + 1}; training stopped "
            "and the weights are the last finite ones")

    def _logs(self, total, seen):
        """The running loss and metrics by name, sorted by name as Keras 3 gives its logs."""
        return dict(sorted({"loss": total / seen, **self._metric_results()}.items()))

    def _metric_results(self):
        """The compiled metrics' results by name; a repeated name numbered as Keras numbers it
        ("accuracy", "accuracy_1")."""
        values = (m.result() for m in self._metrics)  # plain floats in the logs and history
        return dict(zip(unique_names([m.name for m in self._metrics]),
                        (float(v) if isinstance(v, float) else v for v in values)))

    def _evaluate(self, x, y, weights, batch_size, callbacks=None):
        """The loss and metrics over x, y; with `callbacks` (fit's validation), their test-batch hooks
        get each batch's running logs, as Keras's."""
        for m in self._metrics:
            m.reset()
        total, seen = 0.0, 0
        n = batches.sample_count(x)
        for step, s in enumerate(range(0, n, batch_size)):
            if callbacks is not None:
                callbacks.on_test_batch_begin(step)
            xb, yb = batches.rows(x, s, s + batch_size), y[s:s + batch_size]
            out = self._forward(xb, False)
            value, _ = self._loss_and_grad(out, yb, None if weights is None else weights[s:s + batch_size])
            total += value * len(yb)
            seen += len(yb)
            self._update_metrics(out, yb)
            if callbacks is not None:
                callbacks.on_test_batch_end(step, self._logs(total, seen))
        return self._logs(total, max(n, 1))

    @exclusive
    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None, steps=None,
                 callbacks=None, return_dict=False):
        """Loss (and metrics) over x, y: a float when there are no metrics, else [loss, *metrics],
        or a dict with return_dict=True (Keras's arguments: verbose="auto" draws the bar, as 1)."""
        unsupported_fit_arguments(steps=steps, callbacks=callbacks)
        x, y, weights, n = self._data(x, y, sample_weight)
        if n == 0:  # Keras fails here too, inside its model call
            raise ValueError("x has no samples to evaluate")
        self._prepare()
        batch_size = validation.batch_size(batch_size)
        progress = self._progress(verbose, n, batch_size)
        progress.on_test_begin()
        result = self._evaluate(x, y, weights, batch_size, callbacks=progress)
        progress.on_test_end(result)
        return result if return_dict else flattened(result, [m.name for m in self._metrics])

    @exclusive
    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        """The loss (and metrics) of x, y as one batch, as evaluate gives them: a float when there are
        no metrics, else [loss, *metrics], or a dict with return_dict=True. Nothing is trained."""
        self._require_compiled()
        return_dict = checks.truth("return_dict", return_dict)
        x, y, weights, _ = self._data(x, y, sample_weight)
        self._prepare()
        result = self._evaluate(x, y, weights, max(batches.sample_count(x), 1))
        return result if return_dict else flattened(result, [m.name for m in self._metrics])

    @exclusive
    def predict_on_batch(self, x):
        """Model outputs for x as one batch (predict with a batch of all of x)."""
        x = self._inputs(x)  # converted once: predict takes it as it is
        return self.predict(x, batch_size=max(batches.sample_count(x), 1), verbose=0)  # no bar, as Keras

    @exclusive
    def reset_metrics(self):
        """Clears the compiled metrics' state, as Keras's reset_metrics does (each fit, evaluate and
        *_on_batch call starts from cleared metrics in any case)."""
        for m in getattr(self, "_metrics", ()):
            m.reset()

    @exclusive
    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """Model outputs for x, (n, *the output shape), in the model's dtype."""
        unsupported_fit_arguments(steps=steps, callbacks=callbacks)
        x = self._inputs(x)
        batch_size = validation.batch_size(batch_size)
        if self.loss is not None:
            self._prepare()
        n = batches.sample_count(x)
        out = np.empty((n,) + self.output_shape[1:], self.dtype)
        progress = self._progress(verbose, n, batch_size)
        progress.on_predict_begin()
        for step, s in enumerate(range(0, n, batch_size)):
            out[s:s + batch_size] = self._predictions(self._forward(batches.rows(x, s, s + batch_size), False))
            progress.on_predict_batch_end(step)
        progress.on_predict_end()
        return out

    def _progress(self, verbose, n, batch_size):
        """The callbacks of evaluate and predict: Keras 3's progress bar for verbose=1 ("auto") or 2,
        nothing for 0."""
        verbose = validation.verbosity(verbose)
        return callbacks_module.CallbackList(None, model=self, add_progbar=verbose != 0, verbose=verbose,
                                             epochs=1, steps=-(-n // batch_size))

    @exclusive
    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        """One optimizer step on (x, y); returns the loss (and metrics, as a list, if any)."""
        self._require_compiled()
        return_dict = checks.truth("return_dict", return_dict)  # checked before the step, as every argument
        self._follow_trainable()
        if not self._prepared:
            self._inputs(x)  # builds the model from x when it has no input size yet
            self._prepare()
        self._graph.require_gradients()
        native = self._native_planner is not None  # then the native step checks x and y for NaN/Inf
        x = self._inputs(x, check_finite=not native)
        n = batches.sample_count(x)
        y = self._targets(y, n, check_finite=not native)
        weights = validation.sample_weights(sample_weight, class_weight, y, n, self.output_dim)
        for m in self._metrics:
            m.reset()
        value, out = self._train_batch(x, y, check_finite=native, sample_weight=weights)
        if not math.isfinite(value):
            raise FloatingPointError(f"the loss became {value}; the weights were not updated")
        self._update_metrics(out, y)
        result = self._logs(value, 1)
        return result if return_dict else flattened(result, [m.name for m in self._metrics])


def flattened(result, metric_names):
    """evaluate's value from its dict, in Keras's order: the loss alone without metrics, else the
    value of "loss" and of each compiled metric's name (`metric_names`), then the results under
    names none has (a repeat's "accuracy_1"), sorted. So a repeated name gives its first value
    twice, as in Keras."""
    if len(result) == 1:
        return result["loss"]
    names = ["loss", *metric_names]
    return [result[n] for n in names if n in result] + [result[k] for k in sorted(result) if k not in names]


def unsupported_fit_arguments(**arguments):
    """NotImplementedError naming the Keras training arguments given that nnfast does not support yet."""
    given = [k for k, v in arguments.items() if v is not None]
    if given:
        raise NotImplementedError(f"the argument(s) {', '.join(given)} are not supported by nnfast yet "
                                  "(see docs/keras.md)")
