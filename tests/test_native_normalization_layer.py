"""Keras's Normalization layer on native kernels: normalization_forward / normalization_backward
against nnfast.reference bit for bit (the same operations in the same order: a square root, a max,
one subtraction and one division per element), 1 and 2 threads alike, with invert; bad input
refused before anything is written; the layer against Keras's Normalization on adapted data; and a
model Normalization -> Dense ... trained through native runs with the Python loop's bits.
tests/test_isa_levels.py re-runs this file under every ISA level."""
import numpy as np
import pytest

import nnfast as nf
from nnfast import reference as ref
from nnfast.layers import Dense, Dropout, InputLayer, Normalization
from nnfast.models import Sequential

from conftest import DTYPES, assert_same_bits, on_both_thread_counts, to_numpy

pytestmark = pytest.mark.filterwarnings("error")

SHAPES = [(0, 5), (1, 1), (7, 3), (9, 17), (65, 10), (1000, 17), (100003, 3)]


def problem(shape, dtype, seed=0):
    """x (rows, cols), mean and variance (cols): variances around 1, a zero (the 1e-7 floor) and a
    tiny one (below the floor's square)."""
    rng = np.random.default_rng(seed + shape[1])
    x = (3.0 * rng.standard_normal(shape) + 1.0).astype(dtype)
    mean = rng.standard_normal(shape[1]).astype(dtype)
    variance = rng.uniform(0.1, 4.0, shape[1]).astype(dtype)
    variance[::5] = 0.0
    variance[3::7] = 1e-16
    return x, mean, variance


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("invert", [False, True])
def test_forward_and_backward_are_the_references_bits(shape, dtype, invert):
    x, mean, variance = problem(shape, dtype)
    before = [a.copy() for a in (x, mean, variance)]
    (y,) = on_both_thread_counts(lambda: (nf.ops.normalization_forward(x, mean, variance, invert),))
    assert_same_bits(y, ref.normalization_forward(x, mean, variance, invert))
    dy = problem(shape, dtype, seed=1)[0]
    (dx,) = on_both_thread_counts(lambda: (nf.ops.normalization_backward(dy, variance, invert),))
    assert_same_bits(dx, ref.normalization_backward(dy, variance, invert))
    for a, b in zip((x, mean, variance), before):
        assert_same_bits(a, b)
    out = np.empty_like(dy)  # into a given buffer, and in place over dy
    assert nf.ops.normalization_backward(dy, variance, invert, out=out) is out
    assert_same_bits(out, dx)
    nf.ops.normalization_backward(dy, variance, invert, out=dy)
    assert_same_bits(dy, dx)


def test_the_formula_is_keras_s():
    x = np.array([[1.0, 2.0, 3.0], [4.0, -5.0, 6.0]])
    mean, variance = np.array([1.0, -1.0, 0.5]), np.array([4.0, 0.0, 0.25])
    y = nf.ops.normalization_forward(x, mean, variance)
    np.testing.assert_array_equal(y, [[0.0, 3e7, 5.0], [1.5, -4e7, 11.0]])  # sqrt(0) is floored at 1e-7
    np.testing.assert_array_equal(nf.ops.normalization_forward(y, mean, variance, invert=True), x)


F32 = np.float32


@pytest.mark.parametrize("args, exc, words", [
    ((np.ones(3, F32), np.ones(3, F32), np.ones(3, F32)), ValueError, "x must be 2-D"),
    ((np.ones((2, 3), F32), np.ones(2, F32), np.ones(3, F32)), ValueError, "mean must have shape"),
    ((np.ones((2, 3), F32), np.ones(3, F32), np.ones(4, F32)), ValueError, "variance must have shape"),
    ((np.ones((2, 3), F32), np.ones(3), np.ones(3, F32)), TypeError, "mean"),
    ((np.ones((2, 3), np.int32), np.ones(3, F32), np.ones(3, F32)), TypeError, "x"),
    ((np.ones((2, 6), F32)[:, ::2], np.ones(3, F32), np.ones(3, F32)), ValueError, "x must be C-contiguous"),
], ids=["x-1d", "mean-shape", "variance-shape", "mean-dtype", "x-int", "x-strided"])
def test_forward_refuses_bad_input_before_writing(args, exc, words):
    out = np.zeros((2, 3), F32)
    with pytest.raises(exc, match=words):
        nf.ops.normalization_forward(*args, out=out)
    assert not out.any()


