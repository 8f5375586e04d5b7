"""Pure-NumPy reference implementation of every op in :mod:`nnfast.ops`.

This module is the NumPy twin of the native kernels: it defines what the right answer is, and the
native ops are tested against it. It imports only NumPy, the standard library and nnfast.utils.checks, and mirrors the
signatures of :mod:`nnfast.ops` exactly.

Choices recorded here (see also ``docs/design.md``, sections *Numerics* and *Optimizer conventions*):

* dtypes: float32 and float64. A computation stays in the input dtype (Python ``float`` scalars are
  NumPy-2 "weak" scalars and never upcast a float32 array) and every result has the input dtype.
  Mixing dtypes in one call raises ``TypeError``; for the optimizer updates "one call" covers every
  tensor of the multi-tensor lists (params, grads and state must all share one dtype).
* Weights are ``(in, out)``: ``y = act(x @ w + b)``.
* Activations: ``"linear"`` (``None`` means linear too), ``"relu"`` (``where(z < 0, 0, z)``, the
  kernels' select: -0 stays -0), ``"leaky_relu"`` (negative
  slope :data:`LEAKY_RELU_SLOPE` = 0.2, the Keras string default), ``"sigmoid"``, ``"tanh"`` and
  ``"softmax"`` (over the last axis). Backward passes use the activated output ``y`` only.
  The relu / leaky_relu backward *selects* (``where(y > 0, dy, slope*dy)``) rather than multiplying by
  a 0/1 mask, so a non-finite ``dy`` where ``y <= 0`` gives 0 for relu, as in PyTorch.
  Sigmoid is evaluated as ``where(z >= 0, 1/(1+e), e/(1+e))`` with ``e = exp(-|z|)``, which never
  overflows. ``leaky_relu`` forward is ``where(z < 0, 0.2*z, z)`` (the kernels' select).
* Subnormals: with ``nnfast.set_flush_denormal`` on (the default) every public function computes
  with the kernels' flush-to-zero semantics (:mod:`nnfast.utils.subnormals`).
* Losses return ``(loss, grad)``: ``loss`` is a Python ``float`` computed in the input dtype, ``grad``
  has the prediction's shape and dtype. "mean" is over all elements (Keras' mean over the last axis
  then over the batch, for equal-length rows). The ``1/n`` factor of a gradient is computed once in
  double and applied as one multiplication. An empty input gives ``(0.0, empty gradient)``.
* ``binary_cross_entropy`` clips probabilities to ``[BCE_EPSILON, 1 - BCE_EPSILON]`` (1e-7, as Keras;
  the bounds are rounded to the input dtype) and its gradient is 0 where the input was clipped.
* ``softmax_cross_entropy`` takes integer class indices ``(B,)`` or float rows ``(B, C)`` (one-hot or
  probabilities, same dtype as the logits); ``dlogits = (softmax*rowsum(labels) - labels) / B``.
  ``B > 0`` with ``C == 0`` is a ``ValueError``.
* Optimizer updates are functional, in place and multi-tensor: they take lists of arrays (a single
  ndarray is a one-element list), update params and state in place and return ``None``. State arrays
  are created and initialised by the caller. ``step`` is the 1-based step count. Step-dependent
  scalars (bias corrections, decayed learning rate) are computed once in Python ``float`` (double).
  Every argument is checked before anything is modified. Options that exist only in one convention
  (``dampening``, ``lr_decay``) raise ``ValueError`` if set under the other. Under ``"torch"`` SGD,
  nesterov requires ``momentum > 0`` and ``dampening == 0`` (as ``torch.optim.SGD``); under
  ``"keras"``/``"dlfs"`` a zero momentum is plain SGD, whatever ``nesterov`` says.
  ``epsilon = 0`` is allowed (the lecture notes use it); a zero denominator then gives inf/NaN, as in
  Keras and PyTorch.
"""

import math

import numpy as np

from .utils import checks, fused, subnormals

__all__ = [
    "ACTIVATIONS",
    "CONVENTIONS",
    "SGD_CONVENTIONS",
    "LEAKY_RELU_SLOPE",
    "BCE_EPSILON",
    "activation_forward",
    "activation_backward",
    "dense_forward",
    "dense_backward",
    "mse",
    "mae",
    "binary_cross_entropy",
    "sigmoid_cross_entropy",
    "mape",
    "msle",
    "huber",
    "log_cosh",
    "hinge",
    "squared_hinge",
    "poisson",
    "kl_divergence",
    "categorical_hinge",
    "cosine_similarity",
    "categorical_cross_entropy",
    "softmax_cross_entropy",
    "sgd_update",
    "adagrad_update",
    "rmsprop_update",
    "adam_update",
    "adamax_update",
    "nadam_update",
    "radam_update",
    "adadelta_update",
    "lion_update",
    "ftrl_update",
]

ACTIVATIONS = ("linear", "relu", "leaky_relu", "sigmoid", "tanh", "softmax")
CONVENTIONS = ("keras", "torch")
SGD_CONVENTIONS = ("keras", "torch", "dlfs")
LEAKY_RELU_SLOPE = 0.2
BCE_EPSILON = 1e-7



# --------------------------------------------------------------------------------------------------
# argument checks
# --------------------------------------------------------------------------------------------------

def _float_arrays(**named):
    """Convert the named inputs to arrays and check they share one float dtype.

    Returns the arrays in the order given. ``None`` values are passed through.
    """
    arrays = {}
    dtype = None
    first = None
    for name, value in named.items():
        if value is None:
            arrays[name] = None
            continue
        a = np.asanyarray(value)  # keeps subnormals.Flushed
        checks.float_dtype(name, a.dtype)
        if dtype is None:
            dtype, first = a.dtype, name
        elif a.dtype != dtype:
            raise TypeError(f"mixed dtypes: {first} is {dtype} but {name} is {a.dtype}")
        arrays[name] = a
    return tuple(arrays.values())


def _same_shape(name_a, a, name_b, b):
    if a.shape != b.shape:
        raise ValueError(f"{name_b} must have the shape of {name_a} {a.shape}, got {b.shape}")


def _activation_name(activation):
    """The activation's name; None means "linear"."""
    checks.one_of("activation", activation, (None, *ACTIVATIONS))
    return "linear" if activation is None else activation


def _as_list(arrays):
    """A single ndarray is a one-element list; None stays None."""
    if arrays is None:
        return None
    if isinstance(arrays, np.ndarray):
        return [arrays]
    return list(arrays)


def _tensor_group(params, grads, **states):
    """Normalise and check a multi-tensor optimizer call.

    ``states`` maps a name to a list of state arrays (or None when the option that needs it is off).
    Every list must have one array per param, of the param's shape; params and state must be
    writeable ndarrays; the whole call shares one float dtype; no state array may overlap its param or
    another state array of the same tensor. Returns ``(params, grads, *states)`` as lists / None.
    """
    params, grads = _as_list(params), _as_list(grads)
    states = {name: _as_list(s) for name, s in states.items()}
    n = len(params)
    for name, lst in [("grads", grads), *states.items()]:
        if lst is not None and len(lst) != n:
            raise ValueError(f"{name} must have one array per param ({n}), got {len(lst)}")
    dtype = None
    for i, w in enumerate(params):
        inplace = [(f"params[{i}]", w)] + [(f"{k}[{i}]", s[i]) for k, s in states.items() if s is not None]
        for name, a in inplace + [(f"grads[{i}]", grads[i])]:
            if not isinstance(a, np.ndarray):
                raise TypeError(f"{name} must be a numpy.ndarray, got {type(a).__name__}")
            checks.float_dtype(name, a.dtype)
            if dtype is None:
                dtype = a.dtype
            elif a.dtype != dtype:
                raise TypeError(f"mixed dtypes: {name} is {a.dtype}, expected {dtype}")
            _same_shape(f"params[{i}]", w, name, a)
        for j, (name, a) in enumerate(inplace):
            if not a.flags.writeable:
                raise ValueError(f"{name} must be writeable (it is updated in place)")
            for other, b in inplace[:j]:
                if np.may_share_memory(a, b):
                    raise ValueError(f"{name} must not share memory with {other}")
    return (params, grads, *states.values())


def _require(states, name, reason):
    if states is None:
        raise ValueError(f"{name} must be given when {reason}")


# --------------------------------------------------------------------------------------------------
# activations
# --------------------------------------------------------------------------------------------------

def _sigmoid(z):
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _softmax(z):
    if z.size == 0:
        return np.empty_like(z)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


_FORWARD = {
    "linear": np.copy,
    "relu": lambda z: np.where(z < 0, 0.0, z),
    "leaky_relu": lambda z: np.where(z < 0, LEAKY_RELU_SLOPE * z, z),
    "sigmoid": _sigmoid,
    "tanh": np.tanh,
    "softmax": _softmax,
}

