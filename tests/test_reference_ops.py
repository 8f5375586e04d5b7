"""Tests of the NumPy reference ops (nnfast.reference): activations, dense layer and losses.

Gradients are checked against central finite differences in float64; a few values are worked out by
hand (including the seed notes' single neuron); extreme logits, dtypes, empty inputs and argument
errors are covered too. Every warning is an error here.
"""

import math
import zlib

import numpy as np
import pytest

from nnfast import reference as R

pytestmark = pytest.mark.filterwarnings("error")

SHAPES = [(1, 1), (1, 7), (3, 5), (9, 17)]
H = 1e-6
TOL = dict(rtol=1e-6, atol=1e-6)


def numeric_grad(f, x):
    """Central finite differences of the scalar function f at x (float64), one element at a time."""
    x = x.copy()
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + H
        fp = f(x)
        x[i] = old - H
        fm = f(x)
        x[i] = old
        grad[i] = (fp - fm) / (2 * H)
    return grad


def away_from_zero(rng, shape, margin=0.05):
    """Normal samples with |z| >= margin, so relu / leaky_relu kinks stay out of the h-neighbourhood."""
    z = rng.standard_normal(shape)
    return np.where(np.abs(z) < margin, np.copysign(margin, z) + z, z)


def rng_for(*key):
    """A generator seeded from the test's parameters (stable across runs, unlike hash())."""
    return np.random.default_rng(zlib.crc32(repr(key).encode()))


# --------------------------------------------------------------------------------------------------
# finite differences
# --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("activation", R.ACTIVATIONS)
def test_activation_backward_matches_finite_differences(activation, shape):
    rng = rng_for("act", activation, shape)
    z = away_from_zero(rng, shape)
    r = rng.standard_normal(shape)
    y = R.activation_forward(z, activation)
    dz = R.activation_backward(y, r, activation)
    expected = numeric_grad(lambda zz: np.sum(R.activation_forward(zz, activation) * r), z)
    np.testing.assert_allclose(dz, expected, **TOL)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("activation", R.ACTIVATIONS)
def test_dense_backward_matches_finite_differences(activation, shape):
    m, n = shape
    k = 4
    rng = rng_for("dense", activation, shape)
    while True:  # keep every pre-activation away from the relu kink at 0
        x = rng.standard_normal((m, k))
        w = rng.standard_normal((k, n)) * 0.5
        b = rng.standard_normal(n) * 0.5
        if np.abs(x @ w + b).min() > 1e-3:
            break
    r = rng.standard_normal((m, n))

    def loss(x_, w_, b_):
        return np.sum(R.dense_forward(x_, w_, b_, activation) * r)

    y = R.dense_forward(x, w, b, activation)
    dx, dw, db = R.dense_backward(x, w, y, r, activation)
    np.testing.assert_allclose(dx, numeric_grad(lambda v: loss(v, w, b), x), **TOL)
    np.testing.assert_allclose(dw, numeric_grad(lambda v: loss(x, v, b), w), **TOL)
    np.testing.assert_allclose(db, numeric_grad(lambda v: loss(x, w, v), b), **TOL)


@pytest.mark.parametrize("shape", SHAPES)
def test_mse_gradient(shape):
    rng = rng_for("mse", shape)
    p, t = rng.standard_normal(shape), rng.standard_normal(shape)
    loss, grad = R.mse(p, t)
    assert loss == pytest.approx(np.mean((p - t) ** 2), rel=1e-12)
    np.testing.assert_allclose(grad, numeric_grad(lambda v: R.mse(v, t)[0], p), **TOL)


@pytest.mark.parametrize("shape", SHAPES)
def test_mae_gradient(shape):
    rng = rng_for("mae", shape)
    t = rng.standard_normal(shape)
    p = t + away_from_zero(rng, shape, margin=0.1)
    loss, grad = R.mae(p, t)
    assert loss == pytest.approx(np.mean(np.abs(p - t)), rel=1e-12)
    np.testing.assert_allclose(grad, numeric_grad(lambda v: R.mae(v, t)[0], p), **TOL)


