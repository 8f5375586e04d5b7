"""The functional kernel API: native ops on C-contiguous float32/float64 NumPy arrays.

Every function here has a NumPy twin with the same signature and semantics in
``nnfast.reference``. Arguments are checked before any memory is touched: a wrong type or dtype
raises TypeError, a wrong shape, layout or value raises ValueError, each naming the argument.
Arrays are never converted silently (pass float32/float64, C-contiguous); another library's
C-contiguous CPU array that exports DLPack (``__dlpack__``: torch tensors, ...) or the buffer
protocol is used zero copy, in place where the function writes (see nnfast.utils.interop). The GIL
is released inside every kernel.
"""
from . import _core
from .utils import checks
from .utils.interop import call_with_views

ACTIVATIONS = tuple(_core.ACTIVATIONS)


def activation_forward(z, activation, out=None):
    """y = activation(z).

    z: array of any shape (softmax: at least 1-D, normalised over the last axis).
    activation: "linear" (or None), "relu", "leaky_relu" (slope 0.2), "sigmoid", "tanh", "softmax".
    out: optional array of z's shape and dtype to write into (may be z itself).
    """
    try:
        return _core.activation_forward(z, activation, out)
    except TypeError as error:  # another library's arrays? (nnfast.utils.interop)
        return call_with_views(error, activation_forward, locals())


def activation_backward(y, dy, activation, out=None):
    """dz = dL/dz from the activated output y and the upstream gradient dy (same shape).

    out: optional array to write into (may be y or dy itself).
    """
    try:
        return _core.activation_backward(y, dy, activation, out)
    except TypeError as error:  # another library's arrays? (nnfast.utils.interop)
        return call_with_views(error, activation_backward, locals())


# --- GEMM and the Dense layer -----------------------------------------------------------------
# Weights are (in, out): y = act(x @ w + b). A packed SIMD GEMM with bias and activation fused
# into its store; transposed operands are read in place, never copied.

def gemm(a, b, trans_a=False, trans_b=False, out=None):
    """op(a) @ op(b), where op transposes when its flag is set (read in place, not copied).

    a, b: 2-D C-contiguous arrays of one dtype. out: optional (m, n) array to write into (it must
    not overlap a or b). The sum over the inner size runs in a fixed order: 1 or 16 threads give
    the same bits."""
    try:
        return _core.gemm(a, b, checks.truth("trans_a", trans_a), checks.truth("trans_b", trans_b), out)
    except TypeError as error:  # another library's arrays? (nnfast.utils.interop)
        return call_with_views(error, gemm, locals())


def dense_forward(x, w, b=None, activation="linear", out=None):
    """y = activation(x @ w + b): x (M, K), w (K, N), b (N,) or None; softmax is over each row.
    out: optional (M, N) array to write into (must not overlap the inputs)."""
    try:
        return _core.dense_forward(x, w, b, activation, out)
    except TypeError as error:  # another library's arrays? (nnfast.utils.interop)
        return call_with_views(error, dense_forward, locals())


def dense_backward(x, w, y, dy, activation="linear", need_dx=True, need_db=True, dx_out=None,
                   dw_out=None, db_out=None):
    """(dx or None, dw, db or None) of y = activation(x @ w + b), from the activated output y and
    the upstream gradient dy (M, N): dz = dy * activation'(y), dw = x.T @ dz, db = dz.sum(0),
    dx = dz @ w.T. need_dx=False skips dx (a first layer), need_db=False skips db (no bias).
    *_out: optional arrays to write into."""
    try:
        return _core.dense_backward(x, w, y, dy, activation, checks.truth("need_dx", need_dx),
                                    checks.truth("need_db", need_db), dx_out, dw_out, db_out)
    except TypeError as error:  # another library's arrays? (nnfast.utils.interop)
        return call_with_views(error, dense_backward, locals())


# --- fused optimizer steps -------------------------------------------------------------------
# In place and multi-tensor: one native call updates every tensor, the work split over their
# concatenated elements. params/grads/state are lists of arrays (or one ndarray); state arrays are
# created and initialised by the caller. The update rules are docs/design.md's table, in the same
# operation order as nnfast.reference (results agree to the last bit).

