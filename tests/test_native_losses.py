"""Native loss kernels (softmax cross-entropy, MSE, MAE, binary cross-entropy) against
nnfast.reference, with 1 and 2 threads.

The loss is a mean of non-negative terms, so it is compared relatively (1e-6 float32, 1e-13 float64:
the summation order may differ from NumPy's). Gradients are compared elementwise within a few ulps
of the magnitude of the terms that form them (``|t/p| + |(1-t)/(1-p)|`` for BCE, ``softmax*rowsum +
|labels|`` for cross-entropy), which also covers the cancellation where a gradient is near zero.
Determinism is exact: the loss and the gradient have the same bits with 1 and 2 threads.
tests/test_isa_levels.py re-runs this file under every ISA level the machine supports.
"""
import math

import numpy as np
import pytest

import nnfast as nf
from nnfast import reference as ref

from conftest import DTYPES, assert_same_bits, assert_within, num_threads

pytestmark = pytest.mark.filterwarnings("error")

# (B, C); the last one is large enough to be split over threads, as is (128, 10) for the row losses
# that call exp or log (the MLP's batch of 128)
SHAPES = [(0, 5), (1, 1), (7, 3), (33, 10), (128, 10), (1000, 17), (65, 1), (3000, 50)]
ELEMENTWISE_SHAPES = SHAPES + [(257,), (4, 5, 6)]
LOSS_RTOL = {np.float32: 1e-6, np.float64: 1e-13}
GRAD_ULPS = 8


def eps(dtype):
    return float(np.finfo(dtype).eps)


def both_thread_counts(fn):
    """fn() -> (loss, grad) with 1 and with 2 threads: the loss is a Python float and both results
    have identical bits. Returns the 1-thread result."""
    with num_threads(1):
        loss1, grad1 = fn()
    with num_threads(2):
        loss2, grad2 = fn()
    assert type(loss1) is float and type(loss2) is float
    assert np.float64(loss1).tobytes() == np.float64(loss2).tobytes(), f"loss {loss1!r} vs {loss2!r}"
    assert_same_bits(grad1, grad2)
    return loss1, grad1


def check_loss(name, pred, target, grad_magnitude, what, loss_atol=0.0):
    """Native `name` against the reference: loss relatively, grad within GRAD_ULPS ulps of
    grad_magnitude (elementwise, float64); inputs untouched; 1 vs 2 threads identical."""
    dtype = pred.dtype.type
    before = [pred.copy(), target.copy()]
    loss, grad = both_thread_counts(lambda: getattr(nf.ops, name)(pred, target))
    want_loss, want_grad = getattr(ref, name)(pred, target)
    assert grad.dtype == pred.dtype and grad.shape == pred.shape and grad.flags.c_contiguous, what
    assert math.isclose(loss, want_loss, rel_tol=LOSS_RTOL[dtype], abs_tol=loss_atol), \
        f"{what}: loss {loss!r}, expected {want_loss!r}"
    bound = GRAD_ULPS * eps(dtype) * grad_magnitude + float(np.finfo(dtype).tiny)
    assert_within(grad, want_grad, bound, f"{what} grad")
    np.testing.assert_array_equal(pred, before[0], err_msg=f"{what}: pred was modified")
    np.testing.assert_array_equal(target, before[1], err_msg=f"{what}: target was modified")
    return loss, grad


def n_of(shape):
    return max(math.prod(shape), 1)


def pred_and_target(shape, dtype, seed):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(shape).astype(dtype), rng.standard_normal(shape).astype(dtype)


# --- MSE, MAE ------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", ELEMENTWISE_SHAPES, ids=str)
def test_mse_matches_reference(dtype, shape):
    pred, target = pred_and_target(shape, dtype, seed=1)
    mag = 2.0 * np.abs(pred.astype(np.float64) - target) / n_of(shape)
    loss, _ = check_loss("mse", pred, target, mag, f"mse {shape}")
    if not pred.size:
        assert loss == 0.0


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", ELEMENTWISE_SHAPES, ids=str)
def test_mae_matches_reference(dtype, shape):
    pred, target = pred_and_target(shape, dtype, seed=2)
    target.reshape(-1)[::5] = pred.reshape(-1)[::5]  # sign(0) = 0: exact ties give a zero gradient
    loss, grad = check_loss("mae", pred, target, np.full(shape, 1.0 / n_of(shape)), f"mae {shape}")
    assert (grad.reshape(-1)[::5] == 0).all()
    if not pred.size:
        assert loss == 0.0


