"""nnfast.activations against Keras 3's activation functions (float32 and float64, large, small and
non-finite inputs), the name lookups and the kernel_activation contract.

Tolerance: |ours - keras| <= 4 ulp * scale + tiny * (1 + |x|), where ulp is the dtype's machine
epsilon, tiny its smallest normal number (results near it lose bits to underflow, and Keras' torch
backend flushes some, e.g. silu(-89) = -89 / (1 + exp(89)) = -0 in float32; products with x scale
that), and scale is |keras| - or |keras| + |x| for the formulas
that cancel (gelu, squareplus and tanh_shrink for negative / small x, log_softmax near 0), whose
error is bounded by the input's magnitude, not the result's. Where Keras' torch backend departs from
its own formula the comparison says so (softplus above 20, float32 gelu at +-inf).
"""
import functools
import math
import os

import numpy as np
import pytest

import nnfast
from nnfast import activations as act
from nnfast import reference

from conftest import to_numpy

os.environ.setdefault("KERAS_BACKEND", "torch")
pytestmark = pytest.mark.filterwarnings("error")

DTYPES = (np.float32, np.float64)
ULPS = 4
# the formulas whose rounding error scales with |x| rather than with the result
INPUT_SCALED = {"gelu", "squareplus", "tanh_shrink", "log_softmax"}
# torch.nn.functional.softplus returns x above 20: off from log(1 + exp(x)) by < exp(-20)
TORCH_SOFTPLUS_GAP = math.exp(-20.0)

ELEMENTWISE = [(name, {}) for name in sorted(act.BY_NAME)
               if name not in ("softmax", "log_softmax", "sparsemax", "glu", "threshold")]
ELEMENTWISE += [
    ("relu", dict(negative_slope=0.1, max_value=5.0, threshold=1.0)), ("relu", dict(max_value=6.0)),
    ("relu", dict(max_value=2.5)), ("relu", dict(negative_slope=0.3)), ("relu", dict(threshold=2.0)),
    ("relu", dict(negative_slope=0.5, max_value=4.0)), ("relu", dict(negative_slope=0.2, threshold=-1.0)),
    ("leaky_relu", dict(negative_slope=0.01)), ("gelu", dict(approximate=True)), ("elu", dict(alpha=0.5)),
    ("celu", dict(alpha=2.0)), ("threshold", dict(threshold=0.5, default_value=-1.0)),
    ("hard_shrink", dict(threshold=1.0)), ("soft_shrink", dict(threshold=0.1)), ("squareplus", dict(b=1)),
]
ALONG_AXIS = ("softmax", "log_softmax", "sparsemax", "glu")


def inputs(dtype):
    rng = np.random.default_rng(0)
    special = [0.0, -0.0, 1e-30, -1e-30, 1e-8, -1e-8, 0.5, -0.5, 1, -1, 3, -3, 6, -6, 20, 20.5, -20, 21, -21,
               80, -80, 88, -88, 89, -89, 100, -100, 700, -700, 710, -710, 1e4, -1e4, 1e30, -1e30,
               np.inf, -np.inf, np.nan]
    x = np.concatenate([rng.standard_normal(2000) * 3, rng.uniform(-30, 30, 2000), special])
    return x.astype(dtype)