def test_backward_refuses_bad_input_before_writing():
    dy, out = np.ones((2, 3), F32), np.zeros((2, 3), F32)
    for variance, exc in ((np.ones(4, F32), ValueError), (np.ones(3), TypeError), (np.ones((1, 3), F32), ValueError)):
        with pytest.raises(exc, match="variance"):
            nf.ops.normalization_backward(dy, variance, out=out)
    with pytest.raises(ValueError, match="out"):
        nf.ops.normalization_backward(dy, np.ones(3, F32), out=np.zeros((3, 2), F32))
    assert not out.any()


def test_the_backends_differ_and_agree():
    """A model on the reference backend runs the NumPy twin, and gives the native model's bits."""
    x = problem((40, 6), np.float32)[0]
    outputs = []
    for backend in ("native", "reference"):
        norm = Normalization()
        norm.adapt(x)
        m = Sequential([InputLayer(shape=(6,)), norm], backend=backend)
        outputs.append(m.predict(x, verbose=0))
    assert_same_bits(outputs[0], outputs[1])


@pytest.mark.parametrize("invert", [False, True])
def test_the_layer_equals_keras_on_adapted_data(keras, invert):
    rng = np.random.default_rng(4)
    data = (rng.standard_normal((200, 7)) * rng.uniform(0.5, 5.0, 7) + rng.uniform(-3, 3, 7)).astype(np.float32)
    data[:, 2] = 1.5  # a constant feature: variance 0
    x = rng.standard_normal((30, 7)).astype(np.float32)
    theirs = keras.layers.Normalization(invert=invert)
    theirs.adapt(data)
    ours = Normalization(invert=invert)
    ours.adapt(data)
    m = Sequential([InputLayer(shape=(7,)), ours])
    for got, want in zip(ours.get_weights()[:2], (theirs.mean, theirs.variance)):  # mean, variance
        np.testing.assert_allclose(got, to_numpy(want).reshape(-1), rtol=2e-6, atol=1e-6)
    np.testing.assert_allclose(m.predict(x, verbose=0), to_numpy(theirs(x)), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("where", ["first", "after_dense"])
def test_a_model_with_normalization_trains_natively_with_the_python_loops_bits(where, dtype, native_calls):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((70, 6)) * 4.0 + 2.0
    y = (x[:, :1] + rng.standard_normal((70, 1)) > 2.0).astype(float)
    results = []
    for fast in (True, False):
        norm = Normalization()
        norm.adapt(x if where == "first" else np.abs(x))
        hidden = [norm, Dense(8, activation="relu")] if where == "first" else \
            [Dense(6, activation="tanh"), norm, Dense(8, activation="relu")]
        m = Sequential([InputLayer(shape=(6,)), *hidden, Dropout(0.2), Dense(1, activation="sigmoid")], seed=2,
                       dtype=dtype)
        m.compile(optimizer=nf.optimizers.Adam(0.01), loss="binary_crossentropy")
        m.fast_step = fast
        results.append((m, m.fit(x, y, batch_size=8, epochs=3, verbose=0).history["loss"]))
        if fast:
            assert m.native_planner is not None and sum(native_calls) == 3 * 9 - 1  # the partial batches too
    (native, h_native), (python, h_python) = results
    assert python.native_planner is None and h_native == h_python
    for a, b in zip(native.get_weights(), python.get_weights()):
        np.testing.assert_array_equal(a, b)