# --- binary cross-entropy ------------------------------------------------------------------------

def bce_magnitude(prob, target):
    """|t/pc| + |(1-t)/(1-pc)| over n, the terms of the BCE gradient (0 where p was clipped)."""
    dtype = prob.dtype.type
    lo, hi = dtype(ref.BCE_EPSILON), dtype(1.0 - ref.BCE_EPSILON)
    pc = np.clip(prob, lo, hi).astype(np.float64)
    t = target.astype(np.float64)
    return (np.abs(t / pc) + np.abs((1.0 - t) / (1.0 - pc))) / n_of(prob.shape)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", ELEMENTWISE_SHAPES, ids=str)
@pytest.mark.parametrize("targets", ("binary", "soft"))
def test_binary_cross_entropy_matches_reference(dtype, shape, targets):
    rng = np.random.default_rng(3)
    prob = rng.uniform(0.0, 1.0, shape).astype(dtype)
    flat = prob.reshape(-1)
    flat[::11] = 0.0                        # clipped: zero gradient
    flat[1::11] = 1.0
    flat[2::11] = dtype(1e-9)               # below the clip range
    flat[3::11] = dtype(1.0 - 1e-9) if dtype == np.float64 else dtype(1.0)
    flat[4::11] = dtype(ref.BCE_EPSILON)    # exactly at the bounds: not clipped
    flat[5::11] = dtype(1.0 - ref.BCE_EPSILON)
    if targets == "binary":
        target = (rng.uniform(size=shape) < 0.5).astype(dtype)
    else:
        target = rng.uniform(0.0, 1.0, shape).astype(dtype)
    loss, _ = check_loss("binary_cross_entropy", prob, target, bce_magnitude(prob, target),
                         f"bce {shape} {targets}")
    assert math.isfinite(loss)
    if not prob.size:
        assert loss == 0.0


@pytest.mark.parametrize("dtype", DTYPES)
def test_binary_cross_entropy_at_probabilities_0_and_1(dtype):
    """p = 0 and p = 1 exactly are clipped to [1e-7, 1 - 1e-7] (rounded to the dtype): the loss is
    finite and matches the reference, and the gradient there is exactly 0."""
    prob = np.array([[0.0, 1.0, 0.0, 1.0], [0.0, 0.0, 1.0, 1.0]], dtype)
    target = np.array([[0.0, 1.0, 1.0, 0.0], [0.5, 1.0, 0.0, 0.25]], dtype)
    loss, grad = check_loss("binary_cross_entropy", prob, target, bce_magnitude(prob, target), "bce 0/1")
    assert math.isfinite(loss) and loss > 0
    assert_same_bits(grad, np.zeros_like(prob))
    # all confident and right: the loss is the clip's floor, -log(1 - 1e-7) ~ 1e-7 (float32 rounds
    # 1 - 1e-7 to 1 - 2**-23, so the reference gives 1.19e-7; log1p would give 1.0e-7: both accepted)
    good = np.array([0.0, 1.0, 1.0, 0.0], dtype)
    loss, grad = nf.ops.binary_cross_entropy(good, good.copy())
    want, _ = ref.binary_cross_entropy(good, good.copy())
    assert math.isclose(loss, want, rel_tol=0.25) and 0 < loss < 2e-7
    assert_same_bits(grad, np.zeros_like(good))


# --- softmax cross-entropy -----------------------------------------------------------------------

def softmax64(z):
    z = z.astype(np.float64)
    if not z.size:
        return z
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def ce_magnitude(logits, labels):
    """softmax*|rowsum| + |labels| + |rowsum| (the softmax's absolute rounding), over B."""
    bsz, ncls = logits.shape
    sm = softmax64(logits)
    if np.issubdtype(labels.dtype, np.integer):
        dense = np.zeros((bsz, ncls))
        dense[np.arange(bsz), labels] = 1.0
    else:
        dense = labels.astype(np.float64)
    rowsum = np.abs(dense.sum(axis=1, keepdims=True))
    return (2 * (sm * rowsum + np.abs(dense)) + rowsum) / max(bsz, 1)


def make_labels(rng, kind, bsz, ncls, dtype):
    if kind in ("int32", "int64"):
        return rng.integers(0, max(ncls, 1), bsz).astype(kind)
    if kind == "onehot":
        out = np.zeros((bsz, ncls), dtype)
        if bsz and ncls:
            out[np.arange(bsz), rng.integers(0, ncls, bsz)] = 1.0
        return out
    p = rng.uniform(0.0, 1.0, (bsz, ncls))
    p /= np.maximum(p.sum(axis=1, keepdims=True), 1e-300)
    if kind == "weighted":  # rows that do not sum to 1: dlogits = softmax*rowsum - labels
        p *= rng.uniform(0.5, 1.5, (bsz, 1))
    return p.astype(dtype)


