"""The one-call native training step of a chain of layers: which models it covers, the records C++
reads (NativeLayerPlan), the step built per batch size (NativeStep), and the strategy that trains
whole runs of batches in native calls (NativeRuns).

The step runs forward, loss, backward and the optimizer update in C++, through the same kernels in
the same order as the Python loop of the trainer (GraphRun), so both give the same bits."""
from dataclasses import dataclass, field, replace
from typing import Optional

import numpy as np

from .. import _core
from .. import metrics as metrics_module
from ..layers import (
    Activation,
    BatchNormalization,
    Dense,
    Dropout,
    Flatten,
    InputLayer,
    LayerNormalization,
    LeakyReLU,
    Normalization,
    ReLU,
    Reshape,
    Softmax,
)
from ..optimizers import NativeUpdate

# The layer classes the step runs (exact types: a subclass may change what forward does) and the
# kind of record each becomes.
KINDS = {Dense: "dense", Activation: "activation", ReLU: "activation", LeakyReLU: "activation",
         Softmax: "activation", Dropout: "dropout", BatchNormalization: "batch_norm",
         LayerNormalization: "layer_norm", Normalization: "normalization"}

# Reductions under which the sample-weighted loss is sum(w_i * loss_i) / batch (Keras's).
WEIGHTED_REDUCTIONS = ("sum_over_batch_size", "mean")

UINT64 = 0xFFFFFFFFFFFFFFFF


@dataclass(frozen=True, eq=False)  # holds arrays: compared by identity
class NativeLayerPlan:
    """One layer as the native step reads it (by these names). Every kind has ``kind``, ``output``
    and ``input_grad``; the other fields are those of its kind (the rest keep their defaults):

    - dense: kernel, bias, kernel_grad, bias_grad, activation (as the kernels compute it), l2 (an L2
      penalty: the loss gains l2/2 * sum(kernel^2) and kernel_grad gains l2 * kernel; 0 for none);
    - activation: activation;
    - dropout: rate, seed (mod 2**64), calls (uint64 (1,): the layer's forward count, which each
      native forward uses and advances, stream = seed * 0x9E3779B97F4A7C15 + calls), mask (0 where
      dropped; after a fused batch normalization and activation, the gates its backward reads:
      docs/design.md);
    - batch_norm: gamma, beta, gamma_grad, beta_grad (each or None), mean, inv_std (features,),
      moving_mean, moving_variance (updated when training), training, momentum, epsilon;
    - layer_norm: gamma, beta, gamma_grad, beta_grad, mean, inv_std (batch,), epsilon;
    - normalization: moving_mean, moving_variance (features,): the layer's (adapted) mean and
      variance, and invert."""
    kind: str                          # dense, activation, dropout, batch_norm, layer_norm or normalization
    output: np.ndarray                 # (batch, out): the layer's output (logits when fused)
    input_grad: Optional[np.ndarray]   # (batch, in); None: no input gradient, backward stops here
    activation: str = "linear"
    kernel: Optional[np.ndarray] = None        # (in, out)
    bias: Optional[np.ndarray] = None          # (out,)
    kernel_grad: Optional[np.ndarray] = None   # (in, out)
    bias_grad: Optional[np.ndarray] = None     # (out,)
    l2: float = 0.0                            # dense: L2 penalty coefficient (nnfast.sklearn's alpha / batch)
    rate: float = 0.0
    seed: int = 0
    calls: Optional[np.ndarray] = None         # (1,) uint64
    mask: Optional[np.ndarray] = None          # (batch, out) uint8
    gamma: Optional[np.ndarray] = None         # (out,)
    beta: Optional[np.ndarray] = None
    gamma_grad: Optional[np.ndarray] = None
    beta_grad: Optional[np.ndarray] = None
    mean: Optional[np.ndarray] = None
    inv_std: Optional[np.ndarray] = None
    moving_mean: Optional[np.ndarray] = None
    moving_variance: Optional[np.ndarray] = None
    training: bool = True
    momentum: float = 0.0
    epsilon: float = 0.0
    invert: bool = False