def sgd_update(params, grads, momentum_buffers, *, step, learning_rate, momentum=0.0, nesterov=False,
               dampening=0.0, weight_decay=0.0, maximize=False, convention="keras"):
    """One SGD / momentum / Nesterov step. convention: "keras", "torch" or "dlfs" (the
    Deep-Learning-from-Scratch Nesterov recurrence). momentum_buffers may be None when momentum == 0.
    maximize (torch only) negates the gradient."""
    try:
        _core.sgd_update(params, grads, momentum_buffers, step, learning_rate, momentum, nesterov,
                         dampening, weight_decay, maximize, convention)
    except TypeError as error:  # another library's arrays? (nnfast.utils.interop)
        return call_with_views(error, sgd_update, locals())


def adagrad_update(params, grads, accumulators, *, step, learning_rate, epsilon, lr_decay=0.0,
                   weight_decay=0.0, maximize=False, convention="keras"):
    """One Adagrad step (keras: epsilon inside the square root; torch: outside, with lr_decay;
    maximize, torch only, negates the gradient)."""
    try:
        _core.adagrad_update(params, grads, accumulators, step, learning_rate, epsilon, lr_decay,
                             weight_decay, maximize, convention)
    except TypeError as error:  # another library's arrays? (nnfast.utils.interop)
        return call_with_views(error, adagrad_update, locals())


def rmsprop_update(params, grads, sq_avgs, grad_avgs, momentum_buffers, *, learning_rate, rho, epsilon,
                   momentum=0.0, centered=False, weight_decay=0.0, maximize=False, convention="keras"):
    """One RMSprop step. grad_avgs is used only when centered, momentum_buffers only when
    momentum > 0 (either may be None otherwise). maximize (torch only) negates the gradient."""
    try:
        _core.rmsprop_update(params, grads, sq_avgs, grad_avgs, momentum_buffers, learning_rate, rho,
                             epsilon, momentum, centered, weight_decay, maximize, convention)
    except TypeError as error:  # another library's arrays? (nnfast.utils.interop)
        return call_with_views(error, rmsprop_update, locals())


def adam_update(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, *, step, learning_rate, beta_1,
                beta_2, epsilon, amsgrad=False, weight_decay=0.0, decoupled_weight_decay=False,
                maximize=False, convention="keras"):
    """One Adam / AdamW step (max_exp_avg_sqs used only with amsgrad). Under "torch",
    decoupled_weight_decay=True is AdamW and maximize negates the gradient; under "keras" weight
    decay is always decoupled."""
    try:
        _core.adam_update(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, step, learning_rate,
                          beta_1, beta_2, epsilon, amsgrad, weight_decay, decoupled_weight_decay,
                          maximize, convention)
    except TypeError as error:  # another library's arrays? (nnfast.utils.interop)
        return call_with_views(error, adam_update, locals())


def adamax_update(params, grads, exp_avgs, exp_infs, *, step, learning_rate, beta_1, beta_2, epsilon,
                  weight_decay=0.0, maximize=False, convention="keras"):
    """One Adamax step (keras: u = max(b2*u, |g|), w -= lr*m/(bc1*(u + eps)); torch:
    u = max(b2*u, |g| + eps), w -= (lr/bc1)*m/u). maximize (torch only) negates the gradient."""
    try:
        _core.adamax_update(params, grads, exp_avgs, exp_infs, step, learning_rate, beta_1, beta_2, epsilon,
                            weight_decay, maximize, convention)
    except TypeError as error:  # another library's arrays? (nnfast.utils.interop)
        return call_with_views(error, adamax_update, locals())


def nadam_update(params, grads, exp_avgs, exp_avg_sqs, *, step, learning_rate, beta_1, beta_2, epsilon,
                 momentum_decay=4e-3, weight_decay=0.0, decoupled_weight_decay=False, maximize=False,
                 convention="keras"):
    """One Nadam step: Keras 3 Nadam (momentum cache decaying as 0.96^t) or torch.optim.NAdam (as
    0.96^(t*momentum_decay); decoupled_weight_decay, maximize). See nnfast.reference.nadam_update."""
    try:
        _core.nadam_update(params, grads, exp_avgs, exp_avg_sqs, step, learning_rate, beta_1, beta_2, epsilon,
                           momentum_decay, weight_decay, decoupled_weight_decay, maximize, convention)
    except TypeError as error:  # another library's arrays? (nnfast.utils.interop)
        return call_with_views(error, nadam_update, locals())