_BACKWARD = {
    "linear": lambda y, dy: dy.copy(),
    "relu": lambda y, dy: np.where(y > 0, dy, 0.0),
    "leaky_relu": lambda y, dy: np.where(y > 0, dy, LEAKY_RELU_SLOPE * dy),
    "sigmoid": lambda y, dy: dy * y * (1.0 - y),
    "tanh": lambda y, dy: dy * (1.0 - y * y),
    "softmax": lambda y, dy: y * (dy - np.sum(dy * y, axis=-1, keepdims=True)),
}


def activation_forward(z, activation):
    """y = act(z), a new array of z's shape and dtype.

    softmax is taken over the last axis (the rows of a 2-D array): ``exp(z - max) / sum``.
    """
    act = _activation_name(activation)
    (z,) = _float_arrays(z=z)
    if act == "softmax" and z.ndim < 1:
        raise ValueError("z must have at least one dimension for softmax")
    return _FORWARD[act](z)


def activation_backward(y, dy, activation):
    """dz = dL/dz from the activated output y and dy = dL/dy (same shape).

    linear ``dy``; relu ``where(y > 0, dy, 0)``; leaky_relu ``where(y > 0, dy, 0.2*dy)``;
    sigmoid ``dy*y*(1-y)``; tanh ``dy*(1-y*y)``; softmax ``y*(dy - sum(dy*y, -1))``.
    """
    act = _activation_name(activation)
    y, dy = _float_arrays(y=y, dy=dy)
    _same_shape("y", y, "dy", dy)
    if act == "softmax" and y.ndim < 1:
        raise ValueError("y must have at least one dimension for softmax")
    return _BACKWARD[act](y, dy)


# --------------------------------------------------------------------------------------------------
# dense layer
# --------------------------------------------------------------------------------------------------

def _dense_shapes(x, w):
    if x.ndim != 2:
        raise ValueError(f"x must be 2-D (batch, in), got shape {x.shape}")
    if w.ndim != 2:
        raise ValueError(f"w must be 2-D (in, out), got shape {w.shape}")
    if x.shape[1] != w.shape[0]:
        raise ValueError(f"w must have {x.shape[1]} rows (x has shape {x.shape}), got shape {w.shape}")
    return x.shape[0], w.shape[1]


def gemm(a, b, trans_a=False, trans_b=False):
    """``op(a) @ op(b)``, where ``op`` transposes its operand when the flag is set.

    a and b are 2-D arrays of one float dtype; the inner sizes of ``op(a)`` (M, K) and ``op(b)``
    (K, N) must match. The result is a new (M, N) array of that dtype (zeros when K == 0). These are
    the three products of dense training: ``x @ w``, ``x.T @ dz`` (trans_a) and ``dz @ w.T`` (trans_b).
    """
    a, b = _float_arrays(a=a, b=b)
    if a.ndim != 2:
        raise ValueError(f"a must be 2-D, got shape {a.shape}")
    if b.ndim != 2:
        raise ValueError(f"b must be 2-D, got shape {b.shape}")
    opa = a.T if trans_a else a
    opb = b.T if trans_b else b
    if opa.shape[1] != opb.shape[0]:
        side = "columns (trans_b=True)" if trans_b else "rows"
        raise ValueError(f"b must have {opa.shape[1]} {side} to match op(a) of shape {opa.shape} "
                         f"(trans_a={bool(trans_a)}), got shape {b.shape}")
    return opa @ opb


def dense_forward(x, w, b=None, activation="linear"):
    """y = act(x @ w + b) with x (M, K), w (K, N), b (N,) or None; y is (M, N)."""
    act = _activation_name(activation)
    x, w, b = _float_arrays(x=x, w=w, b=b)
    _, n = _dense_shapes(x, w)
    if b is not None and b.shape != (n,):
        raise ValueError(f"b must have shape ({n},), got {b.shape}")
    z = x @ w
    if b is not None:
        z += b
    return _FORWARD[act](z)


def dense_backward(x, w, y, dy, activation="linear", need_dx=True, need_db=True):
    """Gradients of a dense layer from its input x (M, K), weights w (K, N), output y and dy (M, N).

    ``dz = activation_backward(y, dy)``; returns ``(dx = dz @ w.T or None, dw = x.T @ dz,
    db = dz.sum(0) or None)``.
    """
    act = _activation_name(activation)
    x, w, y, dy = _float_arrays(x=x, w=w, y=y, dy=dy)
    m, n = _dense_shapes(x, w)
    if y.shape != (m, n):
        raise ValueError(f"y must have shape {(m, n)}, got {y.shape}")
    _same_shape("y", y, "dy", dy)
    dz = _BACKWARD[act](y, dy)
    dx = dz @ w.T if need_dx else None
    db = dz.sum(axis=0) if need_db else None
    return dx, x.T @ dz, db


# --------------------------------------------------------------------------------------------------
# losses
# --------------------------------------------------------------------------------------------------

def _pair(pred_name, pred, target_name, target):
    pred, target = _float_arrays(**{pred_name: pred, target_name: target})
    _same_shape(pred_name, pred, target_name, target)
    return pred, target


def mse(pred, target):
    """Mean squared error: ``loss = mean((p - t)^2)``, ``grad = 2 (p - t) / n``."""
    p, t = _pair("pred", pred, "target", target)
    if p.size == 0:
        return 0.0, np.empty_like(p)
    d = p - t
    return float(np.mean(d * d)), d * (2.0 / d.size)


def mae(pred, target):
    """Mean absolute error: ``loss = mean(|p - t|)``, ``grad = sign(p - t) / n`` (sign(0) = 0)."""
    p, t = _pair("pred", pred, "target", target)
    if p.size == 0:
        return 0.0, np.empty_like(p)
    d = p - t
    return float(np.mean(np.abs(d))), np.sign(d) * (1.0 / d.size)


def _smoothing(label_smoothing):
    return checks.real("label_smoothing", label_smoothing, 0.0, 1.0)


def _pointwise(pred_name, pred, target):
    """(pred, target, the gradient's 1/n factor's n): the pair checked as the kernels check it."""
    p, t = _pair(pred_name, pred, "target", target)
    return p, t, max(p.size, 1)


def _mean_terms(terms, grad, n, factor=1.0):
    """(factor * the mean of the terms, summed in float64, as a float, grad); (0.0, grad) when empty."""
    return float(np.sum(terms, dtype=np.float64)) * (1.0 / n) * factor if terms.size else 0.0, grad


def binary_cross_entropy(prob, target, label_smoothing=0.0):
    """Binary cross-entropy of probabilities, clipped to ``[eps, 1-eps]`` (eps = 1e-7, as Keras).

    Targets smoothed to ``t (1 - ls) + ls / 2`` (Keras); ``loss = -mean(t log pc + (1-t) log(1-pc))``;
    ``grad = (-t/pc + (1-t)/(1-pc)) / n`` where p was inside the clip range, 0 where it was clipped.
    """
    ls = _smoothing(label_smoothing)
    p, t = _pair("prob", prob, "target", target)
    if p.size == 0:
        return 0.0, np.empty_like(p)
    t = t * p.dtype.type(1.0 - ls) + p.dtype.type(0.5 * ls)
    lo, hi = p.dtype.type(BCE_EPSILON), p.dtype.type(1.0 - BCE_EPSILON)
    pc = np.clip(p, lo, hi)
    loss = -np.mean(t * np.log(pc) + (1.0 - t) * np.log(1.0 - pc))
    clipped = (p < lo) | (p > hi)
    grad = np.where(clipped, 0.0, (-(t / pc) + (1.0 - t) / (1.0 - pc)) * (1.0 / p.size))
    return float(loss), grad


def sigmoid_cross_entropy(logits, target, label_smoothing=0.0):
    """Binary cross-entropy of sigmoid(logits) (Keras's from_logits=True), targets smoothed as in
    binary_cross_entropy: ``mean(max(z, 0) - z t + log1p(exp(-|z|)))``, ``grad = (1/(1 + exp(-z)) - t) / n``."""
    ls = _smoothing(label_smoothing)
    z, t, n = _pointwise("logits", logits, target)
    dt = z.dtype.type
    t = t * dt(1.0 - ls) + dt(0.5 * ls)
    with np.errstate(over="ignore"):
        grad = (1 / (1 + np.exp(-z)) - t) * dt(1.0 / n)
    return _mean_terms(np.maximum(z, 0) - z * t + np.log1p(np.exp(-np.abs(z))), grad, n)


def mape(pred, target):
    """Mean absolute percentage error: ``100 mean(|(t - p) / max(|t|, eps)|)``,
    ``grad = sign(p - t) / max(|t|, eps) * (100 / n)``."""
    p, t, n = _pointwise("pred", pred, target)
    scale = np.maximum(np.abs(t), p.dtype.type(BCE_EPSILON))
    grad = np.sign(p - t) / scale * p.dtype.type(100.0 * (1.0 / n))
    return _mean_terms(np.abs((t - p) / scale), grad, n, 100.0)


