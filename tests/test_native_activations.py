"""Native activation kernels against nnfast.reference, with 1 and 2 threads.

tests/test_isa_levels.py re-runs this file under every ISA level the machine supports.
"""
import numpy as np
import pytest

import nnfast as nf
from nnfast import reference as ref

from conftest import DTYPES, SIZES, assert_same_bits, num_threads, ulp_tol

ELEMENTWISE = ("linear", "relu", "leaky_relu", "sigmoid", "tanh")
SHAPES = [(n,) for n in SIZES] + [(0, 5), (3, 17), (65, 9), (1, 1000), (1000, 70), (9, 7, 5)]


def data(rng, shape, dtype, scale=3.0):
    return (scale * rng.standard_normal(shape)).astype(dtype)


def both_thread_counts(fn):
    """fn() with 1 and with 2 threads; asserts identical bits and returns the result."""
    with num_threads(1):
        one = fn()
    with num_threads(2):
        two = fn()
    assert_same_bits(one, two)
    return one


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("activation", ELEMENTWISE + ("softmax",))
def test_forward_matches_reference(rng, dtype, shape, activation):
    z = data(rng, shape, dtype)
    y = both_thread_counts(lambda: nf.ops.activation_forward(z, activation))
    expected = ref.activation_forward(z, activation)
    assert y.dtype == dtype and y.shape == z.shape
    # softmax sums a row in a different order than NumPy's pairwise sum
    tol = ulp_tol(dtype, 4 if activation != "softmax" else 64)
    np.testing.assert_allclose(y, expected, **tol)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("activation", ELEMENTWISE + ("softmax",))
def test_backward_matches_reference(rng, dtype, shape, activation):
    y = ref.activation_forward(data(rng, shape, dtype), activation)
    dy = data(rng, shape, dtype, scale=1.0)
    dz = both_thread_counts(lambda: nf.ops.activation_backward(y, dy, activation))
    expected = ref.activation_backward(y, dy, activation)
    assert dz.dtype == dtype and dz.shape == y.shape
    tol = ulp_tol(dtype, 4 if activation != "softmax" else 64)
    np.testing.assert_allclose(dz, expected, rtol=tol["rtol"], atol=tol["rtol"] * np.abs(dy).max(initial=0))


@pytest.mark.parametrize("activation", ELEMENTWISE + ("softmax",))
def test_none_is_linear_and_names_are_shared(activation):
    assert set(nf.ops.ACTIVATIONS) == set(ref.ACTIVATIONS)
    z = np.arange(6, dtype=np.float32).reshape(2, 3)
    np.testing.assert_array_equal(nf.ops.activation_forward(z, None), z)


def test_extreme_values_and_non_finite_data_propagate_like_the_reference():
    z = np.array([[-1e4, -80.0, 0.0, 80.0, 1e4, np.inf, -np.inf, np.nan]], dtype=np.float32)
    dy = np.array([[np.inf, np.nan, 1.0, -1.0, 2.0, 3.0, np.inf, 1.0]], dtype=np.float32)
    for activation in ELEMENTWISE:
        y = ref.activation_forward(z, activation)
        np.testing.assert_allclose(nf.ops.activation_forward(z, activation), y,
                                   err_msg=activation, **ulp_tol(np.float32))
        with np.errstate(invalid="ignore"):  # inf * 0 in the reference is the point here
            expected = ref.activation_backward(y, dy, activation)
        np.testing.assert_array_equal(nf.ops.activation_backward(y, dy, activation), expected,
                                      err_msg=activation)
    big = np.array([[1e4, -1e4, 0.0]], dtype=np.float64)
    np.testing.assert_allclose(nf.ops.activation_forward(big, "softmax"), [[1.0, 0.0, 0.0]])


@pytest.mark.parametrize("activation", ELEMENTWISE + ("softmax",))
def test_out_and_in_place(rng, activation):
    z = data(rng, (33, 19), np.float64)
    expected = nf.ops.activation_forward(z, activation)
    out = np.empty_like(z)
    assert nf.ops.activation_forward(z, activation, out=out) is out
    np.testing.assert_array_equal(out, expected)
    inplace = z.copy()
    nf.ops.activation_forward(inplace, activation, out=inplace)
    np.testing.assert_array_equal(inplace, expected)
    dy = data(rng, z.shape, np.float64)
    dz = nf.ops.activation_backward(expected, dy, activation)
    dy_in_place = dy.copy()
    nf.ops.activation_backward(expected, dy_in_place, activation, out=dy_in_place)
    np.testing.assert_array_equal(dy_in_place, dz)