def radam_update(params, grads, exp_avgs, exp_avg_sqs, *, step, learning_rate, beta_1, beta_2, epsilon,
                 weight_decay=0.0, decoupled_weight_decay=False, maximize=False, convention="torch"):
    """One RAdam step (torch.optim.RAdam, with its rectification threshold rho_t > 5); convention
    must be "torch". See nnfast.reference.radam_update."""
    try:
        _core.radam_update(params, grads, exp_avgs, exp_avg_sqs, step, learning_rate, beta_1, beta_2, epsilon,
                           weight_decay, decoupled_weight_decay, maximize, convention)
    except TypeError as error:  # another library's arrays? (nnfast.utils.interop)
        return call_with_views(error, radam_update, locals())


def adadelta_update(params, grads, square_avgs, acc_deltas, *, learning_rate, rho, epsilon, weight_decay=0.0,
                    maximize=False, convention="keras"):
    """One Adadelta step (Keras 3 Adadelta or torch.optim.Adadelta; maximize is torch only). See
    nnfast.reference.adadelta_update."""
    try:
        _core.adadelta_update(params, grads, square_avgs, acc_deltas, learning_rate, rho, epsilon, weight_decay,
                              maximize, convention)
    except TypeError as error:  # another library's arrays? (nnfast.utils.interop)
        return call_with_views(error, adadelta_update, locals())


def lion_update(params, grads, exp_avgs, *, learning_rate, beta_1, beta_2, weight_decay=0.0, convention="keras"):
    """One Lion step (Keras 3 Lion; convention must be "keras"): w -= lr*sign(b1*m + (1-b1)*g),
    then m = b2*m + (1-b2)*g."""
    try:
        _core.lion_update(params, grads, exp_avgs, learning_rate, beta_1, beta_2, weight_decay, convention)
    except TypeError as error:  # another library's arrays? (nnfast.utils.interop)
        return call_with_views(error, lion_update, locals())


def ftrl_update(params, grads, accumulators, linears, *, learning_rate, learning_rate_power=-0.5,
                l1_regularization_strength=0.0, l2_regularization_strength=0.0,
                l2_shrinkage_regularization_strength=0.0, beta=0.0, weight_decay=0.0, convention="keras"):
    """One Ftrl step (Keras 3 Ftrl; convention must be "keras"). learning_rate_power -0.5 uses
    sqrt; other powers call the C library's pow in double per element (not vectorized). See
    nnfast.reference.ftrl_update."""
    try:
        _core.ftrl_update(params, grads, accumulators, linears, learning_rate, learning_rate_power,
                          l1_regularization_strength, l2_regularization_strength, l2_shrinkage_regularization_strength,
                          beta, weight_decay, convention)
    except TypeError as error:  # another library's arrays? (nnfast.utils.interop)
        return call_with_views(error, ftrl_update, locals())


# Each update function's native twin, which takes the same parameters positionally in signature
# order (as the functions above pass them) and converts no other library's arrays: an optimizer binds
# its constant arguments to it once (nnfast.optimizers.update_call).
sgd_update.native = _core.sgd_update
adagrad_update.native = _core.adagrad_update
rmsprop_update.native = _core.rmsprop_update
adam_update.native = _core.adam_update
adamax_update.native = _core.adamax_update
nadam_update.native = _core.nadam_update
radam_update.native = _core.radam_update
adadelta_update.native = _core.adadelta_update
lion_update.native = _core.lion_update
ftrl_update.native = _core.ftrl_update


def prepare_update(kernel, hyperparameters, state, learning_rate):
    """The update function named `kernel` ("sgd_update", ...) with its constant arguments checked
    once, as a callable ``call(params, grads, step)`` that runs ``kernel(params, grads, *state,
    step=step, learning_rate=learning_rate, **hyperparameters)`` on the native kernels, checking
    every array as that call does. `state` is the tuple of positional state arguments (a list of
    arrays per slot, or None). It takes NumPy arrays only (a TypeError otherwise) and is what an
    optimizer with a constant learning rate calls each step (nnfast.optimizers.base)."""
    return _core.prepare_update(kernel, dict(hyperparameters), tuple(state), learning_rate)


# --- losses ------------------------------------------------------------------------------------
# Each returns (loss, grad): the mean loss as a Python float and its gradient with respect to the
# prediction (same shape and dtype). "Mean" is over all elements, as Keras' mean over the last axis
# then over the batch. The loss is summed in fixed blocks: the same bits for any thread count.

def mse(pred, target, out=None):
    """Mean squared error: loss = mean((pred - target)^2), grad = 2 (pred - target) / n."""
    try:
        return _core.mse(pred, target, out)
    except TypeError as error:  # another library's arrays? (nnfast.utils.interop)
        return call_with_views(error, mse, locals())