def msle(pred, target):
    """Mean squared logarithmic error: ``mean(d^2)``, ``d = log(max(p, eps) + 1) - log(max(t, eps) + 1)``;
    ``grad = 2 d / (max(p, eps) + 1) / n`` where p > eps, else 0."""
    p, t, n = _pointwise("pred", pred, target)
    eps = p.dtype.type(BCE_EPSILON)
    shifted = np.maximum(p, eps) + 1
    d = np.log(shifted) - np.log(np.maximum(t, eps) + 1)
    grad = np.where(p > eps, 2 * d / shifted * p.dtype.type(1.0 / n), 0)
    return _mean_terms(d * d, grad, n)


def huber(pred, target, delta=1.0):
    """Huber loss, ``e = p - t``: ``mean(0.5 e^2 where |e| <= delta, else delta |e| - 0.5 delta^2)``;
    ``grad = (e where |e| <= delta, else delta sign(e)) / n``."""
    p, t, n = _pointwise("pred", pred, target)
    delta, half = p.dtype.type(checks.real("delta", delta, -math.inf)), p.dtype.type(0.5)
    e = p - t
    a = np.abs(e)
    small = a <= delta
    grad = np.where(small, e, delta * np.sign(e)) * p.dtype.type(1.0 / n)
    return _mean_terms(np.where(small, half * (e * e), delta * a - half * (delta * delta)), grad, n)


def _softplus(z):
    return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))


def log_cosh(pred, target):
    """``mean(log(cosh(x)))``, ``x = p - t``, as Keras: ``x + softplus(-2 x) - log 2``; ``grad = tanh(x) / n``."""
    p, t, n = _pointwise("pred", pred, target)
    x = p - t
    grad = np.tanh(x) * p.dtype.type(1.0 / n)
    return _mean_terms(x + _softplus(x * p.dtype.type(-2)) - p.dtype.type(math.log(2.0)), grad, n)


def _hinge_margin(pred, target):
    """(p, t, n, max(1 - t p, 0)), targets that are all 0 or 1 turned into -1 / 1 (Keras)."""
    p, t, n = _pointwise("pred", pred, target)
    if np.all((t == 0) | (t == 1)):
        t = 2 * t - 1
    return p, t, n, np.maximum(1 - t * p, 0)


def hinge(pred, target):
    """``mean(max(1 - t p, 0))``; ``grad = -t / n`` where the margin is positive, else 0."""
    p, t, n, m = _hinge_margin(pred, target)
    return _mean_terms(m, np.where(m > 0, -t * p.dtype.type(1.0 / n), 0), n)


def squared_hinge(pred, target):
    """``mean(max(1 - t p, 0)^2)``; ``grad = -2 t max(1 - t p, 0) / n``."""
    p, t, n, m = _hinge_margin(pred, target)
    return _mean_terms(m * m, -2 * t * m * p.dtype.type(1.0 / n), n)


def poisson(pred, target):
    """``mean(p - t log(p + eps))``; ``grad = (1 - t / (p + eps)) / n``."""
    p, t, n = _pointwise("pred", pred, target)
    q = p + p.dtype.type(BCE_EPSILON)
    return _mean_terms(p - t * np.log(q), (1 - t / q) * p.dtype.type(1.0 / n), n)


def _rows(pred_name, pred, target_name, target, labels_ok):
    """(pred (B, C), target rows (B, C) of pred's dtype, the gradient's 1/B factor): float rows, or
    for the cross-entropies integer class indices (B,) made one-hot rows."""
    (p,) = _float_arrays(**{pred_name: pred})
    if p.ndim != 2:
        raise ValueError(f"{pred_name} must be 2-D (batch, classes), got shape {p.shape}")
    bsz, ncls = p.shape
    target = np.asarray(target)
    if labels_ok and np.issubdtype(target.dtype, np.integer):
        if target.shape != (bsz,):
            raise ValueError(f"integer {target_name} must have shape ({bsz},), got {target.shape}")
        if bsz and (target.min() < 0 or target.max() >= ncls):
            raise ValueError(f"{target_name} must be class indices in [0, {ncls}), got values in "
                             f"[{target.min()}, {target.max()}]")
        t = np.zeros_like(p)
        t[np.arange(bsz), target] = 1
    else:
        p, t = _float_arrays(**{pred_name: p, target_name: target})
        _same_shape(pred_name, p, target_name, t)
    if bsz and not ncls:
        raise ValueError(f"{pred_name} must have at least one class (C >= 1)")
    return p, t, p.dtype.type(1.0 / max(bsz, 1))


def _mean_rows(values, grad):
    """(the mean of the row values, summed in float64, as a float, grad); (0.0, grad) when empty."""
    return float(np.sum(values, dtype=np.float64)) / values.size if values.size else 0.0, grad


def kl_divergence(pred, target):
    """Kullback-Leibler divergence, t and p clipped to ``[eps, 1]``: ``mean_b(sum(t log(t / p)))``;
    ``grad = -t / p / B`` where p was not clipped, else 0."""
    p, t, s = _rows("pred", pred, "target", target, False)
    eps = p.dtype.type(BCE_EPSILON)
    tc, pc = np.clip(t, eps, 1), np.clip(p, eps, 1)
    grad = np.where((p >= eps) & (p <= 1), -tc / pc * s, 0)
    return _mean_rows(np.sum((tc * np.log(tc / pc)).astype(np.float64), axis=1), grad)


def categorical_hinge(pred, target):
    """``mean_b(max(max((1 - t) p) - sum(t p) + 1, 0))``; where positive,
    ``grad = (onehot(argmax((1 - t) p)) (1 - t) - t) / B``, else 0."""
    p, t, s = _rows("pred", pred, "target", target, False)
    if not p.size:
        return 0.0, np.empty_like(p)
    others = (1 - t) * p
    top = np.zeros_like(p)
    top[np.arange(len(p)), others.argmax(axis=1)] = 1
    v = np.maximum(others.max(axis=1, keepdims=True) - np.sum(t * p, axis=1, keepdims=True) + 1, 0)
    return _mean_rows(v[:, 0], np.where(v > 0, (top * (1 - t) - t) * s, 0))


def cosine_similarity(pred, target):
    """``mean_b(-sum(t / |t| * p / |p|))``, each ``1/|x|`` capped at ``1/eps`` (keras.ops.normalize);
    ``grad = -(1/|p|) (tn - sum(tn pn) pn) / B`` (``-tn / eps / B`` where the cap is active)."""
    p, t, s = _rows("pred", pred, "target", target, False)
    cap = p.dtype.type(1.0 / BCE_EPSILON)
    with np.errstate(divide="ignore"):
        it = np.minimum(1 / np.sqrt(np.sum(t * t, axis=1, keepdims=True)), cap)
        ip = np.minimum(1 / np.sqrt(np.sum(p * p, axis=1, keepdims=True)), cap)
    tn, pn = t * it, p * ip
    along = np.sum(tn * pn, axis=1, keepdims=True)
    grad = np.where(ip < cap, -ip * (tn - along * pn), -tn * cap) * s
    return _mean_rows(-along[:, 0].astype(np.float64), grad)


def _smoothed_rows(t, ls):
    """Rows smoothed to ``t (1 - ls) + ls / C`` (Keras's categorical label smoothing)."""
    return t * t.dtype.type(1.0 - ls) + t.dtype.type(ls) / t.dtype.type(t.shape[1])


def categorical_cross_entropy(prob, labels, label_smoothing=0.0):
    """Categorical cross-entropy of probability rows, as Keras: ``q = p / sum(p)`` clipped to
    ``[eps, 1 - eps]``, ``loss = mean_b(-sum(t log q))``, labels (class indices or rows) smoothed to
    ``t (1 - ls) + ls / C``; ``grad = (dq - sum(dq q)) / sum(p) / B``, ``dq = -t / q`` where q was
    not clipped, else 0."""
    ls = _smoothing(label_smoothing)
    p, t, s = _rows("prob", prob, "labels", labels, True)
    if not p.size:
        return 0.0, np.empty_like(p)
    t = _smoothed_rows(t, ls)
    lo, hi = p.dtype.type(BCE_EPSILON), p.dtype.type(1.0 - BCE_EPSILON)
    total = np.sum(p, axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):  # a row summing to 0 is NaN, not an error
        q = p / total
        qc = np.clip(q, lo, hi)
        dq = np.where((q >= lo) & (q <= hi), -t / qc, 0)
        grad = (dq - np.sum(dq * q, axis=1, keepdims=True)) / total * s
    return _mean_rows(-np.sum((t * np.log(qc)).astype(np.float64), axis=1), grad)


