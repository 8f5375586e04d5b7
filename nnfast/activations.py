"""Keras 3's activation functions on NumPy arrays, and their lookup by name.

Each function takes an array (or anything ``numpy.asarray`` takes) and returns a new array of the
input's dtype: a float16/32/64 array keeps its dtype, any other real input (int or bool arrays,
Python numbers and lists of them) is computed in float32, Keras' default float type. Each follows the formula of
``keras.activations`` with Keras' arguments and defaults and has Keras' ``__name__``. NaN and Inf
are data: they propagate as in Keras and raise no NumPy warning (overflow to Inf is silent).

``get(identifier)``: a name (Keras' names, case-sensitive as Keras: "relu", "swish", ...), one of
these functions or any callable (returned as is), Keras' serialized dict
``{"class_name": "function", "config": NAME, ...}``, or None (-> ``linear``). ``serialize(fn)`` gives
the name of one of these functions; ``deserialize(name)`` the function.

``kernel_activation(identifier)`` tells the layers when the native kernels compute the same thing:
it returns the name of the kernel activation ("linear", "relu", "leaky_relu", "sigmoid", "tanh",
"softmax") or None when only the NumPy function here can. Recognized are these functions (by name
or object, or a ``functools.partial`` of one with keyword arguments only) whose arguments have the
kernel's meaning: ``relu`` with its defaults ("relu") or with ``negative_slope`` equal to the
kernels' leaky slope 0.2 and no ``max_value`` or ``threshold`` ("leaky_relu"), ``leaky_relu`` with
slope 0.2, ``softmax`` over ``axis=-1``, and ``linear``, ``sigmoid``, ``tanh``. Everything else
(elu, gelu, relu with a max_value, softmax over another axis, a foreign callable) gives None.
"""
import functools
import inspect
import math

import numpy as np

from .reference import LEAKY_RELU_SLOPE
from .utils import checks
from .utils.select import select

__all__ = ["relu", "leaky_relu", "relu6", "elu", "selu", "celu", "gelu", "glu", "sigmoid", "hard_sigmoid",
           "sparse_sigmoid", "log_sigmoid", "tanh", "hard_tanh", "tanh_shrink", "softplus", "softsign",
           "sparse_plus", "squareplus", "silu", "swish", "hard_silu", "hard_swish", "mish", "exponential",
           "linear", "softmax", "log_softmax", "sparsemax", "hard_shrink", "soft_shrink", "threshold",
           "get", "serialize", "deserialize", "kernel_activation", "BY_NAME"]

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def as_float_array(x):
    """x as an array of a float dtype: float arrays as they are, other real inputs (Python numbers
    and lists of them included) in float32."""
    array = np.asarray(x)
    if array.dtype.kind not in "fbiu":
        raise TypeError(f"x must be an array of real numbers, got dtype {array.dtype}")
    if array.dtype.kind == "f" and isinstance(x, (np.ndarray, np.generic)):
        return array
    return array.astype(np.float32)


def keras_activation(formula):
    """The activation computing ``formula`` on x as a float array, with NumPy's floating-point
    warnings off and the result in x's dtype; it keeps the formula's name and signature."""

    @functools.wraps(formula)
    def activation(x, *args, **kwargs):
        x = as_float_array(x)
        with np.errstate(all="ignore"):
            y = formula(x, *args, **kwargs)
        return np.asarray(y).astype(x.dtype, copy=False)

    return activation


def stable_sigmoid(x):
    """1 / (1 + exp(-x)) evaluated so that it never overflows (as the sigmoid kernel)."""
    e = np.exp(-np.abs(x))
    return select(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def positive_part(x):
    return np.maximum(x, x.dtype.type(0.0))


# --------------------------------------------------------------------------------------------------
# rectifiers and exponential units
# --------------------------------------------------------------------------------------------------

@keras_activation
def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """max(x, 0) with Keras' options: values at or below ``threshold`` become 0 (then
    ``negative_slope * (x - threshold)`` is added below it), values above ``max_value`` are clipped."""
    # Keras' ReLU.static_call, step by step
    if negative_slope != 0.0:
        if max_value is None and threshold == 0:
            return select(x > 0, x, negative_slope * x)
        negative_part = positive_part(threshold - x) if threshold != 0 else positive_part(-x)
    if threshold != 0:
        y = np.where(x > x.dtype.type(threshold), x, x.dtype.type(0.0))
    else:
        y = positive_part(x)
    if max_value is not None:
        y = np.clip(y, x.dtype.type(0.0), x.dtype.type(max_value))
    if negative_slope != 0.0:
        y = y - negative_slope * negative_part
    return y


@keras_activation
def leaky_relu(x, negative_slope=0.2):
    """x where x > 0, else negative_slope * x."""
    return select(x > 0, x, negative_slope * x)


@keras_activation
def relu6(x):
    """min(max(x, 0), 6)."""
    return np.minimum(positive_part(x), x.dtype.type(6.0))


@keras_activation
def elu(x, alpha=1.0):
    """x where x > 0, else alpha * (exp(x) - 1)."""
    return select(x > 0, x, alpha * np.expm1(x))


@keras_activation
def selu(x):
    """scale * elu(x, alpha) with Klambauer et al.'s alpha 1.6732632... and scale 1.0507009..."""
    return SELU_SCALE * select(x > 0, x, SELU_ALPHA * np.expm1(x))


@keras_activation
def celu(x, alpha=1.0):
    """max(x, 0) + alpha * (exp(min(x, 0) / alpha) - 1)."""
    return positive_part(x) + alpha * np.expm1(np.minimum(x, x.dtype.type(0.0)) / alpha)


@keras_activation
def gelu(x, approximate=False):
    """x * P(N(0, 1) <= x) = x (1 + erf(x / sqrt(2))) / 2; with ``approximate`` the tanh form
    x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))) / 2. The erf is evaluated in float64 (SciPy's
    when installed, else math.erf element by element) and the result rounded once."""
    if approximate:
        inner = math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)
        return 0.5 * x * (1.0 + np.tanh(inner))
    wide = x.astype(np.float64)
    return 0.5 * wide * (1.0 + erf(wide / math.sqrt(2.0)))