@pytest.mark.parametrize("shape", SHAPES)
def test_binary_cross_entropy_gradient(shape):
    rng = rng_for("bce", shape)
    p = rng.uniform(0.05, 0.95, shape)
    t = rng.uniform(0.0, 1.0, shape)
    t[..., 0] = 1.0  # hard labels too
    loss, grad = R.binary_cross_entropy(p, t)
    assert loss == pytest.approx(-np.mean(t * np.log(p) + (1 - t) * np.log(1 - p)), rel=1e-12)
    np.testing.assert_allclose(grad, numeric_grad(lambda v: R.binary_cross_entropy(v, t)[0], p), **TOL)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("kind", ["indices", "probabilities"])
def test_softmax_cross_entropy_gradient(kind, shape):
    rng = rng_for("sce", kind, shape)
    bsz, ncls = shape
    z = rng.standard_normal(shape) * 2
    if kind == "indices":
        labels = rng.integers(0, ncls, bsz)
    else:
        labels = rng.uniform(0.0, 1.0, shape)
        labels /= labels.sum(axis=1, keepdims=True)
    loss, grad = R.softmax_cross_entropy(z, labels)
    np.testing.assert_allclose(grad, numeric_grad(lambda v: R.softmax_cross_entropy(v, labels)[0], z), **TOL)
    onehot = np.eye(ncls)[labels] if kind == "indices" else labels
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    assert loss == pytest.approx(-np.sum(onehot * logp) / bsz, rel=1e-12)


def test_softmax_cross_entropy_unnormalised_rows_gradient():
    rng = rng_for("sce-unnormalised")
    z = rng.standard_normal((4, 3))
    labels = rng.uniform(0.0, 2.0, (4, 3))
    _, grad = R.softmax_cross_entropy(z, labels)
    np.testing.assert_allclose(grad, numeric_grad(lambda v: R.softmax_cross_entropy(v, labels)[0], z), **TOL)


def test_integer_labels_equal_one_hot_rows():
    rng = rng_for("onehot")
    z = rng.standard_normal((6, 4))
    labels = np.array([0, 3, 1, 1, 2, 0], dtype=np.int32)
    a = R.softmax_cross_entropy(z, labels)
    b = R.softmax_cross_entropy(z, np.eye(4)[labels])
    assert a[0] == pytest.approx(b[0], rel=1e-14)
    np.testing.assert_allclose(a[1], b[1], rtol=1e-14, atol=1e-17)
    sm = R.activation_forward(z, "softmax")
    np.testing.assert_allclose(a[1], (sm - np.eye(4)[labels]) / 6, rtol=1e-14, atol=1e-17)


# --------------------------------------------------------------------------------------------------
# hand-worked values
# --------------------------------------------------------------------------------------------------

def test_hand_worked_activations():
    assert R.activation_forward(np.array([0.0]), "sigmoid")[0] == 0.5
    np.testing.assert_allclose(R.activation_forward(np.array([[0.0, math.log(2)]]), "softmax"),
                               [[1 / 3, 2 / 3]], rtol=1e-15)
    z = np.array([-2.0, -0.5, 0.0, 1.5])
    np.testing.assert_array_equal(R.activation_forward(z, "relu"), [0.0, 0.0, 0.0, 1.5])
    np.testing.assert_array_equal(R.activation_forward(z, "leaky_relu"), [-0.4, -0.1, 0.0, 1.5])
    np.testing.assert_array_equal(R.activation_forward(z, None), z)
    np.testing.assert_array_equal(R.activation_forward(z, "linear"), z)
    np.testing.assert_allclose(R.activation_forward(z, "tanh"), np.tanh(z))
    assert R.LEAKY_RELU_SLOPE == 0.2
    dy = np.array([1.0, 1.0, 1.0, 1.0])
    y = R.activation_forward(z, "leaky_relu")
    np.testing.assert_array_equal(R.activation_backward(y, dy, "leaky_relu"), [0.2, 0.2, 0.2, 1.0])
    np.testing.assert_array_equal(R.activation_backward(np.array([0.5]), np.array([1.0]), "sigmoid"), [0.25])