def softmax_cross_entropy(logits, labels, label_smoothing=0.0):
    """Softmax + cross-entropy, mean over the batch.

    logits (B, C); labels are integer class indices (B,) or float rows (B, C) of the logits' dtype,
    smoothed to ``t (1 - ls) + ls / C`` (rows of class indices are one-hot first).
    ``logp = z - max - log(sum(exp(z - max)))``; ``loss = mean_b(-sum(labels * logp))``;
    ``dlogits = (softmax * rowsum(labels) - labels) / B``.
    """
    ls = _smoothing(label_smoothing)
    (z,) = _float_arrays(logits=logits)
    if z.ndim != 2:
        raise ValueError(f"logits must be 2-D (batch, classes), got shape {z.shape}")
    bsz, ncls = z.shape
    labels = np.asarray(labels)
    integer = np.issubdtype(labels.dtype, np.integer)
    if integer:
        if labels.shape != (bsz,):
            raise ValueError(f"integer labels must have shape ({bsz},), got {labels.shape}")
        if bsz and (labels.min() < 0 or labels.max() >= ncls):
            raise ValueError(f"labels must be class indices in [0, {ncls}), got values in "
                             f"[{labels.min()}, {labels.max()}]")
    else:
        z, labels = _float_arrays(logits=z, labels=labels)
        _same_shape("logits", z, "labels", labels)
    if bsz == 0:
        return 0.0, np.empty_like(z)
    if ncls == 0:
        raise ValueError("logits must have at least one class (C >= 1)")
    if integer and ls:
        labels, integer = _smoothed_rows(np.eye(ncls, dtype=z.dtype)[labels], ls), False
    elif not integer:
        labels = _smoothed_rows(labels, ls)

    shifted = z - z.max(axis=1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    softmax = np.exp(logp)
    rows = np.arange(bsz)
    if integer:
        loss = -np.mean(logp[rows, labels])
        grad = softmax
        grad[rows, labels] -= 1.0
    else:
        loss = -np.mean(np.sum(labels * logp, axis=1))
        grad = softmax * labels.sum(axis=1, keepdims=True) - labels
    grad *= 1.0 / bsz
    return float(loss), grad


# --------------------------------------------------------------------------------------------------
# optimizers (functional, in place, multi-tensor)
# --------------------------------------------------------------------------------------------------

def _decoupled_decay(w, lr, wd):
    """Keras weight decay, applied before the update: ``w -= lr*wd*w``; none when wd is 0 as the
    kernels read it, and under flushing their comparison reads a subnormal wd as 0 (DAZ)."""
    if subnormals.read(np.float64(wd)):
        w -= lr * wd * w


def _l2(g, w, wd):
    """PyTorch L2 weight decay: a new gradient ``g + wd*w`` (the caller's grad is not modified),
    rounded once as torch's vectorized ``grad.add(param, alpha=weight_decay)``."""
    return fused.fma(wd, w, g) if wd else g


def _torch_lerp(start, end, weight):
    """torch's ``start.lerp_(end, weight)`` as its vectorized kernel computes it: one fused
    multiply-add, ``start + w*(end - start)`` for ``|w| < 0.5``, else ``end + (w - 1)*(end - start)``."""
    w = start.dtype.type(weight)
    if abs(w) < 0.5:
        return fused.fma(w, end - start, start)
    return fused.fma(w - start.dtype.type(1), end - start, end)


def _torch_addcmul_square(v, g, b2):
    """torch's ``v.mul_(b2).addcmul_(g, g, value=1 - b2)``: ``fma((1-b2)*g, g, b2*v)``."""
    return fused.fma((1.0 - b2) * g, g, b2 * v)


def _maximize(maximize, conv):
    """torch's maximize (the gradient is negated before use); a ValueError under keras."""
    on = bool(maximize)
    if on and conv != "torch":
        raise ValueError(f"maximize is only defined for convention='torch', got {maximize!r}")
    return on


def _torch_grad(g, w, maximize, wd):
    """torch's step gradient: negated when maximizing, then L2 decay ``g + wd*w`` (new arrays)."""
    return _l2(-g if maximize else g, w, wd)


def sgd_update(params, grads, momentum_buffers, *, step, learning_rate, momentum=0.0, nesterov=False,
               dampening=0.0, weight_decay=0.0, maximize=False, convention="keras"):
    """One SGD step, in place. momentum_buffers may be None when momentum == 0.

    keras: ``w -= lr*wd*w``; then ``w -= lr*g``, or ``v = mu*v - lr*g; w += v``, or (nesterov)
    ``v = mu*v - lr*g; w += mu*v - lr*g``.
    dlfs: as keras, except nesterov ``v = mu*v - lr*g; w += mu*mu*v - (1+mu)*lr*g``.
    torch: ``g = -g`` (maximize); ``g += wd*w``; ``b = g`` at step 1 else
    ``b = mu*b + (1-dampening)*g``; ``g = g + mu*b`` if nesterov else ``b``; ``w -= lr*g``.
    """
    conv = checks.one_of("convention", convention, SGD_CONVENTIONS)
    t = checks.integer("step", step, lo=1)
    lr = checks.real("learning_rate", learning_rate)
    mu = checks.real("momentum", momentum)
    damp = checks.real("dampening", dampening, 0.0, 1.0)
    wd = checks.real("weight_decay", weight_decay)
    if conv != "torch" and damp:
        raise ValueError(f"dampening is only defined for convention='torch', got {dampening!r}")
    maximize = _maximize(maximize, conv)
    if conv == "torch" and nesterov:
        checks.torch_nesterov(mu, damp)
    params, grads, bufs = _tensor_group(params, grads, momentum_buffers=momentum_buffers if mu else None)
    if mu:
        _require(momentum_buffers, "momentum_buffers", "momentum != 0")

    for i, (w, g) in enumerate(zip(params, grads)):
        if conv == "torch":
            g = _torch_grad(g, w, maximize, wd)
            if mu:  # each add(x, alpha=...) of torch.optim.SGD is one fma, as torch's vector kernels
                b = bufs[i]
                if t == 1:
                    b[...] = g
                else:
                    b[...] = fused.fma(1.0 - damp, g, b * mu)
                g = fused.fma(mu, b, g) if nesterov else b
            w[...] = fused.fma(-lr, g, w)
            continue
        _decoupled_decay(w, lr, wd)
        if not mu:
            w -= lr * g
            continue
        v = bufs[i]
        v[...] = mu * v - lr * g
        if not nesterov:
            w += v
        elif conv == "keras":
            w += mu * v - lr * g
        else:  # dlfs
            w += mu * mu * v - (1.0 + mu) * lr * g


def adagrad_update(params, grads, accumulators, *, step, learning_rate, epsilon, lr_decay=0.0,
                   weight_decay=0.0, maximize=False, convention="keras"):
    """One Adagrad step, in place (accumulators initialised by the caller).

    keras: ``w -= lr*wd*w; acc += g^2; w -= lr*g/sqrt(acc + eps)``.
    torch: ``g = -g`` (maximize); ``g += wd*w; clr = lr/(1 + (t-1)*lr_decay); acc += g^2;
    w -= clr*g/(sqrt(acc) + eps)``.
    """
    conv = checks.one_of("convention", convention, CONVENTIONS)
    t = checks.integer("step", step, lo=1)
    lr = checks.real("learning_rate", learning_rate)
    eps = checks.real("epsilon", epsilon)
    decay = checks.real("lr_decay", lr_decay)
    wd = checks.real("weight_decay", weight_decay)
    if conv == "keras" and decay:
        raise ValueError(f"lr_decay is only defined for convention='torch', got {lr_decay!r}")
    maximize = _maximize(maximize, conv)
    params, grads, accs = _tensor_group(params, grads, accumulators=accumulators)
    _require(accumulators, "accumulators", "calling adagrad_update")
    clr = lr / (1.0 + (t - 1) * decay)

    for w, g, acc in zip(params, grads, accs):
        if conv == "keras":
            _decoupled_decay(w, lr, wd)
            acc += g * g
            w -= lr * g / np.sqrt(acc + eps)
        else:
            g = _torch_grad(g, w, maximize, wd)
            acc += g * g
            w -= clr * g / (np.sqrt(acc) + eps)


def rmsprop_update(params, grads, sq_avgs, grad_avgs, momentum_buffers, *, learning_rate, rho, epsilon,
                   momentum=0.0, centered=False, weight_decay=0.0, maximize=False, convention="keras"):
    """One RMSprop step, in place. grad_avgs is None unless centered; momentum_buffers None unless
    momentum > 0.

    keras (Keras 3): ``w -= lr*wd*w; v = rho*v + (1-rho)*g^2``; centered: ``a = rho*a + (1-rho)*g``,
    ``d = v - a^2 + eps`` else ``d = v + eps``; ``inc = lr*g/sqrt(d)``; ``b = mu*b + inc; w -= b`` or
    ``w -= inc``.
    torch (torch.optim.RMSprop, rho is alpha): ``g = -g`` (maximize); ``g += wd*w; v = rho*v + (1-rho)*g^2``; centered:
    ``a = a + (1-rho)*(g - a)``, ``d = sqrt(v - a^2) + eps`` else ``d = sqrt(v) + eps``;
    ``b = mu*b + g/d; w -= lr*b`` or ``w -= lr*g/d``.
    """
    conv = checks.one_of("convention", convention, CONVENTIONS)
    lr = checks.real("learning_rate", learning_rate)
    rho = checks.real("rho", rho, 0.0, 1.0, hi_open=True)
    eps = checks.real("epsilon", epsilon)
    mu = checks.real("momentum", momentum)
    wd = checks.real("weight_decay", weight_decay)
    maximize = _maximize(maximize, conv)
    params, grads, vs, avgs, bufs = _tensor_group(
        params, grads, sq_avgs=sq_avgs, grad_avgs=grad_avgs if centered else None,
        momentum_buffers=momentum_buffers if mu else None)
    _require(sq_avgs, "sq_avgs", "calling rmsprop_update")
    if centered:
        _require(grad_avgs, "grad_avgs", "centered=True")
    if mu:
        _require(momentum_buffers, "momentum_buffers", "momentum > 0")

    for i, (w, g, v) in enumerate(zip(params, grads, vs)):
        if conv == "keras":
            _decoupled_decay(w, lr, wd)
        else:
            g = _torch_grad(g, w, maximize, wd)
        v[...] = rho * v + (1.0 - rho) * (g * g)
        if centered:
            a = avgs[i]
            if conv == "keras":
                a[...] = rho * a + (1.0 - rho) * g
            else:
                a += (1.0 - rho) * (g - a)
            var = v - a * a
        else:
            var = v
        if conv == "keras":
            inc = lr * g / np.sqrt(var + eps)
        else:
            inc = g / (np.sqrt(var) + eps)
        if mu:
            b = bufs[i]
            b *= mu
            b += inc
            inc = b
        if conv == "keras":
            w -= inc
        else:
            w -= lr * inc


def adam_update(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, *, step, learning_rate, beta_1,
                beta_2, epsilon, amsgrad=False, weight_decay=0.0, decoupled_weight_decay=False,
                maximize=False, convention="keras"):
    """One Adam / AdamW step, in place. max_exp_avg_sqs is None unless amsgrad.

    keras (Keras 3 Adam; weight decay always decoupled): ``w -= lr*wd*w``;
    ``alpha = lr*sqrt(1-b2^t)/(1-b1^t); m += (1-b1)*(g-m); v += (1-b2)*(g*g-v)``;
    amsgrad: ``vhat = max(vhat, v)`` used for v; ``w -= alpha*m/(sqrt(v) + eps)``.
    torch (Adam / AdamW): ``g = -g`` (maximize); ``w *= 1 - lr*wd`` if decoupled else ``g += wd*w``;
    ``m = lerp(m, g, 1-b1); v = b2*v + (1-b2)*g*g``; amsgrad: ``vmax = max(vmax, v)`` used for v;
    ``w -= (lr/bc1)*m/(sqrt(v)/sqrt(bc2) + eps)`` with ``bc = 1 - b^t``.
    """
    conv = checks.one_of("convention", convention, CONVENTIONS)
    t = checks.integer("step", step, lo=1)
    lr = checks.real("learning_rate", learning_rate)
    b1 = checks.real("beta_1", beta_1, 0.0, 1.0, hi_open=True)
    b2 = checks.real("beta_2", beta_2, 0.0, 1.0, hi_open=True)
    eps = checks.real("epsilon", epsilon)
    wd = checks.real("weight_decay", weight_decay)
    maximize = _maximize(maximize, conv)
    params, grads, ms, vs, vmaxs = _tensor_group(
        params, grads, exp_avgs=exp_avgs, exp_avg_sqs=exp_avg_sqs,
        max_exp_avg_sqs=max_exp_avg_sqs if amsgrad else None)
    _require(exp_avgs, "exp_avgs", "calling adam_update")
    _require(exp_avg_sqs, "exp_avg_sqs", "calling adam_update")
    if amsgrad:
        _require(max_exp_avg_sqs, "max_exp_avg_sqs", "amsgrad=True")
    bc1, bc2 = 1.0 - b1**t, 1.0 - b2**t
    alpha = lr * math.sqrt(bc2) / bc1          # keras
    step_size, bc2_sqrt = lr / bc1, math.sqrt(bc2)  # torch

    for i, (w, g, m, v) in enumerate(zip(params, grads, ms, vs)):
        if conv == "keras":
            _decoupled_decay(w, lr, wd)
            m += (1.0 - b1) * (g - m)
            v += (1.0 - b2) * (g * g - v)
        else:
            if maximize:
                g = -g
            if wd and decoupled_weight_decay:
                w *= 1.0 - lr * wd
            elif wd:
                g = _l2(g, w, wd)
            m[...] = _torch_lerp(m, g, 1.0 - b1)
            v[...] = _torch_addcmul_square(v, g, b2)
        if amsgrad:
            np.maximum(vmaxs[i], v, out=vmaxs[i])
            v = vmaxs[i]
        if conv == "keras":
            w -= alpha * m / (np.sqrt(v) + eps)
        else:
            w -= step_size * m / (np.sqrt(v) / bc2_sqrt + eps)


# --------------------------------------------------------------------------------------------------
# dropout
# --------------------------------------------------------------------------------------------------

_U64 = np.uint64


def dropout_bits(seed, n):
    """The 32 random bits (uint32) of elements 0..n-1 of the stream `seed`, as the native kernels
    draw them: per block of 2^32 elements a key, SplitMix64 of seed + (block+1)*golden ratio (an odd
    multiplier from its high half, an offset from its low half); element i's bits are Wellons'
    lowbias32 finalizer of (i mod 2^32) * multiplier + offset, all in 32-bit arithmetic."""
    i = np.arange(n, dtype=_U64)
    block = i >> _U64(32)
    z = (block + _U64(1)) * _U64(0x9E3779B97F4A7C15) + _U64(int(seed) & 0xFFFFFFFFFFFFFFFF)
    z = (z ^ (z >> _U64(30))) * _U64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> _U64(27))) * _U64(0x94D049BB133111EB)
    z ^= z >> _U64(31)
    mul = (z >> _U64(32)).astype(np.uint32) | np.uint32(1)
    add = (z & _U64(0xFFFFFFFF)).astype(np.uint32)
    u = (i & _U64(0xFFFFFFFF)).astype(np.uint32) * mul + add
    u ^= u >> np.uint32(16)
    u *= np.uint32(0x7FEB352D)
    u ^= u >> np.uint32(15)
    u *= np.uint32(0x846CA68B)
    u ^= u >> np.uint32(16)
    return u