@dataclass(frozen=True, eq=False)  # holds arrays: compared by identity
class NativeStep:
    """The native step made for one batch size and one optimizer state. ``run`` and ``run_steps``
    call it with the Dropout layers' forward counts handed over (``dropouts``: (layer, calls)
    pairs), so the layers' random streams continue where the native steps left them."""
    call: "_core.DenseStackStep"
    update: NativeUpdate        # the optimizer's update it was made with (its state in particular)
    output: np.ndarray          # the last layer's output buffer, (batch, outputs)
    dropouts: tuple = field(default=())

    def run(self, x, targets, learning_rate, step, check_finite=False, weights=None):
        """One step (DenseStackStep.run); weights (batch,) of any float dtype, or None."""
        if weights is not None:
            weights = np.ascontiguousarray(weights, self.output.dtype)
        return self._counted(self.call.run, x, targets, learning_rate, step, check_finite, weights)

    def run_steps(self, *args):
        """Whole batches (DenseStackStep.run_steps, its arguments in its order)."""
        return self._counted(self.call.run_steps, *args)

    def _counted(self, fn, *args):
        if not self.dropouts:
            return fn(*args)
        for layer, calls in self.dropouts:
            calls[0] = layer.get_state()["calls"]
        try:
            return fn(*args)
        finally:  # the forwards that ran, even when Ctrl-C lands as the call returns
            for layer, calls in self.dropouts:
                layer.set_state({"calls": int(calls[0])})


def layer_chain(layers):
    """The layers of a chain that the one-call step runs: after any leading InputLayer, Flatten and
    Reshape layers (they only reshape the input), only layers it has a kind for, Dropouts of rate 0 left
    out (they are the identity and draw nothing); else None."""
    start = 0
    while start < len(layers) and type(layers[start]) in (InputLayer, Flatten, Reshape):
        start += 1
    chain = layers[start:]
    if not chain or not all(type(layer) in KINDS for layer in chain):
        return None
    if any(getattr(layer, "numpy_activation", None) is not None for layer in chain):
        return None  # an activation the kernels do not compute runs in NumPy
    chain = [layer for layer in chain if not (type(layer) is Dropout and layer.rate == 0)]
    return chain or None


def covers(layers, loss, backend_name, regularized):
    """Whether the one-call step can train this chain: native backend, no regularizer, no softmax
    Dense layer but a fused output, and a loss with a kernel (or softmax cross-entropy fused into
    the last layer)."""
    last = layers[-1]
    dense_softmax = any(type(layer) is Dense and layer.kernel_activation == "softmax" for layer in layers)
    return (backend_name == "native" and not regularized and not dense_softmax
            and (last.fused_softmax or loss.kernel is not None))


def weighted_loss_kernel(loss, fused):
    """The loss kernel that computes `loss` with sample weights as Keras reduces it, or None."""
    kernel = "softmax_cross_entropy" if fused else loss.kernel
    return kernel if kernel is not None and loss.reduction in WEIGHTED_REDUCTIONS else None


def kernel_param(loss):
    """The loss kernel's parameter (Huber's delta, a label smoothing; else 0.0)."""
    return float(loss.kernel_params[0]) if loss.kernel_params else 0.0


def weighted_loss(kernel, pred, targets, weights, param=0.0):
    """Keras's sample-weighted loss, sum(w_i * loss_i) / batch, as the one-call step reports it
    (pred: logits for softmax_cross_entropy). The Python loop reports this value too, so both
    paths give the same bits."""
    return _core.weighted_loss(pred, targets, np.ascontiguousarray(weights, pred.dtype), kernel, param)