def mae(pred, target, out=None):
    """Mean absolute error: loss = mean(|pred - target|), grad = sign(pred - target) / n."""
    try:
        return _core.mae(pred, target, out)
    except TypeError as error:  # another library's arrays? (nnfast.utils.interop)
        return call_with_views(error, mae, locals())


def binary_cross_entropy(prob, target, out=None, label_smoothing=0.0):
    """Binary cross-entropy of probabilities clipped to [1e-7, 1 - 1e-7] (as Keras); the gradient is 0
    where a probability was clipped. Targets are smoothed to t (1 - ls) + ls / 2 first."""
    try:
        return _core.binary_cross_entropy(prob, target, out, label_smoothing)
    except TypeError as error:  # another library's arrays? (nnfast.utils.interop)
        return call_with_views(error, binary_cross_entropy, locals())


def sigmoid_cross_entropy(logits, target, out=None, label_smoothing=0.0):
    """Binary cross-entropy of sigmoid(logits) (Keras's from_logits=True): mean(max(z, 0) - z t +
    log1p(exp(-|z|))), grad = (sigmoid(z) - t) / n; targets smoothed as in binary_cross_entropy."""
    try:
        return _core.sigmoid_cross_entropy(logits, target, out, label_smoothing)
    except TypeError as error:  # another library's arrays? (nnfast.utils.interop)
        return call_with_views(error, sigmoid_cross_entropy, locals())


def mape(pred, target, out=None):
    """Mean absolute percentage error: 100 mean(|(target - pred) / max(|target|, 1e-7)|)."""
    try:
        return _core.mape(pred, target, out)
    except TypeError as error:  # another library's arrays? (nnfast.utils.interop)
        return call_with_views(error, mape, locals())


def msle(pred, target, out=None):
    """Mean squared logarithmic error: mean((log(max(pred, eps) + 1) - log(max(target, eps) + 1))^2)."""
    try:
        return _core.msle(pred, target, out)
    except TypeError as error:  # another library's arrays? (nnfast.utils.interop)
        return call_with_views(error, msle, locals())


def huber(pred, target, out=None, delta=1.0):
    """Huber loss: mean of e^2 / 2 where |e| <= delta, else delta |e| - delta^2 / 2 (e = pred - target)."""
    try:
        return _core.huber(pred, target, out, delta)
    except TypeError as error:  # another library's arrays? (nnfast.utils.interop)
        return call_with_views(error, huber, locals())


def log_cosh(pred, target, out=None):
    """mean(log(cosh(pred - target))), computed as Keras does: x + softplus(-2 x) - log 2."""
    try:
        return _core.log_cosh(pred, target, out)
    except TypeError as error:  # another library's arrays? (nnfast.utils.interop)
        return call_with_views(error, log_cosh, locals())


def hinge(pred, target, out=None):
    """mean(max(1 - target * pred, 0)); targets that are all 0 or 1 count as -1 / 1 (Keras)."""
    try:
        return _core.hinge(pred, target, out)
    except TypeError as error:  # another library's arrays? (nnfast.utils.interop)
        return call_with_views(error, hinge, locals())


def squared_hinge(pred, target, out=None):
    """mean(max(1 - target * pred, 0)^2); targets that are all 0 or 1 count as -1 / 1 (Keras)."""
    try:
        return _core.squared_hinge(pred, target, out)
    except TypeError as error:  # another library's arrays? (nnfast.utils.interop)
        return call_with_views(error, squared_hinge, locals())


def poisson(pred, target, out=None):
    """mean(pred - target log(pred + 1e-7))."""
    try:
        return _core.poisson(pred, target, out)
    except TypeError as error:  # another library's arrays? (nnfast.utils.interop)
        return call_with_views(error, poisson, locals())


# Row-wise losses of (B, C) arrays: the mean over the batch of one value per row.

def kl_divergence(pred, target, out=None):
    """Kullback-Leibler divergence: mean over rows of sum(t log(t / p)), t and p clipped to [1e-7, 1]."""
    try:
        return _core.kl_divergence(pred, target, out)
    except TypeError as error:  # another library's arrays? (nnfast.utils.interop)
        return call_with_views(error, kl_divergence, locals())


def categorical_hinge(pred, target, out=None):
    """mean over rows of max(max((1 - t) p) - sum(t p) + 1, 0)."""
    try:
        return _core.categorical_hinge(pred, target, out)
    except TypeError as error:  # another library's arrays? (nnfast.utils.interop)
        return call_with_views(error, categorical_hinge, locals())


