"""The Keras 3 loss functions by name, in NumPy: ``fn(y_true, y_pred, ...)`` returns the per-sample
values (reduced over the last axis, as Keras's ``keras.losses.mean_squared_error`` and friends).

nnfast's one extension: ``with_grad=True`` returns ``(values, grad)``, where ``grad`` has y_pred's
shape and holds the derivative of each sample's value with respect to its own predictions (a
sample's value depends on its own row only). The loss classes scale it by the reduction; the
finite-difference tests hold every gradient to its value.

Constants and formulas are Keras's (torch backend): epsilon 1e-7, clipping where Keras clips (the
gradient is 0 where a clip was active, as torch's), label smoothing before the cross-entropy.
"""
import math

import numpy as np

from ..utils import checks

EPSILON = 1e-7  # keras.backend.epsilon()


def as_float_arrays(y_true, y_pred):
    """y_pred as a float array (float32, Keras's floatx, unless it already is float) and y_true in
    its dtype."""
    y_pred = real_array(y_pred, "y_pred")
    if y_pred.dtype not in (np.float32, np.float64):
        y_pred = y_pred.astype(np.float32)
    return real_array(y_true, "y_true").astype(y_pred.dtype, copy=False), y_pred


def real_array(value, name):
    """np.asarray(value), which must hold real numbers (floats, ints or bools): else a TypeError
    naming the argument (strings, objects, complex numbers, structured records)."""
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as err:  # ragged lists, ...
        raise TypeError(f"{name} must be an array of real numbers, got {type(value).__name__} ({err})") from None
    if array.dtype.kind not in "fiub":
        raise TypeError(f"{name} must be an array of real numbers, got dtype {array.dtype}")
    return array


def same_rank(x1, x2, expand_rank_1=True):
    """Keras's squeeze_or_expand_to_same_rank: when the ranks differ by one and the larger has a
    last axis of 1, squeeze it (or expand a rank-1 partner)."""
    if x1.ndim == x2.ndim + 1 and x1.shape[-1] == 1:
        if x2.ndim == 1 and expand_rank_1:
            x2 = x2[:, None]
        else:
            x1 = x1[..., 0]
    elif x2.ndim == x1.ndim + 1 and x2.shape[-1] == 1:
        if x1.ndim == 1 and expand_rank_1:
            x1 = x1[:, None]
        else:
            x2 = x2[..., 0]
    return x1, x2


def _prepared(y_true, y_pred, align=True):
    y_true, y_pred = as_float_arrays(y_true, y_pred)
    y_true, y_pred = same_rank(y_true, y_pred) if align else (y_true, y_pred)
    try:  # the values and the gradient have y_pred's shape: y_true must broadcast to it
        fits = np.broadcast_shapes(y_true.shape, y_pred.shape) == y_pred.shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"y_true must broadcast to the shape of y_pred {y_pred.shape}, got shape {y_true.shape}")
    return y_true, y_pred


def _result(values, grad, pred_shape, with_grad):
    """values, or (values, grad in y_pred's original shape)."""
    return (values, grad.reshape(pred_shape)) if with_grad else values


def _mean_last(terms, dterms, y_pred, pred_shape, with_grad):
    """Per-sample means of elementwise terms over the last axis, and their gradient."""
    n = terms.shape[-1] if terms.ndim else 1
    grad = dterms / y_pred.dtype.type(n) if with_grad else None
    return _result(np.mean(terms, axis=-1), grad, pred_shape, with_grad)


def mean_squared_error(y_true, y_pred, with_grad=False):
    """mean((y_true - y_pred)^2) over the last axis."""
    shape = np.shape(y_pred)
    t, p = _prepared(y_true, y_pred)
    d = p - t
    return _mean_last(d * d, 2 * d if with_grad else None, p, shape, with_grad)