def test_activation_forward_returns_new_array():
    z = np.array([1.0, 2.0])
    for act in R.ACTIVATIONS:
        y = R.activation_forward(z, act)
        assert not np.shares_memory(y, z)
        dz = R.activation_backward(y, z, act)
        assert not np.shares_memory(dz, z)


def test_hand_worked_losses():
    loss, grad = R.mse(np.array([1.0, 2.0]), np.array([0.0, 0.0]))
    assert loss == 2.5
    np.testing.assert_array_equal(grad, [1.0, 2.0])
    loss, grad = R.mae(np.array([[1.0, -2.0], [3.0, 3.0]]), np.array([[0.0, 0.0], [0.0, 3.0]]))
    assert loss == 1.5
    np.testing.assert_array_equal(grad, [[0.25, -0.25], [0.25, 0.0]])  # sign(0) = 0
    loss, grad = R.binary_cross_entropy(np.array([0.5, 0.5]), np.array([1.0, 0.0]))
    assert loss == pytest.approx(math.log(2), rel=1e-15)
    np.testing.assert_allclose(grad, [-1.0, 1.0], rtol=1e-15)
    # one-hot cross-entropy: softmax([0, log 3]) = [1/4, 3/4]
    loss, grad = R.softmax_cross_entropy(np.array([[0.0, math.log(3)]]), np.array([1]))
    assert loss == pytest.approx(-math.log(0.75), rel=1e-14)
    np.testing.assert_allclose(grad, [[0.25, -0.25]], rtol=1e-14)
    loss, _ = R.softmax_cross_entropy(np.zeros((2, 4)), np.array([0, 3]))
    assert loss == pytest.approx(math.log(4), rel=1e-15)


def test_binary_cross_entropy_clips_like_keras():
    p = np.array([0.0, 1.0, 0.3])
    t = np.array([1.0, 0.0, 1.0])
    loss, grad = R.binary_cross_entropy(p, t)
    assert R.BCE_EPSILON == 1e-7
    expected = -(math.log(1e-7) + math.log(1e-7) + math.log(0.3)) / 3
    assert loss == pytest.approx(expected, rel=1e-9)
    assert grad[0] == 0.0 and grad[1] == 0.0  # clipped: no gradient
    assert grad[2] == pytest.approx(-1 / 0.3 / 3, rel=1e-14)


def test_seed_note_single_neuron():
    # y = w*x + b = 3*2 + 1 = 7; t = 10; E = (y - t)^2 / 2 -> dE/dy = y - t = -3
    x, w, b = np.array([[2.0]]), np.array([[3.0]]), np.array([1.0])
    y = R.dense_forward(x, w, b)
    assert y[0, 0] == 7.0
    dy = y - np.array([[10.0]])
    assert dy[0, 0] == -3.0
    dx, dw, db = R.dense_backward(x, w, y, dy)
    assert (dx[0, 0], dw[0, 0], db[0]) == (-9.0, -6.0, -3.0)
    dx, dw, db = R.dense_backward(x, w, y, dy, need_dx=False, need_db=False)
    assert dx is None and db is None and dw[0, 0] == -6.0


def test_dense_forward_matches_numpy():
    rng = rng_for("dense-np")
    x, w, b = rng.standard_normal((5, 3)), rng.standard_normal((3, 4)), rng.standard_normal(4)
    np.testing.assert_allclose(R.dense_forward(x, w, b, "tanh"), np.tanh(x @ w + b), rtol=1e-14)
    np.testing.assert_allclose(R.dense_forward(x, w), x @ w, rtol=1e-14)
    sm = R.dense_forward(x, w, b, "softmax")
    np.testing.assert_allclose(sm.sum(axis=1), 1.0, rtol=1e-14)