def assert_close_to_keras(name, x, ours, theirs):
    dtype = x.dtype
    assert ours.dtype == dtype and ours.shape == theirs.shape
    if name == "softplus" and dtype == np.float64:
        above = (x > 20) & np.isfinite(x)  # torch's shortcut, bounded here, then the exact value compared below
        assert np.all(np.abs(theirs[above] - np.logaddexp(x[above], 0.0)) <= TORCH_SOFTPLUS_GAP)
        theirs = np.where(above, np.logaddexp(np.where(above, x, 0.0), 0.0), theirs)
    if name == "gelu" and dtype == np.float32:
        keep = np.isfinite(x) | np.isnan(x)  # torch's float32 gelu gives NaN at +inf (Keras' formula: inf)
        x, ours, theirs = x[keep], ours[keep], theirs[keep]
    finite = np.isfinite(theirs)
    np.testing.assert_array_equal(ours[~finite], theirs[~finite])  # NaN where Keras has NaN, same infinities
    wide_ours, wide_theirs = ours[finite].astype(np.float64), theirs[finite].astype(np.float64)
    size_of_x = np.broadcast_to(np.abs(np.where(np.isfinite(x), x, 0.0)), ours.shape)[finite].astype(np.float64)
    scale = np.abs(wide_theirs) + (size_of_x if name in INPUT_SCALED else 0.0)
    eps, tiny = float(np.finfo(dtype).eps), float(np.finfo(dtype).tiny)
    bound = ULPS * eps * scale + tiny * (1.0 + size_of_x)
    err = np.abs(wide_ours - wide_theirs)
    worst = np.argmax(err - bound) if err.size else 0
    assert np.all(err <= bound), (f"{name}: {np.count_nonzero(err > bound)} values outside {ULPS} ulp; worst "
                                  f"{wide_ours[worst]!r} against Keras' {wide_theirs[worst]!r}")


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name,options", ELEMENTWISE, ids=lambda v: str(v) if v else "")
def test_elementwise_functions_match_keras(keras, name, options, dtype):
    x = inputs(dtype)
    ours = getattr(act, name)(x, **options)
    theirs = to_numpy(getattr(keras.activations, name)(x, **options))
    assert_close_to_keras(name, x, ours, theirs)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("axis", [-1, 0, 1])
@pytest.mark.parametrize("name", ALONG_AXIS)
def test_functions_along_an_axis_match_keras(keras, name, axis, dtype):
    x = np.random.default_rng(1).standard_normal((6, 10)) * 5
    x[0, 3], x[1, :] = 1e4, -1e4
    if name != "sparsemax":  # Keras' sparsemax has no defined answer for non-finite rows
        x[2, 4], x[3, 2], x[4, :] = np.nan, np.inf, -np.inf
    x = x.astype(dtype)
    ours = getattr(act, name)(x, axis=axis)
    theirs = to_numpy(getattr(keras.activations, name)(x, axis=axis))
    assert_close_to_keras(name, x if name != "glu" else np.zeros_like(ours), ours, theirs)


def test_softmax_over_a_tuple_of_axes_and_empty_input():
    x = np.random.default_rng(2).standard_normal((3, 4, 5))
    y = act.softmax(x, axis=(1, 2))
    np.testing.assert_allclose(y.sum(axis=(1, 2)), 1.0, rtol=1e-14)
    assert act.softmax(np.empty((0, 3), np.float32)).shape == (0, 3)
    assert act.log_softmax(np.empty((0, 3))).dtype == np.float64


@pytest.mark.parametrize("name", sorted(act.BY_NAME))
def test_names_dtypes_and_nan_propagation(name):
    function = act.get(name)
    assert function.__name__ == {"swish": "silu", "hard_swish": "hard_silu"}.get(name, name)
    extra = {"threshold": dict(threshold=0.0, default_value=0.0)}.get(name, {})
    for dtype in (np.float16, np.float32, np.float64):
        x = np.array([[-2.0, -0.5, 0.0, 0.5, 1.5, 3.0]], dtype)
        assert function(x, **extra).dtype == dtype
    assert function([[1.0, -1.0]], **extra).dtype == np.float32  # Python numbers: Keras' float32
    assert function(np.array([[1, -2]]), **extra).dtype == np.float32
    if name not in ("sparsemax", "glu"):  # NaN spreads over the axis there
        y = function(np.array([[np.nan, 1.0, -1.0, 0.25]]), **extra)
        assert np.isnan(y[0, 0])


def test_linear_returns_the_very_array():
    x = np.ones(3)
    assert act.linear(x) is x and act.get(None) is act.linear


def test_gelu_without_scipy_gives_the_same_values(monkeypatch):
    import sys
    x = np.linspace(-6, 6, 101)
    with_scipy = act.gelu(x)
    monkeypatch.setitem(sys.modules, "scipy.special", None)  # makes the import fail
    # erf's last bit may differ; 1 + erf(x) cancels for negative x, so the bound scales with |x|
    assert np.all(np.abs(act.gelu(x) - with_scipy) <= 4 * np.finfo(np.float64).eps * np.abs(x))