def cosine_similarity(pred, target, out=None):
    """mean over rows of -cos(pred, target) (each norm's inverse capped at 1e7, as Keras)."""
    try:
        return _core.cosine_similarity(pred, target, out)
    except TypeError as error:  # another library's arrays? (nnfast.utils.interop)
        return call_with_views(error, cosine_similarity, locals())


def categorical_cross_entropy(prob, labels, out=None, label_smoothing=0.0):
    """Categorical cross-entropy of probability rows (B, C), as Keras: rows divided by their sum and
    clipped to [1e-7, 1 - 1e-7]. labels: class indices (B,) or float rows, smoothed to
    t (1 - ls) + ls / C."""
    try:
        return _core.categorical_cross_entropy(prob, labels, out, label_smoothing)
    except TypeError as error:  # another library's arrays? (nnfast.utils.interop)
        return call_with_views(error, categorical_cross_entropy, locals())


def softmax_cross_entropy(logits, labels, out=None, label_smoothing=0.0):
    """Fused log-softmax and negative log-likelihood, mean over the batch.

    logits (B, C); labels: integer class indices (B,) in [0, C), or float rows (B, C) of logits'
    dtype (one-hot or probabilities), smoothed to t (1 - ls) + ls / C. grad = (softmax(logits) *
    rowsum(labels) - labels) / B, which is (softmax - onehot) / B for class indices. Extreme logits
    (+-1e4) stay finite."""
    try:
        return _core.softmax_cross_entropy(logits, labels, out, label_smoothing)
    except TypeError as error:  # another library's arrays? (nnfast.utils.interop)
        return call_with_views(error, softmax_cross_entropy, locals())


# --- dropout -----------------------------------------------------------------------------------

def dropout_forward(x, rate, seed, out=None, mask_out=None):
    """(y, mask): inverted dropout. Element i is kept when uniform(seed, i) >= rate (a counter-based
    stream of 32-bit draws, so the keep probability is resolved to 2^-32: the same mask for any
    thread count, and nnfast.reference draws the same one), and then scaled by 1 / (1 - rate).
    mask is a uint8 array of x's shape (1 = kept)."""
    try:
        return _core.dropout_forward(x, checks.number("rate", rate),
                                     checks.integer("seed", seed, lo=None) & 0xFFFFFFFFFFFFFFFF, out, mask_out)
    except TypeError as error:  # another library's arrays? (nnfast.utils.interop)
        return call_with_views(error, dropout_forward, locals())


def dropout_backward(dy, mask, rate, out=None):
    """dx = dy / (1 - rate) where mask is 1, else 0 (mask from dropout_forward)."""
    try:
        return _core.dropout_backward(dy, mask, checks.number("rate", rate), out)
    except TypeError as error:  # another library's arrays? (nnfast.utils.interop)
        return call_with_views(error, dropout_backward, locals())


# --- embedding ---------------------------------------------------------------------------------

def embedding_backward(dy, indices, rows, out=None):
    """dw (rows, cols) of an embedding table: the rows of dy (n, cols) summed into the rows indices
    (n integers in [0, rows)) name, each element's sum in the order its rows come (the same bits as
    nnfast.reference, for any thread count); rows no index names get 0. out: optional (rows, cols)
    array to write into."""
    try:
        return _core.embedding_backward(dy, indices, checks.integer("rows", rows, lo=0, hi=2 ** 63 - 1), out)
    except TypeError as error:  # another library's arrays? (nnfast.utils.interop)
        return call_with_views(error, embedding_backward, locals())


# --- normalization -----------------------------------------------------------------------------
# Keras 3's BatchNormalization (per feature, over the batch) and LayerNormalization (per row, over
# the last axis) on x (batch, features). Statistics are two-pass (mean, then the biased variance as
# the mean of squared deviations) with sums in double in a fixed order: the same bits for any
# thread count and at every ISA level. gamma, beta: (features,) or None (scale=False: 1,
# center=False: 0). Forward also returns the statistics it normalized with (mean, inv_std =
# 1/sqrt(variance + epsilon)), which backward takes; *_out let a model keep every result in
# preallocated buffers (they must not overlap any other array of the call).

