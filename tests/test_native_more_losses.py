"""The loss kernels beyond MSE / MAE / BCE / softmax cross-entropy (sigmoid cross-entropy, MAPE, MSLE,
Huber, log-cosh, hinge, squared hinge, Poisson; row-wise KL divergence, categorical hinge, cosine
similarity, categorical cross-entropy of probabilities; label smoothing) against nnfast.reference,
with 1 and 2 threads.

Gradients built from +, -, *, / and sqrt alone are the reference's bits (the kernels do the same
operations in the same order, compiled without FMA contraction, and row sums in NumPy's pairwise
order); where exp, log, log1p or tanh enter a gradient, the C library and NumPy may round them
differently, so it is held within a few ulps of the magnitude of the terms that form it, as
tests/test_native_losses.py does. Loss values are sums in another order: 1e-6 relative in float32,
1e-13 in float64. tests/test_isa_levels.py re-runs this file under every ISA level."""
import math

import numpy as np
import pytest

import nnfast as nf
from nnfast import reference as ref

from conftest import DTYPES, assert_same_bits, assert_within, num_threads

pytestmark = pytest.mark.filterwarnings("error")

POINT_SHAPES = [(0,), (1,), (7,), (9,), (17,), (65,), (1000,), (100003,), (4, 5, 6)]
ROW_SHAPES = [(0, 5), (1, 1), (7, 3), (9, 17), (17, 9), (65, 10), (1000, 17), (100003, 3)]
LOSS_RTOL = {np.float32: 1e-6, np.float64: 1e-13}
GRAD_ULPS = 8
EPS = 1e-7


def normal(rng, shape, dtype, scale=1.0):
    return (scale * rng.standard_normal(shape)).astype(dtype)


def binary(rng, shape, dtype):
    return (rng.uniform(size=shape) < 0.4).astype(dtype)


def positive(rng, shape, dtype):
    return rng.uniform(0.0, 3.0, shape).astype(dtype)


def simplex(rng, shape, dtype):
    p = rng.uniform(0.01, 1.0, shape)
    return (p / p.sum(axis=-1, keepdims=True)).astype(dtype)


def onehot(rng, shape, dtype):
    out = np.zeros(shape, dtype)
    if out.size:
        out[np.arange(shape[0]), rng.integers(0, shape[1], shape[0])] = 1
    return out


def with_edges(x, *values):
    """x with values planted at every 13th element (clip bounds, ties, zeros)."""
    flat = x.reshape(-1)
    for k, v in enumerate(values):
        flat[k::13] = v
    return x


def sigmoid_magnitude(p, t, n):
    return (1.0 + np.abs(t)) / n


def msle_magnitude(p, t, n):
    a = np.log(np.maximum(p, EPS) + 1.0)
    b = np.log(np.maximum(t, EPS) + 1.0)
    return 2 * (np.abs(a) + np.abs(b)) / (np.maximum(p, EPS) + 1.0) / n


def tanh_magnitude(p, t, n):
    return np.abs(np.tanh(p - t)) / n


# name -> (keyword arguments, data (rng, shape, dtype) -> (pred, target), gradient magnitude or None:
# None means the gradient must be the reference's bits)
POINTWISE = {
    "sigmoid_cross_entropy": ({}, lambda r, s, d: (normal(r, s, d, 3.0), binary(r, s, d)), sigmoid_magnitude),
    "sigmoid_cross_entropy-smoothed": ({"label_smoothing": 0.2},
                                       lambda r, s, d: (normal(r, s, d, 3.0), binary(r, s, d)), sigmoid_magnitude),
    "binary_cross_entropy-smoothed": ({"label_smoothing": 0.1}, lambda r, s, d: (
        with_edges(r.uniform(0, 1, s).astype(d), 0.0, 1.0, d(EPS), d(1 - EPS)), binary(r, s, d)), None),
    "mape": ({}, lambda r, s, d: (normal(r, s, d), with_edges(normal(r, s, d), 0.0, d(1e-9))), None),
    "msle": ({}, lambda r, s, d: (with_edges(positive(r, s, d), 0.0, -1.0, d(EPS)), positive(r, s, d)),
             msle_magnitude),
    "huber": ({}, lambda r, s, d: (normal(r, s, d, 2.0), normal(r, s, d)), None),
    "huber-0.3": ({"delta": 0.3}, lambda r, s, d: (normal(r, s, d), normal(r, s, d)), None),
    "log_cosh": ({}, lambda r, s, d: (normal(r, s, d, 3.0), normal(r, s, d)), tanh_magnitude),
    "hinge": ({}, lambda r, s, d: (normal(r, s, d), binary(r, s, d)), None),
    "hinge-signed": ({}, lambda r, s, d: (normal(r, s, d), np.sign(normal(r, s, d))), None),
    "squared_hinge": ({}, lambda r, s, d: (normal(r, s, d), binary(r, s, d)), None),
    "squared_hinge-real": ({}, lambda r, s, d: (normal(r, s, d), normal(r, s, d)), None),
    "poisson": ({}, lambda r, s, d: (positive(r, s, d) + d(0.01), positive(r, s, d)), None),
}