class NativeStepPlanner:
    """Builds and caches the native step of each batch size for a model's layers, loss and
    parameter arena. A cached step is reused while the optimizer's state is the same.

    ``timings``: the previous planner's ``timing_sources()`` (fit plans afresh in every call): a new
    step of the same shapes takes over its thread choice when that settled on all threads
    (DenseStackStep.adopt_timing), so that fit(epochs=1) in a loop does not probe the thread counts
    in every call. Only the time depends on it."""

    def __init__(self, layers, loss, param_views, grad_views, dtype, timings=None):
        self.layers = layers
        self.loss_kernel = "softmax_cross_entropy" if layers[-1].fused_softmax else loss.kernel
        self.loss_param = kernel_param(loss)
        self.weighted = weighted_loss_kernel(loss, layers[-1].fused_softmax) is not None
        self.param_views = param_views
        self.grad_views = grad_views
        self.dtype = dtype
        trained = {id(p) for p in param_views}
        # backward stops at the first layer with trained weights (GraphRun visits nothing before it)
        self.first_trained = next((i for i, layer in enumerate(layers)
                                   if any(id(w) in trained for w in getattr(layer, "weights", []))),
                                  len(layers) - 1)
        self.dropouts = tuple((layer, np.zeros(1, np.uint64)) for layer in layers if type(layer) is Dropout)
        self._steps = {}
        self._timings = dict(timings or {})  # shapes -> a step of the previous planner

    def _step_shapes(self, batch, update):
        """What a step's timings depend on: its layers' kinds and sizes, batch, dtype, loss and update."""
        layers = tuple((type(layer).__name__, layer.input_dim, layer.output_dim) for layer in self.layers)
        return layers, batch, np.dtype(self.dtype).str, self.loss_kernel, update.kernel, self.first_trained

    def timing_sources(self):
        """{shapes: step} of the steps built so far, for the next planner of this model. Only this
        planner's own: a step holds its buffers and its optimizer state, which older planners'
        steps would keep alive after a recompile or a new layout."""
        return {self._step_shapes(batch, step.update): step.call for batch, step in self._steps.items()}

    @property
    def batch_sizes(self):
        """The batch sizes a native step has been built for, in order."""
        return list(self._steps)

    def layer_plans(self, batch):
        calls = {id(layer): c for layer, c in self.dropouts}
        plans = []
        for i, layer in enumerate(self.layers):
            shape = (batch, layer.output_dim)
            input_grad = layer.buffer("dx", (batch, layer.input_dim), self.dtype) if i > self.first_trained else None
            kind = KINDS[type(layer)]
            if kind == "dense":
                plan = NativeLayerPlan(kind, layer.output_buffer(batch), input_grad, layer.kernel_activation,
                                       kernel=layer.kernel, bias=layer.bias, kernel_grad=layer.kernel_grad,
                                       bias_grad=layer.bias_grad)
            elif kind == "activation":
                plan = NativeLayerPlan(kind, layer.buffer("y", shape, self.dtype), input_grad, layer.activation)
            elif kind == "normalization":
                mean, variance = layer.statistics(self.dtype)
                plan = NativeLayerPlan(kind, layer.buffer("y", shape, self.dtype), input_grad, moving_mean=mean,
                                       moving_variance=variance, invert=layer.invert)
            elif kind == "dropout":
                plan = NativeLayerPlan(kind, layer.buffer("y", shape, self.dtype), input_grad, rate=layer.rate,
                                       seed=int(layer.seed or 0) & UINT64, calls=calls[id(layer)],
                                       mask=layer.buffer("mask", shape, np.uint8))
            else:  # batch_norm and layer_norm: statistics per feature or per row
                stats = layer.input_shape if kind == "batch_norm" else (batch,)
                norm = dict(gamma=layer.named("gamma"), beta=layer.named("beta"),
                            gamma_grad=layer.named("gamma", of=layer.grads),
                            beta_grad=layer.named("beta", of=layer.grads), mean=layer.buffer("mean", stats, self.dtype),
                            inv_std=layer.buffer("inv_std", stats, self.dtype), epsilon=layer.epsilon)
                if kind == "batch_norm":  # a frozen layer runs in inference mode, as its forward does
                    norm.update(moving_mean=layer.named("moving_mean"), moving_variance=layer.named("moving_variance"),
                                training=layer.trainable, momentum=layer.momentum)
                plan = NativeLayerPlan(kind, layer.buffer("y", shape, self.dtype), input_grad, **norm)
            plans.append(plan)
        return plans

    def step(self, optimizer, batch, weighted=False):
        """The NativeStep for this batch size, or None while the optimizer cannot run natively
        (see Optimizer.native_update) or, when `weighted`, the loss has no sample-weighted kernel.
        Its ``update`` is the optimizer's current one (so its learning rate is current too)."""
        if weighted and not self.weighted:
            return None
        update = optimizer.native_update()
        if update is None:
            return None
        cached = self._steps.get(batch)
        if cached is not None:
            if cached.update is update:
                return cached
            if cached.update.state is update.state:  # same buffers: only the learning rate changed
                cached = self._steps[batch] = replace(cached, update=update)
                return cached
        last = self.layers[-1]
        hyperparameters = dict(update.hyperparameters, learning_rate=0.0, step=1)
        plans = self.layer_plans(batch)
        call = _core.DenseStackStep(plans, last.buffer("dloss", (batch, last.output_dim), self.dtype),
                                    self.loss_kernel, update.kernel, hyperparameters, self.param_views,
                                    self.grad_views, tuple(update.state), self.loss_param)
        shapes = self._step_shapes(batch, update)
        # the timings of the step this one replaces (another optimizer state), else the previous planner's
        replaced = cached is not None and self._step_shapes(batch, cached.update) == shapes
        source = cached.call if replaced else self._timings.get(shapes)
        if source is not None:
            call.adopt_timing(source)
        cached = self._steps[batch] = NativeStep(call, update, plans[-1].output, self.dropouts)
        return cached