# --------------------------------------------------------------------------------------------------
# stability
# --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_cross_entropy_extreme_logits(dtype):
    z = np.array([[1e4, -1e4, 0.0], [1e4, -1e4, 0.0], [-1e4, -1e4, -1e4]], dtype=dtype)
    loss_right, grad_right = R.softmax_cross_entropy(z[:1], np.array([0]))
    assert loss_right == pytest.approx(0.0, abs=1e-6)
    loss_wrong, grad_wrong = R.softmax_cross_entropy(z[1:2], np.array([1]))
    assert loss_wrong == pytest.approx(2e4, rel=1e-6)
    loss, grad = R.softmax_cross_entropy(z, np.array([0, 1, 2]))
    assert math.isfinite(loss) and np.isfinite(grad).all()
    assert loss == pytest.approx((0.0 + 2e4 + math.log(3)) / 3, rel=1e-6)
    assert grad.dtype == dtype
    np.testing.assert_allclose(grad_right, [[0.0, 0.0, 0.0]], atol=1e-7)
    np.testing.assert_allclose(grad_wrong, [[1.0, -1.0, 0.0]], atol=1e-7)
    probs = np.array([[0.5, 0.5, 0.0]], dtype=dtype)
    loss, grad = R.softmax_cross_entropy(z[:1], probs)
    assert loss == pytest.approx(1e4, rel=1e-6) and np.isfinite(grad).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_and_softmax_extreme_inputs(dtype):
    z = np.array([-1e4, -100.0, 0.0, 100.0, 1e4], dtype=dtype)
    y = R.activation_forward(z, "sigmoid")
    assert y.dtype == dtype
    assert y[0] == 0.0 and y[2] == 0.5 and y[-1] == 1.0 and np.isfinite(y).all()
    sm = R.activation_forward(z[None, :], "softmax")
    np.testing.assert_array_equal(sm, [[0, 0, 0, 0, 1]])
    assert np.isfinite(R.activation_forward(z, "tanh")).all()


# --------------------------------------------------------------------------------------------------
# dtypes, sizes, errors
# --------------------------------------------------------------------------------------------------