def mean_absolute_error(y_true, y_pred, with_grad=False):
    """mean(|y_true - y_pred|) over the last axis."""
    shape = np.shape(y_pred)
    t, p = _prepared(y_true, y_pred)
    d = p - t
    return _mean_last(np.abs(d), np.sign(d) if with_grad else None, p, shape, with_grad)


def mean_absolute_percentage_error(y_true, y_pred, with_grad=False):
    """100 * mean(|(y_true - y_pred) / max(|y_true|, eps)|) over the last axis."""
    shape = np.shape(y_pred)
    t, p = _prepared(y_true, y_pred)
    scale = np.maximum(np.abs(t), p.dtype.type(EPSILON))
    terms = np.abs((t - p) / scale)
    values, grad = _mean_last(terms, np.sign(p - t) / scale, p, shape, True)
    return _result(100 * values, 100 * grad, shape, with_grad)


def mean_squared_logarithmic_error(y_true, y_pred, with_grad=False):
    """mean((log(max(y_pred, eps) + 1) - log(max(y_true, eps) + 1))^2) over the last axis."""
    shape = np.shape(y_pred)
    t, p = _prepared(y_true, y_pred)
    eps = p.dtype.type(EPSILON)
    shifted = np.maximum(p, eps) + 1
    d = np.log(shifted) - np.log(np.maximum(t, eps) + 1)
    dterms = np.where(p > eps, 2 * d / shifted, 0) if with_grad else None
    return _mean_last(d * d, dterms, p, shape, with_grad)


def huber(y_true, y_pred, delta=1.0, with_grad=False):
    """mean(0.5 e^2 where |e| <= delta, else delta |e| - 0.5 delta^2) over the last axis, e = y_pred - y_true."""
    shape = np.shape(y_pred)
    t, p = _prepared(y_true, y_pred)
    delta = p.dtype.type(delta)
    e = p - t
    small = np.abs(e) <= delta
    terms = np.where(small, 0.5 * e * e, delta * np.abs(e) - 0.5 * delta * delta).astype(p.dtype)
    dterms = np.where(small, e, delta * np.sign(e)) if with_grad else None
    return _mean_last(terms, dterms, p, shape, with_grad)


def log_cosh(y_true, y_pred, with_grad=False):
    """mean(log(cosh(y_pred - y_true))) over the last axis, as x + softplus(-2x) - log 2."""
    shape = np.shape(y_pred)
    t, p = _prepared(y_true, y_pred)
    x = p - t
    terms = x + np.logaddexp(p.dtype.type(0), -2 * x) - p.dtype.type(math.log(2.0))
    return _mean_last(terms, np.tanh(x) if with_grad else None, p, shape, with_grad)


def hinge_labels(y_true):
    """Keras converts labels that are all 0 or 1 to -1 or 1 (any other labels stay)."""
    return 2 * y_true - 1 if np.all((y_true == 0) | (y_true == 1)) else y_true


def hinge(y_true, y_pred, with_grad=False):
    """mean(max(1 - y_true * y_pred, 0)) over the last axis (0/1 labels become -1/1)."""
    shape = np.shape(y_pred)
    t, p = _prepared(y_true, y_pred, align=False)
    t = hinge_labels(t)
    margin = np.maximum(1 - t * p, 0)
    return _mean_last(margin, np.where(margin > 0, -t, 0) if with_grad else None, p, shape, with_grad)


def squared_hinge(y_true, y_pred, with_grad=False):
    """mean(max(1 - y_true * y_pred, 0)^2) over the last axis (0/1 labels become -1/1)."""
    shape = np.shape(y_pred)
    t, p = _prepared(y_true, y_pred, align=False)
    t = hinge_labels(t)
    margin = np.maximum(1 - t * p, 0)
    return _mean_last(margin * margin, -2 * t * margin if with_grad else None, p, shape, with_grad)