class NativeRuns:
    """fit's strategy for runs of whole batches in native calls, gathering included: used when
    nothing in Python needs to see each batch (no callback that needs every batch, no metric but
    argmax accuracies, which C++ counts, and a learning rate C++ can evaluate per step: a number,
    Keras 2's decay or a built-in schedule, see NativeUpdate.schedule)."""

    # Steps per native call: long enough that Python's share is negligible, short enough that
    # Ctrl-C (seen between calls) still stops fit promptly.
    CHUNK_STEPS = 256

    def __init__(self, planner, optimizer, metrics, sparse_targets):
        self.planner = planner
        self.optimizer = optimizer
        self.metrics = metrics
        kind = metrics_module.SparseCategoricalAccuracy if sparse_targets else metrics_module.CategoricalAccuracy
        self.binary_threshold = self._binary_threshold(metrics, planner.layers[-1].output_dim, sparse_targets)
        self.metrics_native = self.binary_threshold is not None or all(type(m) is kind for m in metrics)
        self._weights = None  # (the weights fit gave, the same in the model's dtype)
        # The native steps that have run on this fit's data: their next calls continue the proof of the
        # first layer's dead units (DenseStackStep.run_steps' continuing). fit takes its data as they
        # are when it starts, so x keeps its values between the calls of one fit.
        self._ran = set()

    @staticmethod
    def _binary_threshold(metrics, outputs, sparse_targets):
        """The threshold C++ counts BinaryAccuracy with, when every metric is one with that threshold
        and the model has one output and target rows (else None)."""
        thresholds = {m.fn_kwargs["threshold"] for m in metrics if type(m) is metrics_module.BinaryAccuracy}
        if metrics and outputs == 1 and not sparse_targets and len(thresholds) == 1 and \
                all(type(m) is metrics_module.BinaryAccuracy for m in metrics):
            return thresholds.pop()
        return None

    def applicable(self, every_batch):
        """Whether this fit can use native runs at all (its callbacks and metrics allow them)."""
        return not every_batch and self.metrics_native

    def run(self, x, y, order, first, full_steps, batch_size, weights=None, with_tail=True):
        """The losses of the batches run from step `first` on (at most CHUNK_STEPS whole batches,
        stopping after a non-finite loss; when they reach the last whole batch, the epoch's last,
        partial batch of the samples after it too, unless not `with_tail`), or None when no whole
        batch is left, the learning
        rate is a Python callable (evaluated per step in Python) or the native step is not ready
        (or not able to weigh samples, when `weights`, one per sample of x, are given)."""
        if first >= full_steps:
            return None
        step = self.planner.step(self.optimizer, batch_size, weighted=weights is not None)
        schedule = None if step is None else step.update.schedule()
        if schedule is None:
            return None
        if weights is not None and (self._weights is None or self._weights[0] is not weights):
            self._weights = (weights, np.ascontiguousarray(weights, step.output.dtype))  # converted once per fit
        opt = self.optimizer
        count = min(self.CHUNK_STEPS, full_steps - first)
        # the partial batch runs in the same call (as a step made for its size would), so that the
        # native step sees every sample of the epoch (the first layer's dead units, DeadUnits)
        tail = len(order) - full_steps * batch_size if with_tail and first + count == full_steps else 0
        batch_losses = np.empty(count + 1)
        correct = np.empty(count + 1, np.int64) if self.metrics else None
        try:
            ran = step.run_steps(x, y, order, first, count, schedule, opt.iterations + 1,
                                 batch_losses, correct, None if weights is None else self._weights[1],
                                 self.binary_threshold, step.call in self._ran, tail)
            self._ran.add(step.call)
        finally:  # counted even when Ctrl-C lands as the call returns: the weights took those steps
            updates = step.call.last_updates
            opt.iterations += updates
            samples = min(updates, count) * batch_size + (tail if updates > count else 0)
            for m in self.metrics:  # what update() per step adds: integer counts, exact in any order
                m.add(correct[:updates].sum(), samples)
        return batch_losses[:ran].tolist()