# --------------------------------------------------------------------------------------------------
# get, serialize, deserialize
# --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(act.BY_NAME))
def test_round_trip_by_name(name):
    function = act.get(name)
    assert act.deserialize(act.serialize(function)) is function
    assert act.get(act.serialize(function)) is function
    assert act.get(function) is function
    assert act.get({"module": "keras.activations", "class_name": "function", "config": name,
                    "registered_name": None}) is function


def test_keras_names_and_aliases():
    assert act.get("swish") is act.silu and act.swish is act.silu and act.serialize(act.swish) == "silu"
    assert act.get("hard_swish") is act.hard_silu


def test_custom_callables_pass_through_but_do_not_serialize():
    def custom(x):
        return x

    assert act.get(custom) is custom
    with pytest.raises(TypeError, match="activation must be one of nnfast.activations' functions"):
        act.serialize(custom)


def test_bad_names_list_the_valid_ones():
    with pytest.raises(ValueError, match=r"activation must be None or one of 'celu', .*'relu', .*'tanh_shrink', "
                                         r"'threshold', got 'ReLU'"):
        act.get("ReLU")  # case-sensitive, as Keras
    with pytest.raises(ValueError, match="activation must be one of|got 'swishy'"):
        act.deserialize("swishy")
    with pytest.raises(TypeError, match="activation must be a name, None or a callable, got 42"):
        act.get(42)
    with pytest.raises(TypeError, match="config must be an activation name"):
        act.deserialize(None)
    with pytest.raises(ValueError, match="serialized function"):
        act.get({"class_name": "Dense", "config": {}})
    with pytest.raises(TypeError, match="x must be an array of real numbers"):
        act.relu(np.array(["a"]))
    with pytest.raises(ValueError, match="even size"):
        act.glu(np.ones((2, 3)))


# --------------------------------------------------------------------------------------------------
# kernel_activation
# --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("identifier,kernel", [
    (None, "linear"), ("linear", "linear"), ("relu", "relu"), ("leaky_relu", "leaky_relu"),
    ("sigmoid", "sigmoid"), ("tanh", "tanh"), ("softmax", "softmax"), (act.relu, "relu"),
    (functools.partial(act.relu, negative_slope=0.2), "leaky_relu"),
    (functools.partial(act.relu, negative_slope=0.0, max_value=None, threshold=0.0), "relu"),
    (functools.partial(act.leaky_relu, negative_slope=0.2), "leaky_relu"),
    (functools.partial(act.softmax, axis=-1), "softmax"),
    (functools.partial(act.relu, max_value=6.0), None), (functools.partial(act.relu, threshold=0.5), None),
    (functools.partial(act.relu, negative_slope=0.1), None),
    (functools.partial(act.leaky_relu, negative_slope=0.3), None),
    (functools.partial(act.softmax, axis=0), None), (functools.partial(act.relu, np.ones(2)), None),
    ("elu", None), ("gelu", None), ("relu6", None), ("swish", None), ("exponential", None), (np.tanh, None),
])
def test_kernel_activation(identifier, kernel):
    assert act.kernel_activation(identifier) == kernel


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name", reference.ACTIVATIONS)
def test_a_kernel_activation_computes_what_the_function_computes(name, dtype):
    assert act.kernel_activation(name) == name
    x = inputs(dtype)[:-3].reshape(-1, 5)  # finite values, rows for softmax
    with nnfast.flush_denormal(False):  # the functions are plain NumPy: IEEE, subnormals kept
        want = reference.activation_forward(x, name)
    np.testing.assert_allclose(act.get(name)(x), want, rtol=2 * np.finfo(dtype).eps, atol=0)


def test_kernel_activation_rejects_what_get_rejects():
    with pytest.raises(ValueError, match="activation must be"):
        act.kernel_activation("Relu")
    with pytest.raises(TypeError):
        act.kernel_activation(functools.partial(act.relu, slope=0.2))