def categorical_hinge(y_true, y_pred, with_grad=False):
    """max(max((1 - y_true) * y_pred) - sum(y_true * y_pred) + 1, 0) over the last axis."""
    shape = np.shape(y_pred)
    t, p = _prepared(y_true, y_pred, align=False)
    if p.ndim == 0 or p.shape[-1] == 0:
        raise ValueError(f"y_pred must have at least one class on its last axis, got shape {p.shape}")
    others = (1 - t) * p
    values = np.maximum(others.max(axis=-1) - np.sum(t * p, axis=-1) + 1, 0)
    grad = None
    if with_grad:
        top = np.zeros_like(p)
        np.put_along_axis(top, others.argmax(axis=-1)[..., None], 1, axis=-1)
        grad = np.where((values > 0)[..., None], top * (1 - t) - t, 0)
    return _result(values, grad, shape, with_grad)


def kl_divergence(y_true, y_pred, with_grad=False):
    """sum(t log(t / p)) over the last axis, t and p clipped to [eps, 1]."""
    shape = np.shape(y_pred)
    t, p = _prepared(y_true, y_pred, align=False)
    eps = p.dtype.type(EPSILON)
    tc, pc = np.clip(t, eps, 1), np.clip(p, eps, 1)
    values = np.sum(tc * np.log(tc / pc), axis=-1)
    grad = np.where((p >= eps) & (p <= 1), -tc / pc, 0) if with_grad else None
    return _result(values, grad, shape, with_grad)


def poisson(y_true, y_pred, with_grad=False):
    """mean(y_pred - y_true log(y_pred + eps)) over the last axis."""
    shape = np.shape(y_pred)
    t, p = _prepared(y_true, y_pred, align=False)
    eps = p.dtype.type(EPSILON)
    terms = p - t * np.log(p + eps)
    return _mean_last(terms, 1 - t / (p + eps) if with_grad else None, p, shape, with_grad)


def cosine_similarity(y_true, y_pred, axis=-1, with_grad=False):
    """-sum(l2_normalize(y_true) * l2_normalize(y_pred)) over `axis` (norms floored at eps, as
    keras.ops.normalize: x * min(1/||x||, 1/eps))."""
    shape = np.shape(y_pred)
    t, p = _prepared(y_true, y_pred)
    cap = p.dtype.type(1 / EPSILON)

    def inverse_norm(x):
        with np.errstate(divide="ignore"):
            return np.minimum(1 / np.sqrt(np.sum(x * x, axis=axis, keepdims=True)), cap)

    tn = t * inverse_norm(t)
    inv_p = inverse_norm(p)
    pn = p * inv_p
    values = -np.sum(tn * pn, axis=axis)
    grad = None
    if with_grad:
        along = np.sum(tn * pn, axis=axis, keepdims=True)
        grad = np.where(inv_p < cap, -inv_p * (tn - along * pn), -tn * cap)
    return _result(values, grad, shape, with_grad)