LABEL_KINDS = ("int32", "int64", "onehot", "probabilities", "weighted")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("kind", LABEL_KINDS)
def test_softmax_cross_entropy_matches_reference(dtype, shape, kind):
    rng = np.random.default_rng(4)
    bsz, ncls = shape
    logits = (3.0 * rng.standard_normal(shape)).astype(dtype)
    labels = make_labels(rng, kind, bsz, ncls, dtype)
    loss, grad = check_loss("softmax_cross_entropy", logits, labels, ce_magnitude(logits, labels),
                            f"softmax CE {shape} {kind}", loss_atol=4 * eps(dtype))
    if not bsz:
        assert loss == 0.0 and grad.shape == shape
    elif ncls == 1 and kind != "weighted":
        assert loss == 0.0 or abs(loss) < 4 * eps(dtype)  # one class: log softmax = 0
    if bsz and kind != "weighted":
        # each gradient row sums to 0 (softmax and labels both sum to 1 per row)
        sums = grad.astype(np.float64).sum(axis=1)
        assert np.all(np.abs(sums) <= 4 * eps(dtype) * (ncls + 2) / bsz), sums


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ("int64", "onehot", "probabilities"))
def test_softmax_cross_entropy_extreme_logits_are_finite(dtype, kind):
    rng = np.random.default_rng(5)
    rows = [[1e4, -1e4, 0.0, 5.0], [-1e4, -1e4, -1e4, -1e4], [1e4, 1e4, -1e4, 1e4],
            [-1e4, 1e4, 1e4, -1e4], [0.0, 0.0, 0.0, 1e4]]
    logits = np.array(rows + (1e4 * np.sign(rng.standard_normal((59, 4)))).tolist(), dtype)
    logits[5:] *= rng.uniform(0.0, 1.0, (59, 4)).astype(dtype)
    labels = make_labels(rng, kind, *logits.shape, dtype)
    if kind == "int64":
        labels[:5] = [1, 2, 3, 0, 3]  # a label at -1e4 under a +1e4 maximum: loss 2e4 for that row
    loss, grad = check_loss("softmax_cross_entropy", logits, labels, ce_magnitude(logits, labels),
                            f"extreme {kind}", loss_atol=4 * eps(dtype))
    assert math.isfinite(loss) and loss > 0
    assert np.isfinite(grad).all()


def test_softmax_cross_entropy_label_forms_agree():
    """Integer labels and the matching one-hot rows are the same loss and gradient."""
    rng = np.random.default_rng(6)
    logits = rng.standard_normal((50, 7))
    idx = rng.integers(0, 7, 50)
    onehot = np.eye(7)[idx]
    l1, g1 = nf.ops.softmax_cross_entropy(logits, idx.astype(np.int32))
    l2, g2 = nf.ops.softmax_cross_entropy(logits, idx.astype(np.int64))
    l3, g3 = nf.ops.softmax_cross_entropy(logits, onehot)
    assert l1 == l2 and math.isclose(l1, l3, rel_tol=1e-14)
    assert_same_bits(g1, g2)
    np.testing.assert_allclose(g1, g3, rtol=1e-14, atol=1e-17)


# --- bad input: an exception naming the argument, and nothing written ----------------------------

def names(arg):
    """The house style of an argument error: '<arg> must ...'."""
    return rf"(?<![\w.\[]){arg} must"


def assert_rejected(exc, words, call, arrays):
    before = [np.array(a, copy=True) for a in arrays]
    with pytest.raises(exc, match=words):
        call()
    for a, a0 in zip(arrays, before):
        assert_same_bits(np.ascontiguousarray(a), np.ascontiguousarray(a0))


F32 = np.float32
LOGITS = np.linspace(-2, 2, 12, dtype=F32).reshape(4, 3)