def erf(x):
    """The error function of a float64 array (SciPy is optional: nnfast needs only NumPy)."""
    try:
        from scipy.special import erf as scipy_erf
    except ImportError:
        return np.frompyfunc(math.erf, 1, 1)(x).astype(np.float64)
    return scipy_erf(x)


# --------------------------------------------------------------------------------------------------
# sigmoids, tanh and their relatives
# --------------------------------------------------------------------------------------------------

@keras_activation
def sigmoid(x):
    """1 / (1 + exp(-x)), never overflowing."""
    return stable_sigmoid(x)


def relu6_of_shift(x):
    """min(max(x + 3, 0), 6): 6 * hard_sigmoid(x), exact where x / 6 + 0.5 would cancel near -3."""
    return np.minimum(positive_part(x + x.dtype.type(3.0)), x.dtype.type(6.0))


@keras_activation
def hard_sigmoid(x):
    """x / 6 + 0.5 clipped to [0, 1], evaluated as relu6(x + 3) / 6 (as Keras' torch and JAX
    backends)."""
    return relu6_of_shift(x) / x.dtype.type(6.0)


@keras_activation
def sparse_sigmoid(x):
    """0 for x <= -1, 1 for x >= 1, (x + 1) / 2 between."""
    return np.where(x <= -1, 0.0, np.where(x >= 1, 1.0, 0.5 * (x + 1)))


@keras_activation
def log_sigmoid(x):
    """log(sigmoid(x)) = -softplus(-x)."""
    return -np.logaddexp(-x, x.dtype.type(0.0))


@keras_activation
def tanh(x):
    """The hyperbolic tangent."""
    return np.tanh(x)


@keras_activation
def hard_tanh(x):
    """x clipped to [-1, 1]."""
    return np.clip(x, x.dtype.type(-1.0), x.dtype.type(1.0))


@keras_activation
def tanh_shrink(x):
    """x - tanh(x)."""
    return x - np.tanh(x)


@keras_activation
def softplus(x):
    """log(exp(x) + 1), evaluated as logaddexp(x, 0) (never overflowing)."""
    return np.logaddexp(x, x.dtype.type(0.0))


@keras_activation
def softsign(x):
    """x / (|x| + 1)."""
    return x / (np.abs(x) + x.dtype.type(1.0))


@keras_activation
def sparse_plus(x):
    """0 for x <= -1, x for x >= 1, (x + 1)^2 / 4 between."""
    return np.where(x <= -1, 0.0, np.where(x < 1, 0.25 * (x + 1) ** 2, x))


@keras_activation
def squareplus(x, b=4):
    """(x + sqrt(x^2 + b)) / 2."""
    return (x + np.sqrt(x**2 + x.dtype.type(b))) / 2


@keras_activation
def silu(x):
    """x * sigmoid(x) (also called swish)."""
    return x * stable_sigmoid(x)


@keras_activation
def hard_silu(x):
    """x * hard_sigmoid(x) (also called hard_swish), evaluated as x * relu6(x + 3) / 6."""
    return x * relu6_of_shift(x) / x.dtype.type(6.0)


@keras_activation
def mish(x):
    """x * tanh(softplus(x))."""
    return x * np.tanh(np.logaddexp(x, x.dtype.type(0.0)))


@keras_activation
def exponential(x):
    """exp(x)."""
    return np.exp(x)


@keras_activation
def linear(x):
    """x itself (for a float array, the very same array, as in Keras)."""
    return x


# --------------------------------------------------------------------------------------------------
# along an axis
# --------------------------------------------------------------------------------------------------

@keras_activation
def softmax(x, axis=-1):
    """exp(x - max) / sum(exp(x - max)) along ``axis`` (an int or a tuple of ints)."""
    if x.size == 0:
        return x.copy()
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