ROWWISE = {
    "kl_divergence": ({}, lambda r, s, d: (with_edges(simplex(r, s, d), 0.0, 1.5), simplex(r, s, d))),
    "categorical_hinge": ({}, lambda r, s, d: (normal(r, s, d), onehot(r, s, d))),
    "cosine_similarity": ({}, lambda r, s, d: (normal(r, s, d), normal(r, s, d))),
    "categorical_cross_entropy": ({}, lambda r, s, d: (with_edges(simplex(r, s, d), 0.0, 1.0), onehot(r, s, d))),
    "categorical_cross_entropy-smoothed": ({"label_smoothing": 0.2},
                                           lambda r, s, d: (positive(r, s, d), simplex(r, s, d))),
    "categorical_cross_entropy-labels": ({}, lambda r, s, d: (
        simplex(r, s, d), r.integers(0, max(s[1], 1), s[0]))),
}


def both_thread_counts(fn):
    with num_threads(1):
        loss1, grad1 = fn()
    with num_threads(2):
        loss2, grad2 = fn()
    assert type(loss1) is float and np.float64(loss1).tobytes() == np.float64(loss2).tobytes()
    assert_same_bits(grad1, grad2)
    return loss1, grad1


def check(case, kwargs, pred, target, magnitude, n):
    name = case.split("-")[0]
    before = (pred.copy(), target.copy())
    loss, grad = both_thread_counts(lambda: getattr(nf.ops, name)(pred, target, **kwargs))
    want_loss, want_grad = getattr(ref, name)(pred, target, **kwargs)
    assert grad.dtype == pred.dtype and grad.shape == pred.shape
    dtype = pred.dtype.type
    assert (math.isnan(loss) and math.isnan(want_loss)) or math.isclose(  # NaN is data: a row summing to 0
        loss, want_loss, rel_tol=LOSS_RTOL[dtype], abs_tol=4 * float(np.finfo(dtype).eps)), \
        f"{case}: loss {loss!r}, expected {want_loss!r}"
    if magnitude is None:
        assert_same_bits(grad, want_grad)
    else:
        p64, t64 = pred.astype(np.float64), target.astype(np.float64)
        bound = GRAD_ULPS * float(np.finfo(dtype).eps) * magnitude(p64, t64, n) + float(np.finfo(dtype).tiny)
        assert_within(grad, want_grad, bound, f"{case} grad")
    np.testing.assert_array_equal(pred, before[0])
    np.testing.assert_array_equal(target, before[1])
    if not pred.size:
        assert loss == 0.0
    return loss, grad


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", POINT_SHAPES, ids=str)
@pytest.mark.parametrize("case", list(POINTWISE))
def test_pointwise_losses_match_the_reference(case, shape, dtype):
    kwargs, make, magnitude = POINTWISE[case]
    pred, target = make(np.random.default_rng(len(case) + len(shape)), shape, dtype)
    check(case, kwargs, pred, target, magnitude, max(pred.size, 1))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", ROW_SHAPES, ids=str)