def dropout_keep_threshold(rate):
    """The smallest 32-bit value kept at `rate` (bits * 2^-32 >= rate), at most 2^32 - 1."""
    return min(math.ceil(rate * 4294967296.0), 0xFFFFFFFF)


def _dropout_rate(rate):
    return checks.real("rate", rate, 0.0, 1.0, hi_open=True)


def dropout_forward(x, rate, seed):
    """(y, mask): ``y = x * (1/(1-rate))`` where ``dropout_bits(seed, n)[i] * 2**-32 >= rate``, else 0
    (uint8 mask). The comparison is on the integer bits (dropout_keep_threshold), which is the same
    for any rate up to 1 - 2^-32."""
    (x,) = _float_arrays(x=x)
    rate = _dropout_rate(rate)
    seed = checks.integer("seed", seed, lo=None)
    keep = dropout_bits(seed, x.size).reshape(x.shape) >= np.uint32(dropout_keep_threshold(rate))
    scale = x.dtype.type(1.0 / (1.0 - rate))
    return np.where(keep, x * scale, x.dtype.type(0)), keep.astype(np.uint8)


def dropout_backward(dy, mask, rate):
    """``dx = dy * (1/(1-rate))`` where mask is 1, else 0."""
    (dy,) = _float_arrays(dy=dy)
    rate = _dropout_rate(rate)
    scale = dy.dtype.type(1.0 / (1.0 - rate))
    return np.where(np.asarray(mask) != 0, dy * scale, dy.dtype.type(0))


# --------------------------------------------------------------------------------------------------
# embedding
# --------------------------------------------------------------------------------------------------