class TestBadInput:
    z = np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4)

    @pytest.mark.parametrize("bad, exc, words", [
        ([1.0, 2.0], TypeError, "z must be a numpy.ndarray"),
        (np.arange(4), TypeError, "z must have dtype float32 or float64, got int64"),
        (np.ones(4, np.float16), TypeError, "got float16"),
        (np.ones((4, 4), np.float32)[:, ::2], ValueError, "z must be C-contiguous"),
    ])
    def test_forward_rejects_z(self, bad, exc, words):
        with pytest.raises(exc, match=words):
            nf.ops.activation_forward(bad, "relu")

    def test_unknown_activation_lists_the_valid_names(self):
        with pytest.raises(ValueError, match="activation must be one of 'linear', 'relu'.*got 'gelu'"):
            nf.ops.activation_forward(self.z, "gelu")
        with pytest.raises(TypeError, match="activation must be a str or None, got int"):
            nf.ops.activation_backward(self.z, self.z, 3)

    def test_softmax_needs_an_axis(self):
        with pytest.raises(ValueError, match="z must have at least 1 dimension"):
            nf.ops.activation_forward(np.array(1.0, np.float32), "softmax")

    def test_backward_rejects_mismatches_and_writes_nothing(self):
        y = self.z.copy()
        out = np.full_like(y, 7.0)
        cases = [
            (dict(dy=self.z.astype(np.float64)), TypeError, "dy must have the dtype of y \\(float32\\), got float64"),
            (dict(dy=self.z[:2].copy()), ValueError, "dy must have the shape of y \\(3, 4\\), got \\(2, 4\\)"),
            (dict(dy=self.z, out=np.zeros((4, 3), np.float32)), ValueError, "out must have the shape"),
            (dict(dy=self.z, out=np.zeros((3, 4), np.float64)), TypeError, "out must have the dtype"),
        ]
        for kwargs, exc, words in cases:
            with pytest.raises(exc, match=words):
                nf.ops.activation_backward(y, kwargs.pop("dy"), "sigmoid", **kwargs)
        readonly = out.copy()
        readonly.flags.writeable = False
        with pytest.raises(ValueError, match="out must be writable"):
            nf.ops.activation_backward(y, self.z, "sigmoid", out=readonly)
        np.testing.assert_array_equal(y, self.z)
        assert (out == 7.0).all() and (readonly == 7.0).all()

    def test_partial_overlap_is_refused(self):
        buf = np.arange(10, dtype=np.float64)
        before = buf.copy()
        with pytest.raises(ValueError, match="out partially overlaps z"):
            nf.ops.activation_forward(buf[:9], "tanh", out=buf[1:])
        np.testing.assert_array_equal(buf, before)


def misaligned(n, dtype=np.float32):
    """A C-contiguous array whose data address is not a multiple of its item size."""
    itemsize = np.dtype(dtype).itemsize
    a = np.frombuffer(bytearray(itemsize * (n + 1)), dtype=dtype, count=n, offset=1)
    assert not a.flags.aligned
    return a


def test_misaligned_arrays_are_refused():
    with pytest.raises(ValueError, match="z must be aligned"):
        nf.ops.activation_forward(misaligned(100), "relu")
    p = np.ones(100, np.float32)
    with pytest.raises(ValueError, match=r"grads\[0\] must be aligned"):
        nf.ops.sgd_update([p], [misaligned(100)], None, step=1, learning_rate=0.1)
    np.testing.assert_array_equal(p, 1)
    with pytest.raises(ValueError, match="x must be aligned"):
        nf.ops.dense_forward(misaligned(64).reshape(8, 8), np.ones((8, 2), np.float32))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", (0, 1, 7, 4096, 4097, 100003, 2**20 + 3))  # the last splits over 2 threads
def test_all_finite_matches_numpy(dtype, n):
    from nnfast import _core
    x = np.linspace(-1e3, 1e3, n).astype(dtype)
    for bad in (None, np.nan, np.inf, -np.inf):
        for where in ((0, n // 2, n - 1) if n else ()):
            y = x.copy()
            if bad is not None:
                y[where] = bad
            with num_threads(2):
                got = _core.all_finite(y.reshape(-1, 1) if n % 2 else y)
            assert got == bool(np.isfinite(y).all())
    assert _core.all_finite(x)