@keras_activation
def log_softmax(x, axis=-1):
    """x - max - log(sum(exp(x - max))) along ``axis``."""
    if x.size == 0:
        return x.copy()
    shifted = x - np.max(x, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


@keras_activation
def sparsemax(x, axis=-1):
    """The Euclidean projection of x onto the probability simplex along ``axis`` (Martins et al.)."""
    ordered = -np.sort(-x, axis=axis)
    cumulative = np.cumsum(ordered, axis=axis)
    ranks = np.arange(1, x.shape[axis] + 1).reshape([-1 if i == axis % x.ndim else 1 for i in range(x.ndim)])
    support = ordered - (cumulative - 1) / ranks > 0
    k = np.sum(support, axis=axis, keepdims=True)
    tau = (np.sum(np.where(support, cumulative, 0.0), axis=axis, keepdims=True) - 1) / k
    return positive_part(x - tau.astype(x.dtype))


@keras_activation
def glu(x, axis=-1):
    """a * sigmoid(b), where a and b are the two halves of x along ``axis`` (an even size)."""
    if x.shape[axis] % 2:
        raise ValueError(f"x must have an even size along axis {axis}, got shape {x.shape}")
    a, b = np.split(x, 2, axis)
    return a * stable_sigmoid(b)


# --------------------------------------------------------------------------------------------------
# shrinkage and thresholds
# --------------------------------------------------------------------------------------------------

@keras_activation
def hard_shrink(x, threshold=0.5):
    """x where |x| > threshold, else 0 (NaN stays NaN, as in Keras' torch backend)."""
    return np.where(np.abs(x) <= threshold, 0.0, x)


@keras_activation
def soft_shrink(x, threshold=0.5):
    """x - threshold above threshold, x + threshold below -threshold, else 0 (NaN stays NaN)."""
    return np.where(np.abs(x) <= threshold, 0.0, x - np.sign(x) * threshold)


@keras_activation
def threshold(x, threshold, default_value):
    """x where x > threshold, else default_value (NaN stays NaN)."""
    return np.where(x <= threshold, default_value, x)


swish, hard_swish = silu, hard_silu  # Keras' aliases: the same functions, named silu and hard_silu

# Keras 3's ALL_OBJECTS_DICT: every function by its __name__, plus the two aliases
BY_NAME = {fn.__name__: fn for fn in (
    relu, leaky_relu, relu6, elu, selu, celu, gelu, glu, sigmoid, hard_sigmoid, sparse_sigmoid, log_sigmoid,
    tanh, hard_tanh, tanh_shrink, softplus, softsign, sparse_plus, squareplus, silu, hard_silu, mish,
    exponential, linear, softmax, log_softmax, sparsemax, hard_shrink, soft_shrink, threshold)}
BY_NAME.update(swish=silu, hard_swish=hard_silu)


def get(identifier):
    """The activation function an identifier names (see the module docstring); None -> linear."""
    if identifier is None:
        return linear
    if isinstance(identifier, dict):
        if identifier.get("class_name") != "function" or not isinstance(identifier.get("config"), str):
            raise ValueError("activation must be a serialized function {'class_name': 'function', "
                             f"'config': NAME}}, got {identifier!r}")
        identifier = identifier["config"]
    if isinstance(identifier, str):
        if identifier not in BY_NAME:
            raise checks.not_one_of("activation", identifier, tuple(sorted(BY_NAME)), also="None")
        return BY_NAME[identifier]
    if callable(identifier):
        return identifier
    raise TypeError(f"activation must be a name, None or a callable, got {identifier!r}")


def serialize(activation):
    """The name of one of this module's functions (what Keras 3 stores for its built-ins)."""
    if BY_NAME.get(getattr(activation, "__name__", None)) is not activation:
        raise TypeError(f"activation must be one of nnfast.activations' functions to be serialized, "
                        f"got {activation!r}")
    return activation.__name__


def deserialize(config):
    """The function a name (or Keras' serialized dict) gives."""
    if not isinstance(config, (str, dict)):
        raise TypeError(f"config must be an activation name, got {config!r}")
    return get(config)


def kernel_activation(identifier):
    """The native kernel activation computing what ``get(identifier)`` computes, or None (see the
    module docstring for the exact rule)."""
    function, keywords = get(identifier), {}
    if isinstance(function, functools.partial):
        if function.args:
            return None
        function, keywords = function.func, function.keywords
    if function not in (linear, sigmoid, tanh, relu, leaky_relu, softmax):
        return None
    arguments = inspect.signature(function).bind_partial(**keywords)
    arguments.apply_defaults()
    options = dict(arguments.arguments)
    options.pop("x", None)
    if function is relu:
        if options["max_value"] is not None or options["threshold"] != 0:
            return None
        return {0.0: "relu", LEAKY_RELU_SLOPE: "leaky_relu"}.get(options["negative_slope"])
    if function is leaky_relu:
        return "leaky_relu" if options["negative_slope"] == LEAKY_RELU_SLOPE else None
    if function is softmax:
        return "softmax" if options["axis"] == -1 else None
    return function.__name__