def embedding_backward(dy, indices, rows):
    """dw (rows, cols): the rows of dy (n, cols) summed into the rows `indices` (n) name, each
    element's sum in the order its rows come (as NumPy's add.at sums them): the Embedding layer's
    gradient, torch's dense one (rows no index names get 0)."""
    (dy,) = _float_arrays(dy=dy)
    rows = checks.integer("rows", rows, lo=0)
    indices = np.asarray(indices)
    if dy.ndim != 2 or indices.shape != (len(dy),) or indices.dtype.kind not in "iu":
        raise ValueError(f"dy must be (n, cols) and indices n integers, got shapes {dy.shape} and {indices.shape}")
    if indices.size and (indices.min() < 0 or indices.max() >= rows):
        raise ValueError(f"indices must be in [0, {rows}), got {indices.min()} .. {indices.max()}")
    dw = np.zeros((rows, dy.shape[1]), dy.dtype)
    for i, row in enumerate(indices):  # in turn, each add in the kernels' subnormal mode (np.add.at has none)
        dw[row] = dw[row] + dy[i]
    return dw


# --------------------------------------------------------------------------------------------------
# normalization
# --------------------------------------------------------------------------------------------------
# Keras 3's BatchNormalization (per feature) and LayerNormalization (per row) on x (batch, features),
# computed as the native kernels compute them: two-pass statistics (the mean, then the biased
# variance as the mean of squared deviations; Keras' torch backend takes E[x^2] - E[x]^2, which
# cancels when |mean| >> std) summed in float64; per-feature or per-row coefficients formed in
# float64 and rounded once to x's dtype; the element-wise work in x's dtype, in the kernels' order.
# Only the order of the float64 sums differs from the kernels.

_F64 = np.float64


def _normalized_input(x):
    (x,) = _float_arrays(x=x)
    if x.ndim != 2:
        raise ValueError(f"x must be 2-D (batch, features), got shape {x.shape}")
    return x


def _per_feature(x, what, **named):
    """The named arrays (None passes) checked to be x's dtype and of shape (n,), n from `what`."""
    n = x.shape[0] if what == "the rows of x" else x.shape[1]
    arrays = _float_arrays(x=x, **named)[1:]
    for name, a in zip(named, arrays):
        if a is not None and a.shape != (n,):
            raise ValueError(f"{name} must have shape ({n},) ({what}), got {a.shape}")
    return arrays


def _moving_statistics(x, training, moving_mean, moving_var):
    for name, a in (("moving_mean", moving_mean), ("moving_var", moving_var)):
        if not isinstance(a, np.ndarray):
            raise TypeError(f"{name} must be a numpy.ndarray, got {type(a).__name__}")
        if training and not a.flags.writeable:
            raise ValueError(f"{name} must be writable, got a read-only array")
    _per_feature(x, "the features of x", moving_mean=moving_mean, moving_var=moving_var)
    if np.may_share_memory(moving_mean, moving_var):
        raise ValueError("moving_var must not share memory with moving_mean")


def batch_norm_forward(x, gamma, beta, moving_mean, moving_var, training, momentum=0.99, epsilon=1e-3):
    """(y, mean, inv_std): ``y = (x - mean) * (inv_std * gamma) + beta`` per feature.

    training: the batch's mean and ``inv_std = 1/sqrt(var + epsilon)`` (biased variance), and
    ``moving = moving * momentum + statistic * (1 - momentum)`` in place for moving_mean and
    moving_var, as Keras (``1 - momentum`` in double, both factors rounded to x's dtype). Otherwise
    the moving statistics are used and nothing is written. gamma/beta None mean 1/0.
    """
    x = _normalized_input(x)
    gamma, beta = _per_feature(x, "the features of x", gamma=gamma, beta=beta)
    training = checks.flag("training", training)
    _moving_statistics(x, training, moving_mean, moving_var)
    momentum = checks.real("momentum", momentum, 0.0, 1.0)
    epsilon = checks.real("epsilon", epsilon)
    if training and x.shape[0] == 0:
        raise ValueError(f"x must have at least one row when training (no batch statistics), got shape {x.shape}")
    if training:
        x64 = x.astype(_F64)
        mean64 = x64.mean(axis=0)
        var64 = np.square(x64 - mean64).mean(axis=0)
    else:
        mean64, var64 = moving_mean.astype(_F64), moving_var.astype(_F64)
    inv64 = 1.0 / np.sqrt(var64 + epsilon)
    mean, inv_std = mean64.astype(x.dtype), inv64.astype(x.dtype)
    scale = (inv64 if gamma is None else inv64 * gamma).astype(x.dtype)
    y = (x - mean) * scale + (np.zeros_like(mean) if beta is None else beta)
    if training:
        keep, take = x.dtype.type(momentum), x.dtype.type(1.0 - momentum)
        moving_mean[...] = moving_mean * keep + mean * take
        moving_var[...] = moving_var * keep + var64.astype(x.dtype) * take
    return y, mean, inv_std


def _backward_inputs(x, gamma, mean, inv_std, dy, stats):
    x = _normalized_input(x)
    (gamma,) = _per_feature(x, "the features of x", gamma=gamma)
    mean, inv_std = _per_feature(x, stats, mean=mean, inv_std=inv_std)
    (dy,) = _float_arrays(x=x, dy=dy)[1:]
    _same_shape("x", x, "dy", dy)
    return x, gamma, mean, inv_std, dy


def _parameter_grads(dy, xhat, need_dgamma, need_dbeta):
    """(dgamma = sum(dy * xhat), dbeta = sum(dy)) over the rows, each None unless needed."""
    dy64 = dy.astype(_F64)
    dgamma = (dy64 * xhat.astype(_F64)).sum(axis=0).astype(dy.dtype) if need_dgamma else None
    return dgamma, dy64.sum(axis=0).astype(dy.dtype) if need_dbeta else None


def batch_norm_backward(x, gamma, mean, inv_std, dy, training=True, need_dgamma=True, need_dbeta=True):
    """(dx, dgamma or None, dbeta or None) of batch_norm_forward from its mean and inv_std.

    ``x_hat = (x - mean) * inv_std``; per feature ``k = gamma * inv_std``, ``kb = sum(dy) / N``,
    ``kg = sum(dy * x_hat) / N`` (float64, rounded once); training: ``dx = k * (dy - kb - x_hat * kg)``;
    otherwise (constant statistics) ``dx = dy * k``.
    """
    x, gamma, mean, inv_std, dy = _backward_inputs(x, gamma, mean, inv_std, dy, "the features of x")
    training = checks.flag("training", training)
    xhat = (x - mean) * inv_std
    k = (inv_std.astype(_F64) if gamma is None else gamma.astype(_F64) * inv_std).astype(x.dtype)
    if training:
        n = max(x.shape[0], 1)
        dy64 = dy.astype(_F64)
        kb = (dy64.sum(axis=0) / n).astype(x.dtype)
        kg = ((dy64 * xhat.astype(_F64)).sum(axis=0) / n).astype(x.dtype)
        dx = k * (dy - kb - xhat * kg)
    else:
        dx = dy * k
    return (dx, *_parameter_grads(dy, xhat, need_dgamma, need_dbeta))


def layer_norm_forward(x, gamma, beta, epsilon=1e-3):
    """(y, mean, inv_std): each row normalized, ``y = ((x - mean) * inv_std) * gamma + beta`` with the
    row's mean and ``inv_std = 1/sqrt(var + epsilon)`` (biased variance), both of shape (batch,)."""
    x = _normalized_input(x)
    gamma, beta = _per_feature(x, "the features of x", gamma=gamma, beta=beta)
    epsilon = checks.real("epsilon", epsilon)
    if x.shape[1] == 0:
        raise ValueError(f"x must have at least one feature (no row statistics), got shape {x.shape}")
    x64 = x.astype(_F64)
    mean64 = x64.mean(axis=1)
    var64 = np.square(x64 - mean64[:, None]).mean(axis=1)
    mean, inv_std = mean64.astype(x.dtype), (1.0 / np.sqrt(var64 + epsilon)).astype(x.dtype)
    y = (x - mean[:, None]) * inv_std[:, None]
    if gamma is not None:
        y = y * gamma
    return y + (np.zeros_like(x[0]) if beta is None else beta), mean, inv_std


def layer_norm_backward(x, gamma, mean, inv_std, dy, need_dgamma=True, need_dbeta=True):
    """(dx, dgamma or None, dbeta or None) of layer_norm_forward from its mean and inv_std (batch,).

    ``x_hat = (x - mean) * inv_std``, ``g = dy * gamma``; per row ``a = mean(g)``,
    ``b = mean(g * x_hat)`` (float64, rounded once); ``dx = inv_std * (g - a - x_hat * b)``.
    """
    x, gamma, mean, inv_std, dy = _backward_inputs(x, gamma, mean, inv_std, dy, "the rows of x")
    xhat = (x - mean[:, None]) * inv_std[:, None]
    g = dy if gamma is None else dy * gamma
    g64, cols = g.astype(_F64), max(x.shape[1], 1)
    a = (g64.sum(axis=1) / cols).astype(x.dtype)
    b = ((g64 * xhat.astype(_F64)).sum(axis=1) / cols).astype(x.dtype)
    dx = inv_std[:, None] * (g - a[:, None] - xhat * b[:, None])
    return (dx, *_parameter_grads(dy, xhat, need_dgamma, need_dbeta))