@pytest.mark.parametrize("case", list(ROWWISE))
def test_row_losses_match_the_reference(case, shape, dtype):
    kwargs, make = ROWWISE[case]
    pred, target = make(np.random.default_rng(len(case) + shape[1]), shape, dtype)
    check(case, kwargs, pred, target, None, max(shape[0], 1))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("labels", ["rows", "indices"])
def test_smoothed_softmax_cross_entropy_matches_the_reference(dtype, labels):
    rng = np.random.default_rng(7)
    logits = normal(rng, (300, 11), dtype, 3.0)
    idx = rng.integers(0, 11, 300)
    target = idx if labels == "indices" else np.eye(11, dtype=dtype)[idx]
    loss, grad = both_thread_counts(lambda: nf.ops.softmax_cross_entropy(logits, target, label_smoothing=0.3))
    want_loss, want_grad = ref.softmax_cross_entropy(logits, target, label_smoothing=0.3)
    assert math.isclose(loss, want_loss, rel_tol=LOSS_RTOL[dtype])
    bound = GRAD_ULPS * float(np.finfo(dtype).eps) * 3.0 / 300  # softmax + smoothed row + its sum
    assert_within(grad, want_grad, bound, "smoothed softmax CE grad")
    plain, _ = nf.ops.softmax_cross_entropy(logits, target)
    assert loss > plain  # smoothing moves the targets off the predicted classes


def test_hinge_turns_all_binary_targets_into_signs_per_call():
    pred = np.array([[0.5, -0.5], [2.0, -2.0]])
    zero_one = np.array([[1.0, 0.0], [1.0, 0.0]])
    loss, grad = nf.ops.hinge(pred, zero_one)
    assert loss == pytest.approx(0.25) and np.array_equal(grad, [[-0.25, 0.25], [0.0, 0.0]])
    mixed = np.array([[1.0, 0.0], [1.0, 0.5]])  # not all 0/1: used as they are
    loss, _ = nf.ops.hinge(pred, mixed)
    assert loss == pytest.approx((0.5 + 1.0 + 0.0 + 2.0) / 4)


@pytest.mark.parametrize("name, kwargs, words", [
    ("huber", {"delta": float("nan")}, "delta must"),
    ("binary_cross_entropy", {"label_smoothing": 1.5}, "label_smoothing must"),
    ("sigmoid_cross_entropy", {"label_smoothing": -0.1}, "label_smoothing must"),
    ("categorical_cross_entropy", {"label_smoothing": 2.0}, "label_smoothing must"),
    ("softmax_cross_entropy", {"label_smoothing": float("nan")}, "label_smoothing must"),
])
def test_bad_parameters_are_refused_before_anything_is_written(name, kwargs, words):
    pred, target = np.full((3, 4), 0.25), np.full((3, 4), 0.25)
    out = np.zeros_like(pred)
    with pytest.raises(ValueError, match=words):
        getattr(nf.ops, name)(pred, target, out=out, **kwargs)
    assert not out.any()


@pytest.mark.parametrize("name", ["kl_divergence", "categorical_hinge", "cosine_similarity",
                                  "categorical_cross_entropy"])
@pytest.mark.parametrize("pred, target, exc, words", [
    (np.ones(4), np.ones(4), ValueError, "must be 2-D"),
    (np.ones((3, 4)), np.ones((3, 5)), ValueError, "must have"),
    (np.ones((3, 4)), np.ones((3, 4), np.float32), TypeError, "dtype"),
    (np.ones((3, 8))[:, ::2], np.ones((3, 4)), ValueError, "contiguous"),
    (np.ones((3, 4)), [[1.0] * 4] * 3, TypeError, "must be a numpy.ndarray"),
], ids=["1d", "shape", "dtype", "strided", "list"])
def test_row_losses_refuse_bad_input(name, pred, target, exc, words):
    with pytest.raises(exc, match=words):
        getattr(nf.ops, name)(pred, target)
    if name != "categorical_cross_entropy":  # only the cross-entropy takes class indices
        with pytest.raises(TypeError, match="target"):
            getattr(nf.ops, name)(np.ones((3, 4)), np.array([0, 1, 2]))
        with pytest.raises((TypeError, ValueError)):
            getattr(ref, name)(np.ones((3, 4)), np.array([0, 1, 2]))
