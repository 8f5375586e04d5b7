"""Whole epochs of scikit-learn's sgd / adam steps in native calls.

nnfast's one-call training step (``_core.DenseStackStep``, the one nnfast.models uses) runs a
batch's forward pass, the softmax cross-entropy, the backward pass, scikit-learn's L2 term and the
fused optimizer update in C++, and ``run_steps`` gathers the shuffled batches itself, so an epoch
of small batches costs no Python per step. It computes what ``Network.loss_grad`` and the solver's
update compute, through the same kernels, where it applies: a softmax (multiclass) output, no
sample weights, dense input. One difference: the loss it reports is the log-loss from the logits
(log-sum-exp), where scikit-learn clips the probabilities to [eps, 1 - eps] first; they differ
only for a sample whose predicted probability of its class is below eps (a loss above 36.04 in
float64, 15.94 in float32), which scikit-learn counts as -log(eps). The weights are the same."""
import numpy as np

from .. import _core
from ..models.native_step import NativeLayerPlan

# Steps per native call: Ctrl-C (seen between calls) still stops fit promptly.
CHUNK_STEPS = 256


def applicable(network, sample_weight, X):
    """Whether native epochs compute this training exactly as the Python loop does."""
    return network.out_activation == "softmax" and sample_weight is None and not hasattr(X, "toarray")


class NativeEpochs:
    """The native steps of one fit: one DenseStackStep per batch size over the network's arena, its
    buffers and the solver's state (all of which live as long as the fit)."""

    def __init__(self, network, solver, alpha, X, labels):
        self.network, self.solver, self.alpha = network, solver, alpha
        self.X = X
        self.labels = np.ascontiguousarray(labels, dtype=np.int64)
        self.steps = {}
        self.ran = set()  # the steps that ran on this fit's X: their next calls continue its proofs

    def step(self, batch):
        call = self.steps.get(batch)
        if call is None:
            net = self.network
            acts, dxs, delta = net.batch_buffers(batch)
            last = len(net.coefs) - 1
            plans = [NativeLayerPlan("dense", acts[i], dxs[i], net.hidden if i < last else "linear",
                                     kernel=net.coefs[i], bias=net.intercepts[i], kernel_grad=net.coef_grads[i],
                                     bias_grad=net.intercept_grads[i], l2=self.alpha / batch)
                     for i in range(last + 1)]
            kernel, kwargs, states = self.solver.native_update()
            states = tuple(None if s is None else sum(net.views(s), []) for s in states)
            call = self.steps[batch] = _core.DenseStackStep(
                plans, delta, "softmax_cross_entropy", kernel, kwargs, net.coefs + net.intercepts,
                net.coef_grads + net.intercept_grads, states)
        return call

    def run(self, order, slices, total):
        """Runs the batches `slices` of the sample order natively, as long as their losses stay
        finite: (batches run, `total` plus their losses x batch lengths, added in order as
        scikit-learn accumulates them). A batch whose loss is not finite is not applied; the
        caller runs it and the rest in Python, as scikit-learn would."""
        order = np.ascontiguousarray(order, dtype=np.int64)
        done = 0
        while done < len(slices):
            size = slices[done].stop - slices[done].start
            count = 1
            while (done + count < len(slices) and count < CHUNK_STEPS
                   and slices[done + count].stop - slices[done + count].start == size):
                count += 1
            call = self.step(size)
            losses = np.empty(count)
            start = slices[done].start
            try:
                # continuing: the first layer's units proven dead over X stay proven (X does not
                # change during the fit)
                call.run_steps(self.X, self.labels, order[start:start + count * size], 0, count,
                               self.solver.learning_rate_now(), self.solver.t + 1, losses, None,
                               continuing=call in self.ran)
                self.ran.add(call)
            finally:  # the updates that ran count even when Ctrl-C lands as the call returns
                applied = call.last_updates
                self.solver.advance(applied)
            for loss in losses[:applied].tolist():
                total += loss * size
            done += applied
            if applied < count:
                break
        return done, total