NORMALIZATION_EPSILON = 1e-7  # keras.backend.epsilon(), Normalization's floor on sqrt(variance)


def _normalization_scale(name, a, variance):
    """max(sqrt(variance), 1e-7) in a's dtype, variance checked to be (features of a,)."""
    (a,) = _float_arrays(**{name: a})
    if a.ndim != 2:
        raise ValueError(f"{name} must be 2-D (batch, features), got shape {a.shape}")
    a, variance = _float_arrays(**{name: a, "variance": variance})
    if variance.shape != (a.shape[1],):
        raise ValueError(f"variance must have shape ({a.shape[1]},), got {variance.shape}")
    return a, np.maximum(np.sqrt(variance), a.dtype.type(NORMALIZATION_EPSILON))


def normalization_forward(x, mean, variance, invert=False):
    """Keras's Normalization layer: ``y = (x - mean) / max(sqrt(variance), 1e-7)`` per feature, or
    with invert ``mean + x * max(sqrt(variance), 1e-7)``; x (batch, features), mean and variance
    (features,)."""
    x, scale = _normalization_scale("x", x, variance)
    x, mean = _float_arrays(x=x, mean=mean)
    if mean.shape != scale.shape:
        raise ValueError(f"mean must have shape {scale.shape}, got {mean.shape}")
    return mean + x * scale if invert else (x - mean) / scale


def normalization_backward(dy, variance, invert=False):
    """dx of normalization_forward: ``dy / max(sqrt(variance), 1e-7)`` (``dy * ...`` with invert)."""
    dy, scale = _normalization_scale("dy", dy, variance)
    return dy * scale if invert else dy / scale


# --------------------------------------------------------------------------------------------------
# more optimizers: Adamax, Nadam, RAdam, Adadelta, Lion, Ftrl (functional, in place, multi-tensor, as above)
# --------------------------------------------------------------------------------------------------

def _required_group(fn, params, grads, **states):
    """_tensor_group for an update whose every state list is required (named in the error as
    "must be given when calling fn")."""
    group = _tensor_group(params, grads, **states)
    for name, value in states.items():
        _require(value, name, f"calling {fn}")
    return group


def _betas(beta_1, beta_2, epsilon):
    return (checks.real("beta_1", beta_1, 0.0, 1.0, hi_open=True),
            checks.real("beta_2", beta_2, 0.0, 1.0, hi_open=True), checks.real("epsilon", epsilon))


def adamax_update(params, grads, exp_avgs, exp_infs, *, step, learning_rate, beta_1, beta_2, epsilon,
                  weight_decay=0.0, maximize=False, convention="keras"):
    """One Adamax step, in place.

    keras (Keras 3 Adamax; weight decay decoupled): ``w -= lr*wd*w; m += (1-b1)*(g-m);
    u = max(b2*u, |g|); w -= lr*m/(bc1*(u + eps))``, ``bc1 = 1 - b1^t``.
    torch (torch.optim.Adamax): ``g = -g`` (maximize); ``g += wd*w; m = lerp(m, g, 1-b1);
    u = max(b2*u, |g| + eps); w -= (lr/bc1)*m/u``.
    """
    conv = checks.one_of("convention", convention, CONVENTIONS)
    t = checks.integer("step", step, lo=1)
    lr = checks.real("learning_rate", learning_rate)
    b1, b2, eps = _betas(beta_1, beta_2, epsilon)
    wd = checks.real("weight_decay", weight_decay)
    maximize = _maximize(maximize, conv)
    params, grads, ms, us = _required_group("adamax_update", params, grads, exp_avgs=exp_avgs,
                                           exp_infs=exp_infs)
    bc1 = 1.0 - b1**t
    clr = lr / bc1  # torch

    for w, g, m, u in zip(params, grads, ms, us):
        if conv == "keras":
            _decoupled_decay(w, lr, wd)
            m += (1.0 - b1) * (g - m)
            np.maximum(b2 * u, np.abs(g), out=u)
            w -= lr * m / (bc1 * (u + eps))
        else:
            g = _torch_grad(g, w, maximize, wd)
            m[...] = _torch_lerp(m, g, 1.0 - b1)
            np.maximum(b2 * u, np.abs(g) + eps, out=u)
            w -= clr * m / u


def nadam_momentum_cache(beta_1, step, psi):
    """(mu_t, mu_{t+1}, prod_{k<=t} mu_k) of Nadam, in double: ``mu_k = b1*(1 - 0.5*0.96^(k*psi))``
    (Keras: psi = 1; torch: psi = momentum_decay). The product stops once it underflows to 0."""
    def mu(k):
        return beta_1 * (1.0 - 0.5 * 0.96 ** (float(k) * psi))
    prod = 1.0
    k = 1
    while k <= step and prod != 0:
        prod *= mu(k)
        k += 1
    return mu(step), mu(step + 1), prod


def nadam_update(params, grads, exp_avgs, exp_avg_sqs, *, step, learning_rate, beta_1, beta_2, epsilon,
                 momentum_decay=4e-3, weight_decay=0.0, decoupled_weight_decay=False, maximize=False,
                 convention="keras"):
    """One Nadam step, in place. ``mu``, ``mu_next`` and ``prod`` from :func:`nadam_momentum_cache`
    (momentum_decay is used by torch only; Keras' cache decays as 0.96^t), ``bc2 = 1 - b2^t``.

    keras (Keras 3 Nadam; weight decay decoupled): ``w -= lr*wd*w; m += (1-b1)*(g-m);
    v += (1-b2)*(g*g-v); mhat = (mu_next/(1-prod*mu_next))*m + ((1-mu)/(1-prod))*g;
    w -= lr*mhat/(sqrt(v/bc2) + eps)``.
    torch (torch.optim.NAdam): ``g = -g`` (maximize); ``w *= 1 - lr*wd`` if decoupled else
    ``g += wd*w``; ``m = lerp(m, g, 1-b1); v = b2*v + (1-b2)*g*g; d = sqrt(v/bc2) + eps;
    w += cg*g/d; w += cm*m/d`` with ``cg = -lr*(1-mu)/(1-prod)``, ``cm = -lr*mu_next/(1-prod*mu_next)``.
    """
    conv = checks.one_of("convention", convention, CONVENTIONS)
    t = checks.integer("step", step, lo=1)
    lr = checks.real("learning_rate", learning_rate)
    b1, b2, eps = _betas(beta_1, beta_2, epsilon)
    psi = checks.real("momentum_decay", momentum_decay)
    wd = checks.real("weight_decay", weight_decay)
    maximize = _maximize(maximize, conv)
    params, grads, ms, vs = _required_group("nadam_update", params, grads, exp_avgs=exp_avgs,
                                            exp_avg_sqs=exp_avg_sqs)
    mu, mu_next, prod = nadam_momentum_cache(b1, t, 1.0 if conv == "keras" else psi)
    bc2 = 1.0 - b2**t
    if conv == "keras":
        cm, cg = mu_next / (1.0 - prod * mu_next), (1.0 - mu) / (1.0 - prod)
    else:
        cg = -lr * (1.0 - mu) / (1.0 - prod)
        cm = -lr * mu_next / (1.0 - prod * mu_next)

    for w, g, m, v in zip(params, grads, ms, vs):
        if conv == "keras":
            _decoupled_decay(w, lr, wd)
            m += (1.0 - b1) * (g - m)
            v += (1.0 - b2) * (g * g - v)
            mhat = cm * m + cg * g
            w -= lr * mhat / (np.sqrt(v / bc2) + eps)
            continue
        g = _torch_adam_moments(w, g, m, v, lr, b1, b2, wd, decoupled_weight_decay, maximize)
        d = np.sqrt(v / bc2) + eps
        w += cg * g / d
        w += cm * m / d


def _torch_adam_moments(w, g, m, v, lr, b1, b2, wd, decoupled, maximize):
    """NAdam's and RAdam's shared torch prologue, in place: the sign (maximize), the weight decay
    (decoupled: ``w *= 1 - lr*wd``; else L2 into the gradient), then both moments. Returns the
    gradient as used."""
    g = -g if maximize else g
    if wd and decoupled:
        w *= 1.0 - lr * wd
    elif wd:
        g = _l2(g, w, wd)
    m[...] = _torch_lerp(m, g, 1.0 - b1)
    v[...] = _torch_addcmul_square(v, g, b2)
    return g