def test_float32_in_float32_out():
    rng = rng_for("f32")
    f = np.float32
    x, w, b = (rng.standard_normal(s).astype(f) for s in [(3, 4), (4, 5), (5,)])
    for act in R.ACTIVATIONS:
        y = R.dense_forward(x, w, b, act)
        assert y.dtype == f
        assert R.activation_forward(x, act).dtype == f
        assert R.activation_backward(y, y, act).dtype == f
        assert all(a.dtype == f for a in R.dense_backward(x, w, y, y, act))
    p = rng.uniform(0.1, 0.9, (3, 5)).astype(f)
    for fn in (R.mse, R.mae, R.binary_cross_entropy, R.softmax_cross_entropy):
        loss, grad = fn(p, p[::-1].copy())
        assert type(loss) is float and grad.dtype == f
    loss, grad = R.softmax_cross_entropy(p, np.array([0, 4, 2], dtype=np.uint8))
    assert type(loss) is float and grad.dtype == f
    # the float32 result is the float32 computation, close to float64
    y64 = R.dense_forward(x.astype(np.float64), w.astype(np.float64), b.astype(np.float64), "sigmoid")
    np.testing.assert_allclose(R.dense_forward(x, w, b, "sigmoid"), y64, rtol=1e-5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_empty_inputs(dtype):
    for shape in [(0, 5), (4, 0), (0, 0)]:
        z = np.zeros(shape, dtype)
        for act in R.ACTIVATIONS:
            y = R.activation_forward(z, act)
            assert y.shape == shape and y.dtype == dtype
            assert R.activation_backward(y, z, act).shape == shape
        for fn in (R.mse, R.mae, R.binary_cross_entropy):
            loss, grad = fn(z, z)
            assert loss == 0.0 and grad.shape == shape and grad.dtype == dtype
    x, w, b = np.zeros((0, 3), dtype), np.ones((3, 2), dtype), np.ones(2, dtype)
    for act in R.ACTIVATIONS:
        y = R.dense_forward(x, w, b, act)
        assert y.shape == (0, 2)
        dx, dw, db = R.dense_backward(x, w, y, y, act)
        assert dx.shape == (0, 3) and dw.shape == (3, 2) and db.shape == (2,)
        assert not dw.any() and not db.any()
    # K = 0: y = act(b)
    y = R.dense_forward(np.zeros((2, 0), dtype), np.zeros((0, 3), dtype), np.ones(3, dtype), "relu")
    np.testing.assert_array_equal(y, np.ones((2, 3)))
    loss, grad = R.softmax_cross_entropy(np.zeros((0, 3), dtype), np.zeros(0, np.int64))
    assert loss == 0.0 and grad.shape == (0, 3) and grad.dtype == dtype
    loss, grad = R.softmax_cross_entropy(np.zeros((0, 3), dtype), np.zeros((0, 3), dtype))
    assert loss == 0.0 and grad.shape == (0, 3)


def test_unknown_activation():
    z = np.zeros((2, 2))
    for call in (lambda: R.activation_forward(z, "gelu"), lambda: R.activation_backward(z, z, "Relu"),
                 lambda: R.dense_forward(z, z, None, "swish"), lambda: R.dense_backward(z, z, z, z, 3)):
        with pytest.raises(ValueError, match="activation") as info:
            call()
        assert "leaky_relu" in str(info.value)  # lists the valid names


def test_labels_out_of_range():
    z = np.zeros((3, 4))
    for labels in ([0, 4, 1], [-1, 0, 0]):
        with pytest.raises(ValueError, match="labels"):
            R.softmax_cross_entropy(z, np.array(labels))
    with pytest.raises(ValueError, match="labels"):
        R.softmax_cross_entropy(z, np.array([0, 1]))  # wrong batch
    with pytest.raises(ValueError, match="labels"):
        R.softmax_cross_entropy(z, np.zeros((3, 5)))  # wrong classes


def test_mixed_dtypes():
    a32, a64 = np.zeros((2, 2), np.float32), np.zeros((2, 2), np.float64)
    calls = [
        lambda: R.dense_forward(a32, a64),
        lambda: R.dense_forward(a32, a32, np.zeros(2, np.float64)),
        lambda: R.dense_backward(a32, a32, a32, a64),
        lambda: R.activation_backward(a32, a64, "relu"),
        lambda: R.mse(a32, a64),
        lambda: R.mae(a64, a32),
        lambda: R.binary_cross_entropy(a32, a64),
        lambda: R.softmax_cross_entropy(a32, a64),
    ]
    for call in calls:
        with pytest.raises(TypeError):
            call()
    with pytest.raises(TypeError):
        R.mse(np.zeros(2, np.int64), np.zeros(2, np.int64))
    with pytest.raises(TypeError):
        R.activation_forward(np.zeros(2, np.float16), "relu")


def test_shape_mismatches():
    with pytest.raises(ValueError):
        R.dense_forward(np.zeros((2, 3)), np.zeros((4, 5)))
    with pytest.raises(ValueError):
        R.dense_forward(np.zeros((2, 3)), np.zeros((3, 5)), np.zeros(4))
    with pytest.raises(ValueError):
        R.dense_backward(np.zeros((2, 3)), np.zeros((3, 5)), np.zeros((2, 4)), np.zeros((2, 4)))
    with pytest.raises(ValueError):
        R.activation_backward(np.zeros(3), np.zeros(4), "tanh")
    with pytest.raises(ValueError):
        R.mse(np.zeros((2, 3)), np.zeros((3, 2)))
    with pytest.raises(ValueError):
        R.activation_forward(np.float64(1.0), "softmax")
    with pytest.raises(ValueError):
        R.softmax_cross_entropy(np.zeros(3), np.array([0, 1, 2]))
