"""Keras 3's activations with their gradients, for the layers that apply one in NumPy: every
activation of nnfast.activations the native kernels do not compute (they compute linear, relu,
leaky_relu with slope 0.2, sigmoid, tanh and softmax).

``numpy_activation(identifier)`` gives a NumpyActivation (forward and backward on a (batch,
features) array) for each activation that keeps the shape: every element-wise one, with its
keyword arguments (a ``functools.partial`` of one, as ``kernel_activation`` accepts), and
``log_softmax`` over the last axis. It gives None for ``glu`` (it halves the features),
``sparsemax``, ``softmax`` or ``log_softmax`` over another axis, and a callable that is not one of
nnfast.activations' functions (nnfast has no automatic differentiation).

Each gradient is the one Keras's torch backend computes: torch's derivative of the same formula,
with torch's value at each kink (relu's 0 at 0, hard_tanh's 0 at -1 and 1, elu's alpha at 0, ...)
and, where Keras composes an activation of several operations (relu with options, mish,
squareplus, softsign), the sum the chain rule takes through those operations."""
import functools
import math
from dataclasses import dataclass, field

import numpy as np

from . import activations as A
from .utils.select import select

SOFTPLUS_THRESHOLD = 20.0  # torch's softplus returns x itself above this (its derivative is then 1)
ONE_SIXTH = float(np.float32(1.0 / 6.0))  # hard_sigmoid's slope as torch has it, a float32 constant in double too


def _steps(x, *pieces):
    """An array of x's dtype: value v where cond holds, for the first (cond, v) that holds; 0 elsewhere."""
    t = x.dtype.type
    return np.select([c for c, _ in pieces], [np.asarray(v, x.dtype) if np.ndim(v) else t(v) for _, v in pieces],
                     t(0.0))


def _softplus_slope(x):
    """torch's softplus derivative: exp(x) / (exp(x) + 1), and 1 above the threshold."""
    z = np.exp(x)
    return np.where(x > SOFTPLUS_THRESHOLD, x.dtype.type(1.0), z / (z + 1))


