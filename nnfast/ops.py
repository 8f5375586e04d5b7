"""The functional kernel API: native ops on C-contiguous float32/float64 NumPy arrays.

Every function here has a NumPy twin with the same signature and semantics in
``nnfast.reference``. Arguments are checked before any memory is touched: a wrong type or dtype
raises TypeError, a wrong shape, layout or value raises ValueError, each naming the argument.
Arrays are never converted silently (pass float32/float64, C-contiguous). The GIL is released
inside every kernel.
"""
from . import _core

ACTIVATIONS = tuple(_core.ACTIVATIONS)


def activation_forward(z, activation, out=None):
    """y = activation(z).

    z: array of any shape (softmax: at least 1-D, normalised over the last axis).
    activation: "linear" (or None), "relu", "leaky_relu" (slope 0.2), "sigmoid", "tanh", "softmax".
    out: optional array of z's shape and dtype to write into (may be z itself).
    """
    return _core.activation_forward(z, activation, out)


def activation_backward(y, dy, activation, out=None):
    """dz = dL/dz from the activated output y and the upstream gradient dy (same shape).

    out: optional array to write into (may be y or dy itself).
    """
    return _core.activation_backward(y, dy, activation, out)


# --- GEMM and the Dense layer -----------------------------------------------------------------
# Weights are (in, out): y = act(x @ w + b). A packed SIMD GEMM with bias and activation fused
# into its store; transposed operands are read in place, never copied.

def gemm(a, b, trans_a=False, trans_b=False, out=None):
    """op(a) @ op(b), where op transposes when its flag is set (read in place, not copied).

    a, b: 2-D C-contiguous arrays of one dtype. out: optional (m, n) array to write into (it must
    not overlap a or b). The sum over the inner size runs in a fixed order: 1 or 16 threads give
    the same bits."""
    return _core.gemm(a, b, bool(trans_a), bool(trans_b), out)


def dense_forward(x, w, b=None, activation="linear", out=None):
    """y = activation(x @ w + b): x (M, K), w (K, N), b (N,) or None; softmax is over each row.
    out: optional (M, N) array to write into (must not overlap the inputs)."""
    return _core.dense_forward(x, w, b, activation, out)


def dense_backward(x, w, y, dy, activation="linear", need_dx=True, need_db=True, dx_out=None,
                   dw_out=None, db_out=None):
    """(dx or None, dw, db or None) of y = activation(x @ w + b), from the activated output y and
    the upstream gradient dy (M, N): dz = dy * activation'(y), dw = x.T @ dz, db = dz.sum(0),
    dx = dz @ w.T. need_dx=False skips dx (a first layer), need_db=False skips db (no bias).
    *_out: optional arrays to write into."""
    return _core.dense_backward(x, w, y, dy, activation, bool(need_dx), bool(need_db), dx_out, dw_out,
                                db_out)


# --- fused optimizer steps -------------------------------------------------------------------
# In place and multi-tensor: one native call updates every tensor, the work split over their
# concatenated elements. params/grads/state are lists of arrays (or one ndarray); state arrays are
# created and initialised by the caller. The update rules are docs/design.md's table, in the same
# operation order as nnfast.reference (results agree to the last bit).

def sgd_update(params, grads, momentum_buffers, *, step, learning_rate, momentum=0.0, nesterov=False,
               dampening=0.0, weight_decay=0.0, convention="keras"):
    """One SGD / momentum / Nesterov step. convention: "keras", "torch" or "dlfs" (the
    Deep-Learning-from-Scratch Nesterov recurrence). momentum_buffers may be None when momentum == 0."""
    _core.sgd_update(params, grads, momentum_buffers, step, learning_rate, momentum, nesterov,
                     dampening, weight_decay, convention)


def adagrad_update(params, grads, accumulators, *, step, learning_rate, epsilon, lr_decay=0.0,
                   weight_decay=0.0, convention="keras"):
    """One Adagrad step (keras: epsilon inside the square root; torch: outside, with lr_decay)."""
    _core.adagrad_update(params, grads, accumulators, step, learning_rate, epsilon, lr_decay,
                         weight_decay, convention)


def rmsprop_update(params, grads, sq_avgs, grad_avgs, momentum_buffers, *, learning_rate, rho, epsilon,
                   momentum=0.0, centered=False, weight_decay=0.0, convention="keras"):
    """One RMSprop step. grad_avgs is used only when centered, momentum_buffers only when
    momentum > 0 (either may be None otherwise)."""
    _core.rmsprop_update(params, grads, sq_avgs, grad_avgs, momentum_buffers, learning_rate, rho,
                         epsilon, momentum, centered, weight_decay, convention)


def adam_update(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, *, step, learning_rate, beta_1,
                beta_2, epsilon, amsgrad=False, weight_decay=0.0, decoupled_weight_decay=False,
                convention="keras"):
    """One Adam / AdamW step (max_exp_avg_sqs used only with amsgrad). Under "torch",
    decoupled_weight_decay=True is AdamW; under "keras" weight decay is always decoupled."""
    _core.adam_update(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, step, learning_rate,
                      beta_1, beta_2, epsilon, amsgrad, weight_decay, decoupled_weight_decay,
                      convention)


# --- losses ------------------------------------------------------------------------------------
# Each returns (loss, grad): the mean loss as a Python float and its gradient with respect to the
# prediction (same shape and dtype). "Mean" is over all elements, as Keras' mean over the last axis
# then over the batch. The loss is summed in fixed blocks: the same bits for any thread count.

def mse(pred, target, out=None):
    """Mean squared error: loss = mean((pred - target)^2), grad = 2 (pred - target) / n."""
    return _core.mse(pred, target, out)


def mae(pred, target, out=None):
    """Mean absolute error: loss = mean(|pred - target|), grad = sign(pred - target) / n."""
    return _core.mae(pred, target, out)


def binary_cross_entropy(prob, target, out=None):
    """Binary cross-entropy of probabilities clipped to [1e-7, 1 - 1e-7] (as Keras); the gradient is 0
    where a probability was clipped."""
    return _core.binary_cross_entropy(prob, target, out)


def softmax_cross_entropy(logits, labels, out=None):
    """Fused log-softmax and negative log-likelihood, mean over the batch.

    logits (B, C); labels: integer class indices (B,) in [0, C), or float rows (B, C) of logits'
    dtype (one-hot or probabilities). grad = (softmax(logits) * rowsum(labels) - labels) / B, which
    is (softmax - onehot) / B for class indices. Extreme logits (+-1e4) stay finite."""
    return _core.softmax_cross_entropy(logits, labels, out)


# --- dropout -----------------------------------------------------------------------------------

def dropout_forward(x, rate, seed, out=None, mask_out=None):
    """(y, mask): inverted dropout. Element i is kept when uniform(seed, i) >= rate (a counter-based
    stream: the same mask for any thread count, and nnfast.reference draws the same one), and then
    scaled by 1 / (1 - rate). mask is a uint8 array of x's shape (1 = kept)."""
    return _core.dropout_forward(x, float(rate), int(seed) & 0xFFFFFFFFFFFFFFFF, out, mask_out)


def dropout_backward(dy, mask, rate, out=None):
    """dx = dy / (1 - rate) where mask is 1, else 0 (mask from dropout_forward)."""
    return _core.dropout_backward(dy, mask, float(rate), out)