def smooth_binary_labels(y_true, label_smoothing):
    return y_true * (1 - label_smoothing) + 0.5 * label_smoothing if label_smoothing else y_true


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1, with_grad=False):
    """mean over `axis` of the binary cross-entropy: of sigmoid(y_pred) when from_logits (as
    max(z, 0) - z t + log(1 + exp(-|z|))), else of y_pred clipped to [eps, 1 - eps]; labels smoothed
    to t (1 - ls) + ls / 2 first."""
    shape = np.shape(y_pred)
    t, p = _prepared(y_true, y_pred, align=False)
    t = smooth_binary_labels(t, label_smoothing)
    if from_logits:
        terms = np.maximum(p, 0) - p * t + np.log1p(np.exp(-np.abs(p)))
        dterms = (1 / (1 + np.exp(-p)) - t) if with_grad else None
    else:
        eps = p.dtype.type(EPSILON)
        pc = np.clip(p, eps, 1 - eps)
        terms = -(t * np.log(pc) + (1 - t) * np.log(1 - pc))
        dterms = np.where((p >= eps) & (p <= 1 - eps), (1 - t) / (1 - pc) - t / pc, 0) if with_grad else None
    n = p.dtype.type(terms.shape[axis]) if terms.ndim else 1
    values = np.mean(terms, axis=axis)
    return _result(values, dterms / n if with_grad else None, shape, with_grad)


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1, with_grad=False):
    """-sum(t log q) over `axis`: q = softmax(y_pred) when from_logits (log-softmax), else y_pred
    divided by its sum and clipped to [eps, 1 - eps]; labels smoothed to t (1 - ls) + ls / C first
    (C the size of the last axis, as Keras)."""
    if isinstance(axis, bool):
        raise TypeError(f"axis must be an int, got {axis!r}")
    shape = np.shape(y_pred)
    t, p = _prepared(y_true, y_pred, align=False)
    if label_smoothing:
        t = t * (1 - label_smoothing) + label_smoothing / p.dtype.type(t.shape[-1])
    if t.shape != p.shape:
        raise ValueError(f"y_true must have y_pred's shape {p.shape}, got {t.shape}")
    if from_logits:
        shifted = p - p.max(axis=axis, keepdims=True)
        log_q = shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))
        values = -np.sum(t * log_q, axis=axis)
        grad = np.exp(log_q) * np.sum(t, axis=axis, keepdims=True) - t if with_grad else None
        return _result(values, grad, shape, with_grad)
    eps = p.dtype.type(EPSILON)
    total = np.sum(p, axis=axis, keepdims=True)
    q = p / total
    qc = np.clip(q, eps, 1 - eps)
    values = -np.sum(t * np.log(qc), axis=axis)
    grad = None
    if with_grad:  # through the clip (0 where it was active), then through q = p / sum(p)
        dq = np.where((q >= eps) & (q <= 1 - eps), -t / qc, 0)
        grad = (dq - np.sum(dq * q, axis=axis, keepdims=True)) / total
    return _result(values, grad, shape, with_grad)


def one_hot_targets(y_true, y_pred, axis=-1):
    """Class indices as one-hot rows along `axis` of y_pred's shape (a trailing axis of 1 on
    indices of y_pred's rank is squeezed first, as Keras)."""
    y_pred = real_array(y_pred, "y_pred")
    idx = real_array(y_true, "y_true")
    if y_pred.ndim == 0:
        raise ValueError(f"y_pred must have a class axis, got shape {y_pred.shape}")
    if idx.ndim == y_pred.ndim and idx.shape[axis] == 1:
        idx = np.squeeze(idx, axis=axis)
    rows = tuple(int(d) for d in np.delete(np.array(y_pred.shape, dtype=np.int64), axis))
    if idx.shape != rows:
        raise ValueError(f"y_true must hold one class index per row of y_pred, shape {rows}, got shape {idx.shape}")
    if not np.all(np.equal(np.mod(idx, 1), 0)):
        raise ValueError("y_true must hold integer class indices")
    idx = idx.astype(np.int64)
    classes = y_pred.shape[axis]
    if idx.size and (idx.min() < 0 or idx.max() >= classes):
        raise ValueError(f"y_true must hold class indices in [0, {classes}), got values in "
                         f"[{idx.min()}, {idx.max()}]")
    onehot = np.zeros(y_pred.shape, y_pred.dtype if y_pred.dtype.kind == "f" else np.float32)
    np.put_along_axis(onehot, np.expand_dims(idx, axis), 1, axis=axis)
    return onehot


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None, axis=-1,
                                    with_grad=False):
    """categorical_crossentropy of the one-hot rows of the class indices y_true."""
    if ignore_class is not None:
        raise ValueError(f"ignore_class must be None (not supported by nnfast yet), got {ignore_class!r}")
    _, p = as_float_arrays(0, y_pred)
    return categorical_crossentropy(one_hot_targets(y_true, p, axis), p, from_logits=from_logits, axis=axis,
                                    with_grad=with_grad)


def check_label_smoothing(value):
    return checks.real("label_smoothing", value, 0.0, 1.0)