def _relu_slope(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """d relu / dx through Keras's ReLU.static_call, operation by operation."""
    t = x.dtype.type
    if negative_slope != 0.0 and max_value is None and threshold == 0:
        return _steps(x, (x > 0, 1.0), (x <= 0, negative_slope))  # leaky_relu
    clip = max_value is not None
    if threshold != 0:
        passed, kept = x > t(threshold), np.where(x > t(threshold), x, t(0.0))
    elif max_value == 6:
        passed, kept, clip = (x > 0) & (x < 6), None, False  # relu6 (torch's hardtanh(0, 6))
    else:
        passed, kept = x > 0, np.maximum(x, t(0.0))
    if clip:  # torch's clamp passes the gradient where min <= value <= max
        passed = passed & (kept >= 0) & (kept <= t(max_value))
    slope = passed.astype(x.dtype)
    if negative_slope != 0.0:  # - negative_slope * relu(threshold - x)
        slope += np.where(t(threshold) - x > 0, t(negative_slope), t(0.0))
    return slope


def _elu_slope(x, alpha=1.0, scale=1.0, input_scale=1.0):
    """torch's elu_backward: scale above 0, alpha * scale * input_scale * exp(x * input_scale) at or below."""
    t = x.dtype.type
    return select(x > 0, t(scale), t(input_scale) * t(alpha * scale) * np.exp(x * t(input_scale)))


def _gelu_slope(x, approximate=False):
    """torch's gelu derivative, in float64 then rounded (float32 tanh and erf differ by a few ulp
    between libraries, which the saturated tails would magnify)."""
    wide = x.astype(np.float64)
    if approximate:  # the tanh form, term by term as torch
        beta, kappa = math.sqrt(2.0) * (2.0 / math.sqrt(math.pi)) * 0.5, 0.044715
        th = np.tanh(beta * (wide + kappa * wide * wide * wide))
        slope = 0.5 * (1 + th) + 0.5 * wide * (1 - th * th) * beta * (1 + 3 * kappa * wide * wide)
    else:
        cdf = 0.5 * (1.0 + A.erf(wide * math.sqrt(0.5)))
        slope = cdf + wide * np.exp(-0.5 * wide * wide) * (1.0 / math.sqrt(2.0 * math.pi))
    return slope.astype(x.dtype)


def _log_sigmoid_slope(x):
    """torch's log_sigmoid_backward (its CPU form)."""
    z = np.exp(-np.abs(x))
    negative = x < 0
    return np.where(negative, x.dtype.type(1.0), x.dtype.type(0.0)) - np.where(negative, 1, -1).astype(x.dtype) * (
        z / (1 + z))


def _silu_slope(x):
    s = 1 / (1 + np.exp(-x))
    return s * (1 + x * (1 - s))


def _mish_slope(x):
    """x * tanh(softplus(x)), Keras's composition, by the chain rule."""
    th = np.tanh(A.softplus(x))
    return th + x * (1 - th * th) * _softplus_slope(x)


def _softsign_gradient(x, y, dy):
    """x / (|x| + 1) as torch differentiates the division and the abs."""
    b = np.abs(x) + 1
    return dy / b + (-dy * x / (b * b)) * np.sign(x)


def _squareplus_gradient(x, y, dy, b=4):
    """(x + sqrt(x**2 + b)) / 2 through its operations."""
    half = dy / 2
    root = np.sqrt(x * x + x.dtype.type(b))
    return half + half / (2 * root) * (2 * x)


def _tanh_shrink_gradient(x, y, dy):
    """x - tanh(x): dy - dy * (1 - tanh(x)^2)."""
    th = np.tanh(x)
    return dy - dy * (1 - th * th)


def _log_softmax_gradient(x, y, dy, axis=-1):
    return dy - np.exp(y) * np.sum(dy, axis=-1, keepdims=True)


def _by_slope(slope):
    """A gradient rule dy * slope(x, **keywords)."""
    return lambda x, y, dy, **keywords: dy * slope(x, **keywords)


# name -> the gradient rule (x, y, dy, **keywords) -> dx, for each activation keeping the shape
GRADIENTS = {
    "linear": lambda x, y, dy: dy,
    "relu": _by_slope(_relu_slope),
    "leaky_relu": lambda x, y, dy, negative_slope=0.2: dy * _relu_slope(x, negative_slope=negative_slope),
    "relu6": lambda x, y, dy: dy * _steps(x, ((x > 0) & (x < 6), 1.0)),
    "elu": _by_slope(_elu_slope),
    "selu": lambda x, y, dy: dy * _elu_slope(x, A.SELU_ALPHA, A.SELU_SCALE),
    "celu": lambda x, y, dy, alpha=1.0: dy * _elu_slope(x, alpha, 1.0, 1.0 / alpha),
    "gelu": _by_slope(_gelu_slope),
    "sigmoid": lambda x, y, dy: dy * ((1 - y) * y),
    "hard_sigmoid": lambda x, y, dy: dy * _steps(x, ((x > -3) & (x < 3), ONE_SIXTH)),
    "sparse_sigmoid": lambda x, y, dy: dy * _steps(x, ((x > -1) & (x < 1), 0.5)),
    "log_sigmoid": lambda x, y, dy: dy * _log_sigmoid_slope(x),
    "tanh": lambda x, y, dy: dy * (1 - y * y),
    "hard_tanh": lambda x, y, dy: dy * _steps(x, ((x > -1) & (x < 1), 1.0)),
    "tanh_shrink": _tanh_shrink_gradient,
    "softplus": lambda x, y, dy: dy * _softplus_slope(x),
    "softsign": _softsign_gradient,
    "sparse_plus": lambda x, y, dy: dy * _steps(x, (x <= -1, 0.0), (x < 1, 0.5 * (x + 1)), (x >= 1, 1.0)),
    "squareplus": _squareplus_gradient,
    "silu": lambda x, y, dy: dy * _silu_slope(x),
    "hard_silu": lambda x, y, dy: dy * _steps(x, (x <= -3, 0.0), (x < 3, x / 3 + 0.5), (x >= 3, 1.0)),
    "mish": lambda x, y, dy: dy * _mish_slope(x),
    "exponential": lambda x, y, dy: dy * y,
    "hard_shrink": lambda x, y, dy, threshold=0.5: dy * _steps(x, ((x < -threshold) | (x > threshold), 1.0)),
    "soft_shrink": lambda x, y, dy, threshold=0.5: dy * _steps(x, ((x < -threshold) | (x > threshold), 1.0)),
    "threshold": lambda x, y, dy, threshold, default_value: dy * _steps(x, (x > threshold, 1.0)),
    "log_softmax": _log_softmax_gradient,
}


@dataclass(frozen=True)
class NumpyActivation:
    """One of nnfast.activations' functions with its keyword arguments, and its gradient."""
    name: str  # Keras's name of the function (swish is silu)
    keywords: dict = field(default_factory=dict)

    def forward(self, x, out):
        """out = f(x); returns out."""
        np.copyto(out, A.BY_NAME[self.name](x, **self.keywords))
        return out

    def backward(self, x, y, dy, out):
        """out = dy * f'(x) (y = f(x)), torch's value at each kink; returns out."""
        with np.errstate(all="ignore"):
            np.copyto(out, GRADIENTS[self.name](x, y, dy, **self.keywords), casting="same_kind")
        return out


def numpy_activation(identifier):
    """The NumpyActivation of an activation identifier (see the module docstring), or None."""
    function, keywords = A.get(identifier), {}
    if isinstance(function, functools.partial):
        if function.args:
            return None
        function, keywords = function.func, dict(function.keywords)
    name = getattr(function, "__name__", None)
    if A.BY_NAME.get(name) is not function or name not in GRADIENTS:
        return None
    if name == "log_softmax" and keywords.get("axis", -1) != -1:
        return None
    return NumpyActivation(name, keywords)
