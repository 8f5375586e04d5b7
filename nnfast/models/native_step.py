"""The one-call native training step of a Dense stack: which models it covers, the records C++
reads (NativeLayerPlan), the step built per batch size (NativeStep), and the strategy that trains
whole runs of batches in native calls (NativeRuns).

The step runs forward, loss, backward and the optimizer update in C++, through the same kernels in
the same order as the Python loop of the trainer, so both give the same bits."""
from dataclasses import dataclass, replace
from typing import Optional

import numpy as np

from .. import _core
from .. import metrics as metrics_module
from ..layers import Dense
from ..optimizers import NativeUpdate


@dataclass(frozen=True, eq=False)  # holds arrays: compared by identity
class NativeLayerPlan:
    """One Dense layer as the native step reads it (by these names): its parameters, buffers of
    one batch size, gradients and the activation as the kernels compute it."""
    kernel: np.ndarray                 # (in, out)
    bias: Optional[np.ndarray]         # (out,) or None
    output: np.ndarray                 # (batch, out): activated output (logits when fused)
    input_grad: Optional[np.ndarray]   # (batch, in); None for the first layer
    kernel_grad: np.ndarray            # (in, out)
    bias_grad: Optional[np.ndarray]    # (out,) or None
    activation: str


@dataclass(frozen=True, eq=False)  # holds arrays: compared by identity
class NativeStep:
    """The native step made for one batch size and one optimizer state."""
    call: "_core.DenseStackStep"
    update: NativeUpdate        # the optimizer's update it was made with (its state in particular)
    output: np.ndarray          # the last layer's output buffer, (batch, outputs)


def dense_chain(layers):
    """The Dense layers of a chain that the one-call step can run: any InputLayer and Flatten
    layers first (they only reshape the input), then Dense layers only; else None."""
    from ..layers import Flatten, InputLayer

    start = 0
    while start < len(layers) and type(layers[start]) in (InputLayer, Flatten):
        start += 1
    chain = layers[start:]
    return chain if chain and all(type(layer) is Dense for layer in chain) else None


def covers(layers, loss, backend_name, regularized):
    """Whether the one-call step can train this model: native backend, Dense layers only, no
    regularizer, and a loss with a kernel (or softmax cross-entropy fused into the last layer)."""
    last = layers[-1]
    return (backend_name == "native" and not regularized
            and all(type(layer) is Dense for layer in layers)
            and (last.fused_softmax or (loss.kernel is not None and last.activation != "softmax")))


class NativeStepPlanner:
    """Builds and caches the native step of each batch size for a model's layers, loss and
    parameter arena. A cached step is reused while the optimizer's state is the same."""

    def __init__(self, layers, loss, param_views, grad_views, dtype):
        self.layers = layers
        self.loss_kernel = "softmax_cross_entropy" if layers[-1].fused_softmax else loss.kernel
        self.param_views = param_views
        self.grad_views = grad_views
        self.dtype = dtype
        self._steps = {}

    @property
    def batch_sizes(self):
        """The batch sizes a native step has been built for, in order."""
        return list(self._steps)

    def layer_plans(self, batch):
        plans = []
        for i, layer in enumerate(self.layers):
            plans.append(NativeLayerPlan(
                kernel=layer.kernel, bias=layer.bias, output=layer.output_buffer(batch),
                input_grad=layer.buffer("dx", (batch, layer.input_dim), self.dtype) if i else None,
                kernel_grad=layer.kernel_grad, bias_grad=layer.bias_grad, activation=layer.kernel_activation))
        return plans

    def step(self, optimizer, batch):
        """The NativeStep for this batch size, or None while the optimizer cannot run natively
        (see Optimizer.native_update). Its ``update`` is the optimizer's current one (so its
        learning rate is current too)."""
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
        call = _core.DenseStackStep(self.layer_plans(batch), last.buffer("dloss", (batch, last.units), self.dtype),
                                    self.loss_kernel, update.kernel, hyperparameters, self.param_views,
                                    self.grad_views, tuple(update.state))
        cached = self._steps[batch] = NativeStep(call, update, last.output_buffer(batch))
        return cached


class NativeRuns:
    """fit's strategy for runs of whole batches in native calls, gathering included: used when
    nothing in Python needs to see each batch (no callback that needs every batch, no metric but
    argmax accuracies, which C++ counts, and a constant learning rate)."""

    # Steps per native call: long enough that Python's share is negligible, short enough that
    # Ctrl-C (seen between calls) still stops fit promptly.
    CHUNK_STEPS = 256

    def __init__(self, planner, optimizer, metrics, sparse_targets):
        self.planner = planner
        self.optimizer = optimizer
        self.metrics = metrics
        kind = metrics_module.SparseCategoricalAccuracy if sparse_targets else metrics_module.CategoricalAccuracy
        self.metrics_native = all(type(m) is kind for m in metrics)

    def applicable(self, every_batch):
        """Whether this fit can use native runs at all (its callbacks and metrics allow them)."""
        return not every_batch and self.metrics_native

    def run(self, x, y, order, first, full_steps, batch_size):
        """The losses of the batches run from step `first` on (at most CHUNK_STEPS, whole batches
        only, stopping after a non-finite loss), or None when no whole batch is left, the learning
        rate is a schedule (evaluated per step in Python) or the native step is not ready."""
        if first >= full_steps or callable(self.optimizer.learning_rate):
            return None
        step = self.planner.step(self.optimizer, batch_size)
        if step is None:
            return None
        opt = self.optimizer
        count = min(self.CHUNK_STEPS, full_steps - first)
        batch_losses = np.empty(count)
        correct = np.empty(count, np.int64) if self.metrics else None
        try:
            ran = step.call.run_steps(x, y, order, first, count, step.update.learning_rate, opt.iterations + 1,
                                      batch_losses, correct)
        finally:  # counted even when Ctrl-C lands as the call returns: the weights took those steps
            updates = step.call.last_updates
            opt.iterations += updates
            for m in self.metrics:  # what update() per step adds: integer counts, exact in any order
                m.add(correct[:updates].sum(), updates * batch_size)
        return batch_losses[:ran].tolist()