def radam_update(params, grads, exp_avgs, exp_avg_sqs, *, step, learning_rate, beta_1, beta_2, epsilon,
                 weight_decay=0.0, decoupled_weight_decay=False, maximize=False, convention="torch"):
    """One RAdam step (torch.optim.RAdam; Keras 3 has no RAdam, so convention must be "torch").

    ``g = -g`` (maximize); ``w *= 1 - lr*wd`` if decoupled else ``g += wd*w``; ``m = lerp(m, g, 1-b1);
    v = b2*v + (1-b2)*g*g``; with ``rho_inf = 2/(1-b2) - 1`` and ``rho_t = rho_inf - 2t*b2^t/bc2``:
    if ``rho_t > 5``, ``rect = sqrt((rho_t-4)(rho_t-2)rho_inf/((rho_inf-4)(rho_inf-2)rho_t))`` and
    ``w -= ((m/bc1)*lr) * (sqrt(bc2)/(sqrt(v) + eps)) * rect``, else ``w -= (m/bc1)*lr``.
    """
    if convention != "torch":
        raise ValueError(f"convention must be 'torch' (Keras 3 has no RAdam), got {convention!r}")
    t = checks.integer("step", step, lo=1)
    lr = checks.real("learning_rate", learning_rate)
    b1, b2, eps = _betas(beta_1, beta_2, epsilon)
    wd = checks.real("weight_decay", weight_decay)
    maximize = bool(maximize)
    params, grads, ms, vs = _required_group("radam_update", params, grads, exp_avgs=exp_avgs,
                                            exp_avg_sqs=exp_avg_sqs)
    bc1, bc2 = 1.0 - b1**float(t), 1.0 - b2**float(t)
    rho_inf = 2.0 / (1.0 - b2) - 1.0
    rho_t = rho_inf - 2.0 * float(t) * b2**float(t) / bc2
    rectify = rho_t > 5.0
    rect = math.sqrt((rho_t - 4.0) * (rho_t - 2.0) * rho_inf / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t)) \
        if rectify else 0.0
    bc2_sqrt = math.sqrt(bc2)

    for w, g, m, v in zip(params, grads, ms, vs):
        g = _torch_adam_moments(w, g, m, v, lr, b1, b2, wd, decoupled_weight_decay, maximize)
        s = m / bc1 * lr
        if rectify:
            w -= s * (bc2_sqrt / (np.sqrt(v) + eps)) * rect
        else:
            w -= s


def adadelta_update(params, grads, square_avgs, acc_deltas, *, learning_rate, rho, epsilon, weight_decay=0.0,
                    maximize=False, convention="keras"):
    """One Adadelta step, in place.

    keras (Keras 3 Adadelta; weight decay decoupled): ``w -= lr*wd*w; a = rho*a + (1-rho)*(g*g);
    d = sqrt(ad + eps)*g/sqrt(a + eps); ad = rho*ad + (1-rho)*(d*d); w -= lr*d``.
    torch (torch.optim.Adadelta): ``g = -g`` (maximize); ``g += wd*w; a = rho*a + (1-rho)*g*g;
    d = sqrt(ad + eps)/sqrt(a + eps)*g; ad = rho*ad + (1-rho)*d*d; w -= lr*d``.
    """
    conv = checks.one_of("convention", convention, CONVENTIONS)
    lr = checks.real("learning_rate", learning_rate)
    rho = checks.real("rho", rho, 0.0, 1.0)
    eps = checks.real("epsilon", epsilon)
    wd = checks.real("weight_decay", weight_decay)
    maximize = _maximize(maximize, conv)
    params, grads, avgs, deltas = _required_group("adadelta_update", params, grads,
                                                    square_avgs=square_avgs, acc_deltas=acc_deltas)

    for w, g, a, ad in zip(params, grads, avgs, deltas):
        if conv == "keras":
            _decoupled_decay(w, lr, wd)
            a[...] = rho * a + (1.0 - rho) * (g * g)
            d = np.sqrt(ad + eps) * g / np.sqrt(a + eps)
            ad[...] = rho * ad + (1.0 - rho) * (d * d)
        else:
            g = _torch_grad(g, w, maximize, wd)
            a[...] = rho * a + (1.0 - rho) * g * g
            d = np.sqrt(ad + eps) / np.sqrt(a + eps) * g
            ad[...] = rho * ad + (1.0 - rho) * d * d
        w -= lr * d


def lion_update(params, grads, exp_avgs, *, learning_rate, beta_1, beta_2, weight_decay=0.0, convention="keras"):
    """One Lion step (Keras 3 Lion; torch.optim has none, so convention must be "keras"), in place:
    ``w -= lr*wd*w; c = b1*m + (1-b1)*g; w -= lr*sign(c); m = b2*m + (1-b2)*g`` (np.sign: 0 at 0)."""
    if convention != "keras":
        raise ValueError(f"convention must be 'keras' (torch.optim has no Lion), got {convention!r}")
    lr = checks.real("learning_rate", learning_rate)
    b1 = checks.real("beta_1", beta_1, 0.0, 1.0)
    b2 = checks.real("beta_2", beta_2, 0.0, 1.0)
    wd = checks.real("weight_decay", weight_decay)
    params, grads, ms = _required_group("lion_update", params, grads, exp_avgs=exp_avgs)

    for w, g, m in zip(params, grads, ms):
        _decoupled_decay(w, lr, wd)
        w -= lr * np.sign(b1 * m + (1.0 - b1) * g)
        m[...] = b2 * m + (1.0 - b2) * g


def _c_pow(x, p):
    """The C library's pow(x, p) where Python's math.pow raises: inf on overflow (negative for a
    negative x and an odd integer p), NaN for a negative x and a non-integer p."""
    try:
        return math.pow(x, p)
    except OverflowError:
        return -math.inf if x < 0 and p == int(p) and int(p) % 2 else math.inf
    except ValueError:
        return math.nan


def _ftrl_power(x, p):
    """``x**p`` as nnfast's Ftrl computes it: sqrt when p == 0.5, else pow in double (the C
    library's, element by element, as the native kernel calls it) of ``x + 0.0`` (x as arithmetic
    reads it: with flushing on, a subnormal as zero), rounded to x's dtype."""
    if p == 0.5:
        return np.sqrt(x)
    flat = [_c_pow(float(v) + 0.0, p) for v in subnormals.read(x.view(np.ndarray)).ravel()]
    return np.array(flat, dtype=np.float64).astype(x.dtype).reshape(x.shape)


def ftrl_update(params, grads, accumulators, linears, *, learning_rate, learning_rate_power=-0.5,
                l1_regularization_strength=0.0, l2_regularization_strength=0.0,
                l2_shrinkage_regularization_strength=0.0, beta=0.0, weight_decay=0.0, convention="keras"):
    """One Ftrl step (Keras 3 Ftrl; torch.optim has none, so convention must be "keras"), in place.

    With ``p = -learning_rate_power`` and ``pw`` from :func:`_ftrl_power`: ``w -= lr*wd*w;
    g2 = g + (2*l2_shrinkage)*w; acc1 = acc + g*g; lin += g2 - (pw(acc1) - pw(acc))/lr*w;
    q = pw(acc1)/lr + 2*(l2 + beta/(2*lr)); w = (clip(lin, -l1, l1) - lin)/q; acc = acc1``.
    """
    if convention != "keras":
        raise ValueError(f"convention must be 'keras' (torch.optim has no Ftrl), got {convention!r}")
    lr = checks.real("learning_rate", learning_rate)
    power = checks.real("learning_rate_power", learning_rate_power, -math.inf, 0.0)
    l1 = checks.real("l1_regularization_strength", l1_regularization_strength)
    l2 = checks.real("l2_regularization_strength", l2_regularization_strength)
    shrink = checks.real("l2_shrinkage_regularization_strength", l2_shrinkage_regularization_strength)
    b = checks.real("beta", beta)
    wd = checks.real("weight_decay", weight_decay)
    params, grads, accs, lins = _required_group("ftrl_update", params, grads, accumulators=accumulators,
                                                 linears=linears)
    p = -power
    beta_term = 0.0 if b == 0 else (b / (2.0 * lr) if lr else math.inf)
    l2_2 = 2.0 * (l2 + beta_term)

    for w, g, acc, lin in zip(params, grads, accs, lins):
        _decoupled_decay(w, lr, wd)
        g2 = g + (2.0 * shrink) * w
        a1 = acc + g * g
        p1 = _ftrl_power(a1, p)
        lin += g2 - (p1 - _ftrl_power(acc, p)) / lr * w
        q = p1 / lr + l2_2
        clipped = np.clip(lin, -l1, l1)
        w[...] = (clipped - lin) / q
        acc[...] = a1


# With flushing on (nnfast.set_flush_denormal), every public function computes on arrays that flush
# subnormals exactly as the kernels' FTZ|DAZ mode does (nnfast.utils.subnormals).
for _name, _fn in list(globals().items()):
    if not _name.startswith("_") and callable(_fn) and getattr(_fn, "__module__", None) == __name__:
        globals()[_name] = subnormals.flushing(_fn)
del _name, _fn