def batch_norm_forward(x, gamma, beta, moving_mean, moving_var, training, momentum=0.99, epsilon=1e-3, out=None,
                       mean_out=None, inv_std_out=None):
    """(y, mean, inv_std), each feature normalized: y = (x - mean) * (inv_std * gamma) + beta.

    training=True: mean and inv_std (features,) come from the batch (biased variance; x needs at
    least one row), and moving_mean and moving_var are updated in place, as Keras:
    moving = moving * momentum + batch statistic * (1 - momentum) (the biased variance for
    moving_var). training=False: mean = moving_mean, inv_std = 1/sqrt(moving_var + epsilon), and
    nothing else is written. Keras defaults: momentum 0.99, epsilon 1e-3."""
    try:
        return _core.batch_norm_forward(x, gamma, beta, moving_mean, moving_var, checks.flag("training", training),
                                        checks.number("momentum", momentum), checks.number("epsilon", epsilon),
                                        out, mean_out, inv_std_out)
    except TypeError as error:  # another library's arrays? (nnfast.utils.interop)
        return call_with_views(error, batch_norm_forward, locals())


def batch_norm_backward(x, gamma, mean, inv_std, dy, training=True, need_dgamma=True, need_dbeta=True,
                        dx_out=None, dgamma_out=None, dbeta_out=None):
    """(dx, dgamma or None, dbeta or None) of batch_norm_forward, from x, gamma (or None), the mean
    and inv_std it returned and dy. With x_hat = (x - mean) * inv_std: dbeta = dy.sum(0),
    dgamma = (dy * x_hat).sum(0) and, in training (the statistics depend on x),
    dx = gamma * inv_std * (dy - dbeta / N - x_hat * dgamma / N); with training=False the
    statistics are constants and dx = dy * gamma * inv_std."""
    try:
        return _core.batch_norm_backward(x, gamma, mean, inv_std, dy, checks.flag("training", training),
                                         checks.truth("need_dgamma", need_dgamma),
                                         checks.truth("need_dbeta", need_dbeta), dx_out, dgamma_out, dbeta_out)
    except TypeError as error:  # another library's arrays? (nnfast.utils.interop)
        return call_with_views(error, batch_norm_backward, locals())


def layer_norm_forward(x, gamma, beta, epsilon=1e-3, out=None, mean_out=None, inv_std_out=None):
    """(y, mean, inv_std): each row normalized, y = (x - mean) * inv_std * gamma + beta, with mean
    and inv_std = 1/sqrt(biased variance + epsilon) of shape (batch,). x needs at least one feature.
    Keras default: epsilon 1e-3."""
    try:
        return _core.layer_norm_forward(x, gamma, beta, checks.number("epsilon", epsilon), out, mean_out, inv_std_out)
    except TypeError as error:  # another library's arrays? (nnfast.utils.interop)
        return call_with_views(error, layer_norm_forward, locals())


def layer_norm_backward(x, gamma, mean, inv_std, dy, need_dgamma=True, need_dbeta=True, dx_out=None,
                        dgamma_out=None, dbeta_out=None):
    """(dx, dgamma or None, dbeta or None) of layer_norm_forward, from x, gamma (or None), the mean
    and inv_std (batch,) it returned and dy. With x_hat = (x - mean) * inv_std and g = dy * gamma:
    dx = inv_std * (g - mean(g) - x_hat * mean(g * x_hat)) over each row, dgamma = (dy * x_hat).sum(0),
    dbeta = dy.sum(0)."""
    try:
        return _core.layer_norm_backward(x, gamma, mean, inv_std, dy, checks.truth("need_dgamma", need_dgamma),
                                         checks.truth("need_dbeta", need_dbeta), dx_out, dgamma_out, dbeta_out)
    except TypeError as error:  # another library's arrays? (nnfast.utils.interop)
        return call_with_views(error, layer_norm_backward, locals())


def normalization_forward(x, mean, variance, invert=False, out=None):
    """Keras's Normalization layer on x (batch, features) with its statistics mean and variance
    (features,): y = (x - mean) / max(sqrt(variance), 1e-7), or with invert mean + x * that."""
    try:
        return _core.normalization_forward(x, mean, variance, checks.truth("invert", invert), out)
    except TypeError as error:  # another library's arrays? (nnfast.utils.interop)
        return call_with_views(error, normalization_forward, locals())


def normalization_backward(dy, variance, invert=False, out=None):
    """The input gradient of normalization_forward: dy / max(sqrt(variance), 1e-7) (times it with
    invert); out may be dy (in place)."""
    try:
        return _core.normalization_backward(dy, variance, checks.truth("invert", invert), out)
    except TypeError as error:  # another library's arrays? (nnfast.utils.interop)
        return call_with_views(error, normalization_backward, locals())