@pytest.mark.parametrize("logits, labels, exc, words", [
    (LOGITS, np.array([0, 1, 3, 2]), ValueError, names("labels")),                  # == C
    (LOGITS, np.array([0, -1, 2, 2], np.int32), ValueError, names("labels")),       # negative
    (LOGITS, np.array([0, 1, 2]), ValueError, names("labels")),                     # length B-1
    (LOGITS, np.array([0, 1, 2, 0, 1]), ValueError, names("labels")),               # length B+1
    (LOGITS, np.array([[0], [1], [2], [0]]), ValueError, names("labels")),          # (B, 1) integers
    (LOGITS, np.zeros((4, 4), F32), ValueError, names("labels")),                   # float rows (B, C+1)
    (LOGITS, np.zeros(4, F32), ValueError, names("labels")),                        # float labels (B,)
    (LOGITS, np.zeros((3, 3), F32), ValueError, names("labels")),                   # float rows (B-1, C)
    (LOGITS, np.zeros((4, 3), np.float64), TypeError, names("labels")),             # dtype mixing
    (LOGITS, [0, 1, 2, 0], TypeError, names("labels")),                            # not an ndarray
    (LOGITS.astype(np.int64), np.array([0, 1, 2, 0]), TypeError, names("logits")),
    (LOGITS.tolist(), np.array([0, 1, 2, 0]), TypeError, names("logits")),
    (LOGITS.reshape(-1), np.array([0, 1, 2, 0]), ValueError, names("logits")),       # 1-D
    (LOGITS.reshape(2, 2, 3), np.array([0, 1]), ValueError, names("logits")),        # 3-D
    (np.zeros((4, 6), F32)[:, ::2], np.array([0, 1, 2, 0]), ValueError, names("logits")),
    (np.zeros((4, 0), F32), np.zeros((4, 0), F32), ValueError, names("logits")),     # B > 0, C == 0
], ids=["label-eq-C", "label-negative", "labels-short", "labels-long", "labels-column", "rows-wide",
        "float-labels-1d", "rows-short", "rows-float64", "labels-list", "logits-int",
        "logits-list", "logits-1d", "logits-3d", "logits-strided", "no-classes"])
def test_softmax_cross_entropy_rejects_bad_input(logits, labels, exc, words):
    arrays = [a for a in (logits, labels) if isinstance(a, np.ndarray)]
    assert_rejected(exc, words, lambda: nf.ops.softmax_cross_entropy(logits, labels), arrays)


def test_strided_integer_labels_are_refused_or_read_correctly():
    """Class indices are not float data: reading a strided int32 view (a copy to int64 inside) is
    as acceptable as refusing it with a ValueError naming labels; a wrong answer is not."""
    strided = np.array([0, 9, 1, 9, 2, 9, 0, 9], np.int32)[::2]
    want = nf.ops.softmax_cross_entropy(LOGITS, np.ascontiguousarray(strided))
    try:
        got = nf.ops.softmax_cross_entropy(LOGITS, strided)
    except ValueError as e:
        assert "labels" in str(e), str(e)
    else:
        assert got[0] == want[0]
        assert_same_bits(got[1], want[1])


PAIR_LOSSES = {"mse": ("pred", "target"), "mae": ("pred", "target"),
               "binary_cross_entropy": ("prob", "target")}
P = np.linspace(0.1, 0.9, 12, dtype=F32).reshape(4, 3)


@pytest.mark.parametrize("name", tuple(PAIR_LOSSES))
@pytest.mark.parametrize("which, value, exc", [
    (1, P.reshape(3, 4).copy(), ValueError),        # same size, other shape
    (1, P[:3].copy(), ValueError),
    (1, P.reshape(-1).copy(), ValueError),
    (1, P.astype(np.float64), TypeError),           # dtype mixing
    (1, P.astype(np.int32), TypeError),
    (1, P.tolist(), TypeError),
    (0, P.astype(np.float16), TypeError),
    (0, P.tolist(), TypeError),
    (0, np.zeros((4, 6), F32)[:, ::2], ValueError),  # strided
    (1, np.zeros((3, 4), F32).T, ValueError),        # Fortran order
], ids=["target-reshaped", "target-short", "target-1d", "target-float64", "target-int", "target-list",
        "first-float16", "first-list", "first-strided", "target-fortran"])
def test_pair_losses_reject_bad_input(name, which, value, exc):
    args = [P.copy(), P.copy()]
    args[which] = value
    arrays = [a for a in args if isinstance(a, np.ndarray)]
    words = names(PAIR_LOSSES[name][which])
    assert_rejected(exc, words, lambda: getattr(nf.ops, name)(*args), arrays)


@pytest.mark.parametrize("name", tuple(PAIR_LOSSES))
def test_the_reference_refuses_the_same_shapes(name):
    fn = getattr(ref, name)
    with pytest.raises(ValueError, match="target"):
        fn(P, P[:3])
    with pytest.raises(TypeError):
        fn(P, P.astype(np.float64))
