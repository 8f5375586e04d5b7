"""Native GEMM and Dense forward/backward against nnfast.reference, with 1 and 2 threads.

Accuracy: a GEMM sums K products in an order of its own (register blocking, FMA), so results are
compared with an elementwise bound ``c * eps * sqrt(K) * (|op(a)| @ |op(b)|)`` (the magnitude of the
terms that were summed), with c = 4. Dense results add the bias and activation to that bound; the
backward bounds carry the error of ``dz = act'(y) * dy`` through the two products and the column
sum. Determinism is exact: every native call runs with 1 and with 2 threads and the bits must agree.
tests/test_isa_levels.py re-runs this file under every ISA level the machine supports.
"""
import math

import numpy as np
import pytest

import nnfast as nf
from nnfast import _core
from nnfast import reference as ref
from nnfast.utils import fused

from conftest import DTYPES, assert_same_bits, assert_within, num_threads

pytestmark = pytest.mark.filterwarnings("error")

DIMS = (1, 2, 3, 7, 16, 17, 31, 64, 100, 257)
RANDOM_SHAPES = [tuple(int(d) for d in row) for row in np.random.default_rng(2024).choice(DIMS, (200, 3))]
# (trans_a, trans_b): NN is the forward x @ w, TN is dw = x.T @ dz, NT is dx = dz @ w.T
PRODUCTS = {"NN": (False, False), "TN": (True, False), "NT": (False, True), "TT": (True, True)}
ACTIVATIONS = ref.ACTIVATIONS
# A few small shapes for every activation, dtype and bias option (keeps the file fast), zeros included.
SMALL_DENSE = [(1, 1, 1), (2, 3, 7), (17, 16, 31), (64, 100, 17), (7, 257, 3), (100, 31, 64),
               (3, 1, 257), (31, 7, 1), (0, 7, 5), (5, 0, 7), (5, 7, 0)]
# The training shapes (M, K, N) of the issue, float32, one activation each.
TRAINING = [((32, 784, 128), "relu"), ((128, 784, 256), "tanh"), ((1024, 784, 256), "relu"),
            ((32, 128, 10), "softmax"), ((256, 1024, 1024), "leaky_relu")]
C_GEMM = 4.0


def eps(dtype):
    return float(np.finfo(dtype).eps)


def both_thread_counts(fn):
    """fn() with 1 and with 2 threads; asserts the results (an array or a tuple of arrays / None)
    have identical bits and returns the 1-thread result."""
    with num_threads(1):
        one = fn()
    with num_threads(2):
        two = fn()
    if isinstance(one, tuple):
        assert isinstance(two, tuple) and len(one) == len(two)
        for a, b in zip(one, two):
            assert (a is None) == (b is None)
            if a is not None:
                assert_same_bits(a, b)
    else:
        assert_same_bits(one, two)
    return one


def gemm_factor(dtype, k):
    return C_GEMM * eps(dtype) * math.sqrt(max(k, 1))


def gemm_operands(rng, m, k, n, trans_a, trans_b, dtype):
    a = rng.standard_normal((k, m) if trans_a else (m, k)).astype(dtype)
    b = rng.standard_normal((n, k) if trans_b else (k, n)).astype(dtype)
    return a, b


def product_cases(product, shapes, seed, dtype):
    """(a, b, trans_a, trans_b, what) for each (m, k, n) of `shapes`, random operands laid out as
    `product` (a key of PRODUCTS) takes them."""
    trans_a, trans_b = PRODUCTS[product]
    rng = np.random.default_rng(seed)
    for m, k, n in shapes:
        a, b = gemm_operands(rng, m, k, n, trans_a, trans_b, dtype)
        yield a, b, trans_a, trans_b, f"{product} M={m} K={k} N={n} {np.dtype(dtype)}"


def op(a, trans):
    return a.T if trans else a


def check_gemm(a, b, trans_a, trans_b, what):
    before = [a.copy(), b.copy()]
    c = both_thread_counts(lambda: nf.ops.gemm(a, b, trans_a=trans_a, trans_b=trans_b))
    want = ref.gemm(a, b, trans_a=trans_a, trans_b=trans_b)
    assert c.dtype == a.dtype and c.flags.c_contiguous, what
    k = op(a, trans_a).shape[1]
    bound = gemm_factor(a.dtype, k) * (np.abs(op(a, trans_a)).astype(np.float64) @ np.abs(op(b, trans_b)))
    assert_within(c, want, bound, what)
    np.testing.assert_array_equal(a, before[0])
    np.testing.assert_array_equal(b, before[1])
    return c


# --- GEMM ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("product", tuple(PRODUCTS))
def test_gemm_matches_reference_on_200_random_shapes(dtype, product):
    assert len(set(RANDOM_SHAPES)) >= 150
    for a, b, trans_a, trans_b, what in product_cases(product, RANDOM_SHAPES, 7, dtype):
        check_gemm(a, b, trans_a, trans_b, what)


LARGER = [(300, 513, 301), (1024, 784, 256), (129, 2048, 67), (1, 4099, 1), (2049, 3, 5),
          # B at least as wide as A is tall, A packed: each thread owns column panels and packs A
          # itself (a square, an uneven panel split with a partial last panel, and a small batch
          # whose B is read in place but for its partial last panel)
          (384, 384, 384), (200, 700, 600), (48, 600, 300),
          # a small batch through a narrow layer (A and B read in place, panels owned per thread):
          # whole panels, a partial last one, an odd panel count, short last row panels
          (32, 1000, 128), (64, 1000, 120), (62, 900, 100), (31, 1500, 96), (44, 1200, 60), (40, 1200, 56),
          # one to three rows of C (sums in registers along n; C^T for a transposed B) and one to
          # three columns of a row-major A (blocks transposed in registers), past L2 too
          (1, 784, 128), (2, 300, 131), (3, 70, 257), (256, 256, 1), (47, 40, 3), (4096, 784, 1)]


@pytest.mark.parametrize("product", tuple(PRODUCTS))
@pytest.mark.parametrize("m, k, n, dtype", [(*s, d) for s in LARGER for d in DTYPES
                                            if d == np.float32 or s[0] * s[1] * s[2] < 10**8],
                         ids=lambda v: np.dtype(v).name if isinstance(v, type) else str(v))
def test_gemm_larger_shapes_cross_the_blocking_and_threading_sizes(dtype, product, m, k, n):
    trans_a, trans_b = PRODUCTS[product]
    a, b = gemm_operands(np.random.default_rng(m + k + n), m, k, n, trans_a, trans_b, dtype)
    check_gemm(a, b, trans_a, trans_b, f"{product} M={m} K={k} N={n}")



# Narrow products (N below a panel, M of several panels): a transposed A is computed as C^T and its
# tiles stored transposed, op(b) = w^T is packed by 4 x 4 register transposes; ragged rows,
# columns and K (below 4, not a multiple of 4) take the overlapping and the scalar edges.
NARROW = [(m, k, n) for m in (32, 37, 50, 100) for k in (1, 3, 10, 33) for n in (2, 4, 5, 9, 13)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("product", tuple(PRODUCTS))
def test_gemm_narrow_products_with_transposed_tiles(dtype, product):
    for a, b, trans_a, trans_b, what in product_cases(product, NARROW, 13, dtype):
        check_gemm(a, b, trans_a, trans_b, what)


def fma_chain(a, b):
    """a @ b as every element of the GEMM is summed, whatever its path (tiles, narrow or short-K
    products): from zero, one multiply-add per k in increasing k, fused where the ISA level has
    FMA (every level but generic), else the product and the sum rounded apart."""
    fused_levels = nf.config()["isa"] != "generic"
    m, k = a.shape
    acc = np.zeros((m, b.shape[1]), a.dtype)
    for p in range(k):
        col, row = np.broadcast_arrays(a[:, p:p + 1], b[p:p + 1, :])
        acc = fused.fma(col, row, acc) if fused_levels else acc + col * row
    return acc


# K of one to nine terms (up to three: short_k_product, an outer product such as dx = dz w^T of a
# one-output layer), N of one to three columns (narrow_product), the tiles' ragged edges, and
# layers of at most one vector's outputs (4 to 16 columns: one-vector tiles), over several passes
# of K.
CHAIN_SHAPES = [(m, k, n) for m in (1, 7, 33) for k in (1, 2, 3, 4, 9) for n in (1, 2, 3, 17, 65)] + [
    (256, 1, 256), (300, 3, 100), (1000, 2, 9), (256, 256, 1), (100, 65, 3),
    (100, 65, 10), (33, 1100, 16), (20, 9, 8), (257, 40, 12), (64, 700, 5),
    # one to three columns of a row-major A that fills panels and fits L2, computed as C^T (A's
    # packing transposes it); just past that size (float: 256 KiB), narrow_product again
    (64, 17, 2), (129, 9, 1), (200, 300, 3), (256, 64, 2), (70, 936, 1), (70, 937, 3),
    # one to three rows of C with whole and ragged column blocks (sums in registers along n)
    (1, 784, 128), (2, 300, 131), (3, 70, 257), (1, 5, 1000),
    # one to three columns of a row-major A in blocks of rows transposed in registers: whole and
    # odd groups of blocks, k a multiple of the vector width or not, rows left to scalar chains
    (48, 16, 2), (1000, 17, 1), (16, 5, 3), (47, 40, 1)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("product", tuple(PRODUCTS))
def test_gemm_elements_are_the_fma_chain_bit_for_bit(dtype, product):
    for a, b, trans_a, trans_b, what in product_cases(product, CHAIN_SHAPES, 31, dtype):
        c = both_thread_counts(lambda: nf.ops.gemm(a, b, trans_a=trans_a, trans_b=trans_b))
        assert_same_bits(c, fma_chain(op(a, trans_a), op(b, trans_b)), what)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("activation", ("linear", "relu", "sigmoid"))
def test_dense_forward_of_short_k_and_narrow_layers_adds_bias_after_the_chain(dtype, activation):
    # the chain, then + b, then the native activation (piecewise-linear ones in the GEMM's own
    # store; the others as a pass of their own), for an input of one to three features or one
    # output: the paths outside the tiles
    rng = np.random.default_rng(5)
    for m, k, n in [(256, 1, 256), (31, 3, 40), (256, 256, 1), (17, 2, 3), (100, 33, 2), (65, 7, 3)]:
        x, w, b = dense_data(rng, m, k, n, dtype)
        y = both_thread_counts(lambda: nf.ops.dense_forward(x, w, b, activation))
        z = fma_chain(x, w) + b
        assert_same_bits(y, z if activation == "linear" else nf.ops.activation_forward(z, activation))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("product", tuple(PRODUCTS))
@pytest.mark.parametrize("m, k, n", [(5, 0, 7), (0, 0, 3), (0, 6, 4), (4, 6, 0), (0, 6, 0), (1, 0, 1)],
                         ids=str)
def test_gemm_empty_sizes(dtype, product, m, k, n):
    trans_a, trans_b = PRODUCTS[product]
    a, b = gemm_operands(np.random.default_rng(0), m, k, n, trans_a, trans_b, dtype)
    c = both_thread_counts(lambda: nf.ops.gemm(a, b, trans_a=trans_a, trans_b=trans_b))
    assert c.shape == (m, n) and c.dtype == dtype
    np.testing.assert_array_equal(c, np.zeros((m, n), dtype))
    out = np.full((m, n), np.nan, dtype)  # K == 0 must overwrite, not accumulate into, out
    assert nf.ops.gemm(a, b, trans_a=trans_a, trans_b=trans_b, out=out) is out
    np.testing.assert_array_equal(out, np.zeros((m, n), dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("product", tuple(PRODUCTS))
def test_gemm_out_is_written_and_returned(dtype, product):
    trans_a, trans_b = PRODUCTS[product]
    rng = np.random.default_rng(3)
    for m, k, n in [(1, 1, 1), (17, 31, 100), (64, 257, 7), (300, 200, 100)]:
        a, b = gemm_operands(rng, m, k, n, trans_a, trans_b, dtype)
        fresh = nf.ops.gemm(a, b, trans_a=trans_a, trans_b=trans_b)
        out = np.full((m, n), np.nan, dtype)  # garbage in out must not leak into the result

        def call(a=a, b=b, out=out):
            out[...] = np.nan
            r = nf.ops.gemm(a, b, trans_a, trans_b, out)  # positional out too
            assert r is out
            return out.copy()
        assert_same_bits(both_thread_counts(call), fresh)


def test_gemm_out_aliasing_an_operand_is_refused_or_correct():
    """NumPy's matmul gives the right answer when out overlaps an operand; a GEMM that writes C
    while reading A would not. Either is refused with a ValueError naming out, or the result is
    correct (the kernel buffered)."""
    rng = np.random.default_rng(5)
    a = rng.standard_normal((64, 64)).astype(np.float32)
    b = rng.standard_normal((64, 64)).astype(np.float32)
    want = nf.ops.gemm(a, b)
    for alias in ("a", "b"):
        x, y = a.copy(), b.copy()
        target = x if alias == "a" else y
        before = target.copy()
        try:
            r = nf.ops.gemm(x, y, out=target)
        except ValueError as e:
            assert "out" in str(e), str(e)
            np.testing.assert_array_equal(target, before)
        else:
            assert r is target
            np.testing.assert_array_equal(r, want)


# --- Dense forward / backward --------------------------------------------------------------------

def dense_data(rng, m, k, n, dtype, bias=True):
    x = rng.standard_normal((m, k)).astype(dtype)
    w = (rng.standard_normal((k, n)) / math.sqrt(max(k, 1))).astype(dtype)
    b = rng.standard_normal(n).astype(dtype) if bias else None
    return x, w, b


def forward_bound(x, w, b, activation, y_ref):
    """Bound on |y - y_ref|: the GEMM bound plus the rounding of the bias add, through the
    activation (Lipschitz <= 1 elementwise; softmax perturbs y_i by at most y_i * 2 max |dz|),
    plus a few ulps of the activation itself."""
    dtype = x.dtype
    k = x.shape[1]
    mag = np.abs(x).astype(np.float64) @ np.abs(w)
    if b is not None:
        mag += np.abs(b)
    zb = (gemm_factor(dtype, k) + 2 * eps(dtype)) * mag
    y64 = np.abs(y_ref.astype(np.float64))
    if activation == "softmax":
        rowmax = zb.max(axis=1, keepdims=True) if zb.size else zb
        n = w.shape[1]
        return y64 * (2 * rowmax + (8 + 4 * math.sqrt(max(n, 1))) * eps(dtype)) + float(np.finfo(dtype).tiny)
    return zb + 4 * eps(dtype) * y64 + float(np.finfo(dtype).tiny)


def check_forward(x, w, b, activation, what):
    before = [a.copy() for a in (x, w, b) if a is not None]
    y = both_thread_counts(lambda: nf.ops.dense_forward(x, w, b, activation))
    y_ref = ref.dense_forward(x, w, b, activation)
    assert y.dtype == x.dtype and y.shape == (x.shape[0], w.shape[1]) and y.flags.c_contiguous, what
    assert_within(y, y_ref, forward_bound(x, w, b, activation, y_ref), what)
    if activation == "softmax" and y.size:
        n = y.shape[1]
        sums = y.astype(np.float64).sum(axis=1)
        assert np.all(np.abs(sums - 1.0) <= 4 * eps(y.dtype) * (2 + math.sqrt(n))), f"{what}: rows sum to {sums}"
        assert np.all(y >= 0), what
    for a, a0 in zip([a for a in (x, w, b) if a is not None], before):
        np.testing.assert_array_equal(a, a0, err_msg=f"{what}: an input was modified")
    return y


def check_backward(x, w, y, dy, activation, what):
    """All four (need_dx, need_db) combinations; the full result against the reference with bounds,
    the partial ones bit-identical to the full one."""
    dtype = x.dtype
    m, k = x.shape
    n = w.shape[1]
    before = [a.copy() for a in (x, w, y, dy)]
    dx, dw, db = both_thread_counts(lambda: nf.ops.dense_backward(x, w, y, dy, activation))
    dx_ref, dw_ref, db_ref = ref.dense_backward(x, w, y, dy, activation)
    assert dx.shape == x.shape and dw.shape == w.shape and db.shape == (n,), what
    for g in (dx, dw, db):
        assert g.dtype == dtype and g.flags.c_contiguous, what

    # error of dz = act'(y) * dy, elementwise, then carried through the products and the sum
    dz_ref = ref.activation_backward(y, dy, activation).astype(np.float64)
    ady, ay = np.abs(dy).astype(np.float64), np.abs(y).astype(np.float64)
    if activation == "softmax":
        dz_err = (8 + 4 * math.sqrt(max(n, 1))) * eps(dtype) * ay * (ady + (ady * ay).sum(axis=1, keepdims=True))
    else:
        dz_err = 8 * eps(dtype) * ady
    dz_mag = np.abs(dz_ref) + dz_err
    aw, ax = np.abs(w).astype(np.float64), np.abs(x).astype(np.float64)
    assert_within(dx, dx_ref, gemm_factor(dtype, n) * (dz_mag @ aw.T) + dz_err @ aw.T, f"{what} dx")
    assert_within(dw, dw_ref, gemm_factor(dtype, m) * (ax.T @ dz_mag) + ax.T @ dz_err, f"{what} dw")
    assert_within(db, db_ref, gemm_factor(dtype, m) * dz_mag.sum(axis=0) + dz_err.sum(axis=0), f"{what} db")

    for need_dx, need_db in [(False, True), (True, False), (False, False)]:
        r = both_thread_counts(lambda need_dx=need_dx, need_db=need_db: nf.ops.dense_backward(
            x, w, y, dy, activation, need_dx=need_dx, need_db=need_db))
        assert len(r) == 3, what
        assert (r[0] is None) == (not need_dx) and (r[2] is None) == (not need_db), what
        assert_same_bits(r[1], dw)
        if need_dx:
            assert_same_bits(r[0], dx)
        if need_db:
            assert_same_bits(r[2], db)
    for a, a0 in zip((x, w, y, dy), before):
        np.testing.assert_array_equal(a, a0, err_msg=f"{what}: an input was modified")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("bias", (True, False), ids=("bias", "no-bias"))
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_dense_forward_and_backward_small_shapes(dtype, bias, activation):
    rng = np.random.default_rng(11)
    for m, k, n in SMALL_DENSE:
        what = f"{activation} M={m} K={k} N={n} {np.dtype(dtype)} bias={bias}"
        x, w, b = dense_data(rng, m, k, n, dtype, bias)
        y = check_forward(x, w, b, activation, what)
        dy = rng.standard_normal(y.shape).astype(dtype)
        check_backward(x, w, y, dy, activation, what)


@pytest.mark.parametrize("bias", (True, False), ids=("bias", "no-bias"))
@pytest.mark.parametrize("shape, activation", TRAINING, ids=[f"{s}-{a}" for s, a in TRAINING])
def test_dense_training_shapes_float32(shape, activation, bias):
    m, k, n = shape
    rng = np.random.default_rng(m * 7 + n)
    x, w, b = dense_data(rng, m, k, n, np.float32, bias)
    what = f"{activation} {shape} bias={bias}"
    y = check_forward(x, w, b, activation, what)
    if bias:  # backward does not take the bias: once per shape is enough
        dy = rng.standard_normal(y.shape).astype(np.float32)
        check_backward(x, w, y, dy, activation, what)


# dense_backward on two threads runs dx beside dw, one thread each; when dx's plan is one pass over
# panels of w^T with dz read in place (gemm.cpp: shares_tiles: dx at most 8 panels wide, its k
# within KC, dz's block within 256 KiB), the thread that ends first takes dx's remaining tiles
# (gemm_shared). x mostly zeros makes dw, which skips them at the levels with the zero-skipping
# kernel, usually end first. The bits must not change. These share at every level: (64, 300, 200)
# runs dx transposed (dx^T = w dz^T, the tiles stored through a buffer), (64, 128, 256) does not.
# float64 at the generic level shares none: its panels are 4 columns, and a dx at most 32 columns
# wide with dz's block within 256 KiB is under the work that pairs the products on two threads.
# float64's (64, 256, 128) keeps dx's sum (over 128 outputs) within the 12-row tile's KC on a 32 KiB L1 (170),
# where (64, 128, 256) would not share; at 2^21 multiply-adds it just pairs.
SHARED = [(np.float32, (64, 300, 200)), (np.float32, (64, 128, 256)), (np.float64, (64, 256, 128))]


@pytest.fixture
def held_shared_lead():
    """The lead of a shared product waits for the other thread's first take: which thread ends its
    own product first is up to the host (and a sanitizer slows the zero-skipping loop the most), so
    a test of the share holds the lead rather than rely on dw's speed."""
    _core.hold_shared_lead(True)
    yield
    _core.hold_shared_lead(False)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(64, 300, 200), (64, 128, 256), (256, 128, 128), (256, 256, 256), (200, 100, 300),
                                   (130, 250, 70)], ids=str)
def test_dense_backward_shares_dx_tiles_between_two_threads(dtype, shape):
    m, k, n = shape
    rng = np.random.default_rng(m + k + n)
    x, w, b = dense_data(rng, m, k, n, dtype)
    x[rng.random(x.shape) < 0.9] = 0
    y = check_forward(x, w, b, "relu", f"{shape}")
    dy = rng.standard_normal(y.shape).astype(dtype)
    check_backward(x, w, y, dy, "relu", f"{shape} {np.dtype(dtype)}")


@pytest.mark.parametrize("dtype, shape", SHARED, ids=[f"{np.dtype(d)}-{s}" for d, s in SHARED])
def test_dense_backward_second_thread_takes_dx_tiles(dtype, shape, held_shared_lead):
    if not nf.config()["openmp"] or nf.config()["max_threads"] < 2:
        pytest.skip("one thread: nothing to share")
    if dtype == np.float64 and nf.config()["isa"] == "generic":
        pytest.skip("generic float64: no dx narrow enough to share is large enough to pair")
    m, k, n = shape
    rng = np.random.default_rng(m * k + n)
    x, w, b = dense_data(rng, m, k, n, dtype)
    x[rng.random(x.shape) < 0.9] = 0
    y = check_forward(x, w, b, "relu", f"{shape}")
    dy = rng.standard_normal(y.shape).astype(dtype)
    with num_threads(1):
        alone = nf.ops.dense_backward(x, w, y, dy, "relu")
    before = _core.shared_tiles_taken()
    with num_threads(2):
        shared = nf.ops.dense_backward(x, w, y, dy, "relu")
    assert _core.shared_tiles_taken() > before, f"{shape}: the second thread took none of dx's tiles"
    for got, want in zip(shared, alone):
        np.testing.assert_array_equal(got, want, err_msg=f"{shape} {np.dtype(dtype)}: 2 threads, shared tiles")


@pytest.mark.parametrize("shape, activation", [((32, 784, 128), "relu"), ((32, 128, 10), "softmax"),
                                               ((200, 300, 100), "sigmoid")], ids=str)
def test_dense_training_shapes_float64(shape, activation):
    m, k, n = shape
    rng = np.random.default_rng(1)
    x, w, b = dense_data(rng, m, k, n, np.float64)
    y = check_forward(x, w, b, activation, f"{activation} {shape} float64")
    check_backward(x, w, y, rng.standard_normal(y.shape), activation, f"{activation} {shape} float64")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_dense_forward_out_is_written_and_returned(dtype, activation):
    x, w, b = dense_data(np.random.default_rng(2), 65, 33, 17, dtype)
    fresh = nf.ops.dense_forward(x, w, b, activation)
    out = np.full(fresh.shape, np.nan, dtype)
    assert nf.ops.dense_forward(x, w, b, activation, out=out) is out
    assert_same_bits(out, fresh)
    out[...] = np.nan
    assert nf.ops.dense_forward(x, w, b, activation, out) is out  # positional
    assert_same_bits(out, fresh)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("activation", ("relu", "softmax"))
def test_dense_backward_out_buffers_are_written_and_returned(dtype, activation):
    rng = np.random.default_rng(6)
    x, w, b = dense_data(rng, 65, 33, 17, dtype)
    y = ref.dense_forward(x, w, b, activation)
    dy = rng.standard_normal(y.shape).astype(dtype)
    fresh = nf.ops.dense_backward(x, w, y, dy, activation)
    outs = [np.full(g.shape, np.nan, dtype) for g in fresh]
    r = nf.ops.dense_backward(x, w, y, dy, activation, dx_out=outs[0], dw_out=outs[1], db_out=outs[2])
    for got, out, want in zip(r, outs, fresh):
        assert got is out
        assert_same_bits(out, want)
    dw_out = np.full(fresh[1].shape, np.nan, dtype)
    r = nf.ops.dense_backward(x, w, y, dy, activation, need_dx=False, need_db=False, dw_out=dw_out)
    assert r[0] is None and r[1] is dw_out and r[2] is None
    assert_same_bits(dw_out, fresh[1])


def test_dense_forward_out_aliasing_an_input_is_refused_or_correct():
    rng = np.random.default_rng(8)
    x = rng.standard_normal((40, 40)).astype(np.float32)
    w = rng.standard_normal((40, 40)).astype(np.float32)
    want = nf.ops.dense_forward(x, w, None, "relu")
    for alias in ("x", "w"):
        xx, ww = x.copy(), w.copy()
        target = xx if alias == "x" else ww
        before = target.copy()
        try:
            r = nf.ops.dense_forward(xx, ww, None, "relu", out=target)
        except ValueError as e:
            assert "out" in str(e), str(e)
            assert_same_bits(target, before)
        else:
            assert r is target
            assert_same_bits(r, want)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("activation", ("linear", "relu", "leaky_relu"))
def test_bias_and_piecewise_linear_activation_round_as_a_separate_pass(dtype, activation):
    """Full tiles get the bias and a piecewise-linear activation in the micro-kernel's registers,
    edge tiles in a pass after the product: either way y has the bits of the plain product, then
    + b, then the activation, each rounded once (a value below zero becomes +0 after relu, NaN and
    -0 pass), at both thread counts."""
    rng = np.random.default_rng(17)
    slope = dtype(0.2)
    for m, k, n in ((9, 5, 32), (17, 64, 65), (256, 64, 256), (33, 300, 96), (8, 1, 40)):
        x, w, b = dense_data(rng, m, k, n, dtype)
        x[1, 0] = np.nan
        b[3] = -np.inf
        b[5] = -0.0
        w[:, 5] = 0.0  # column 5: (+0 sums) + -0 = +0; column 3: -inf, then 0 or -inf after the activation
        z = nf.ops.gemm(x, w) + b
        want = {"linear": z, "relu": np.where(z < 0, dtype(0), z), "leaky_relu": np.where(z < 0, slope * z, z)}
        got = both_thread_counts(lambda: nf.ops.dense_forward(x, w, b, activation))
        assert_same_bits(got, want[activation].astype(dtype))


def test_activation_none_is_linear():
    x, w, b = dense_data(np.random.default_rng(4), 9, 8, 7, np.float32)
    assert_same_bits(nf.ops.dense_forward(x, w, b, None), nf.ops.dense_forward(x, w, b, "linear"))
    assert_same_bits(nf.ops.dense_forward(x, w, b), nf.ops.dense_forward(x, w, b, "linear"))
    y = nf.ops.dense_forward(x, w, b)
    dy = np.ones_like(y)
    for got, want in zip(nf.ops.dense_backward(x, w, y, dy, None), nf.ops.dense_backward(x, w, y, dy)):
        assert_same_bits(got, want)


def test_non_finite_data_propagates():
    """NaN and Inf are data: a NaN in x poisons its row of y (relu included: max(NaN, 0) is NaN in
    NumPy); an Inf weight makes its column infinite."""
    x, w, b = dense_data(np.random.default_rng(9), 8, 16, 5, np.float32)
    x[3, 2] = np.nan
    y = nf.ops.dense_forward(x, w, b, "linear")
    assert np.isnan(y[3]).all() and np.isfinite(np.delete(y, 3, axis=0)).all()
    w2 = np.abs(w)
    w2[4, 1] = np.inf
    x2 = np.abs(np.delete(x, 3, axis=0)) + 0.5
    y2 = nf.ops.dense_forward(x2, w2, None, "linear")
    assert np.isposinf(y2[:, 1]).all() and np.isfinite(np.delete(y2, 1, axis=1)).all()


# --- bad input: an exception naming the argument, and nothing written ----------------------------

def names(arg):
    """The house style of an argument error: '<arg> must ...'."""
    return rf"(?<![\w.\[]){arg} must"


def assert_rejected(exc, words, call, arrays):
    before = [a.copy() for a in arrays]
    with pytest.raises(exc, match=words):
        call()
    for a, a0 in zip(arrays, before):
        assert_unchanged(a, a0)


def assert_unchanged(a, before):
    assert_same_bits(np.ascontiguousarray(a), np.ascontiguousarray(before))


F32 = np.float32


def gemm_args():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((6, 5)).astype(F32)
    b = rng.standard_normal((5, 4)).astype(F32)
    return a, b, np.full((6, 4), 7.0, F32)


@pytest.mark.parametrize("change, kwargs, exc, words", [
    (dict(a=[[1.0, 2.0]]), {}, TypeError, names("a") + " be a numpy.ndarray"),
    (dict(b=np.ones((5, 4), np.int64)), {}, TypeError, names("b") + " have dtype float32 or float64, got int64"),
    (dict(a=np.ones((6, 5), np.float16)), {}, TypeError, names("a")),
    (dict(b=np.ones((5, 4), np.float64)), {}, TypeError, names("b")),
    (dict(a=np.ones(5, F32)), {}, ValueError, names("a")),
    (dict(b=np.ones((5, 4, 1), F32)), {}, ValueError, names("b")),
    (dict(b=np.ones((6, 4), F32)), {}, ValueError, names("b")),
    (dict(b=np.ones((5, 4), F32)), dict(trans_b=True), ValueError, names("b")),
    (dict(), dict(trans_a=True), ValueError, names("b")),
    (dict(a=np.ones((5, 12), F32)[:, ::2]), {}, ValueError, names("a") + " be C-contiguous"),
    (dict(b=np.ones((4, 5), F32).T), {}, ValueError, names("b") + " be C-contiguous"),
    (dict(out=np.zeros((4, 6), F32)), {}, ValueError, names("out")),
    (dict(out=np.zeros((6, 4), np.float64)), {}, TypeError, names("out")),
    (dict(out=np.zeros((6, 8), F32)[:, ::2]), {}, ValueError, names("out")),
    (dict(out="readonly"), {}, ValueError, names("out") + " be writable"),
], ids=["a-list", "b-int", "a-float16", "dtype-mixing", "a-1d", "b-3d", "inner-mismatch",
        "inner-mismatch-trans_b", "inner-mismatch-trans_a", "a-strided", "b-fortran", "out-shape",
        "out-dtype", "out-strided", "out-readonly"])
def test_gemm_rejects_bad_input_before_writing(change, kwargs, exc, words):
    a, b, out = gemm_args()
    args = dict(dict(a=a, b=b, out=out), **change)
    if isinstance(args["out"], str):
        args["out"] = out
        out.flags.writeable = False
    arrays = [v for v in args.values() if isinstance(v, np.ndarray)]
    assert_rejected(exc, words, lambda: nf.ops.gemm(args["a"], args["b"], out=args["out"], **kwargs), arrays)


def dense_args(dtype=F32):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((6, 5)).astype(dtype)
    w = rng.standard_normal((5, 4)).astype(dtype)
    b = rng.standard_normal(4).astype(dtype)
    return dict(x=x, w=w, b=b, out=np.full((6, 4), 7.0, dtype))


@pytest.mark.parametrize("change, exc, words", [
    (dict(x=[[1.0] * 5] * 6), TypeError, names("x") + " be a numpy.ndarray"),
    (dict(x=np.ones((6, 5), np.int32)), TypeError, names("x") + " have dtype float32 or float64"),
    (dict(w=np.ones((5, 4), np.float64)), TypeError, names("w")),
    (dict(b=np.ones(4, np.float64)), TypeError, names("b")),
    (dict(x=np.ones(5, F32)), ValueError, names("x")),
    (dict(x=np.ones((2, 3, 5), F32)), ValueError, names("x")),
    (dict(w=np.ones(5, F32)), ValueError, names("w")),
    (dict(w=np.ones((4, 4), F32)), ValueError, names("w")),
    (dict(b=np.ones(5, F32)), ValueError, names("b")),
    (dict(b=np.ones((4, 1), F32)), ValueError, names("b")),
    (dict(x=np.ones((6, 10), F32)[:, ::2]), ValueError, names("x") + " be C-contiguous"),
    (dict(w=np.ones((4, 5), F32).T), ValueError, names("w") + " be C-contiguous"),
    (dict(b=np.ones(8, F32)[::2]), ValueError, names("b") + " be C-contiguous"),
    (dict(out=np.zeros((6, 5), F32)), ValueError, names("out")),
    (dict(out=np.zeros((6, 4), np.float64)), TypeError, names("out")),
    (dict(out=np.zeros((4, 6), F32).T), ValueError, names("out")),
    (dict(out="readonly"), ValueError, names("out") + " be writable"),
], ids=["x-list", "x-int", "w-dtype-mixing", "b-dtype-mixing", "x-1d", "x-3d", "w-1d", "w-rows",
        "b-length", "b-2d", "x-strided", "w-fortran", "b-strided", "out-shape", "out-dtype", "out-fortran",
        "out-readonly"])
def test_dense_forward_rejects_bad_input_before_writing(change, exc, words):
    args = dict(dense_args(), **change)
    if isinstance(args["out"], str):
        args["out"] = dense_args()["out"]
        args["out"].flags.writeable = False
    arrays = [v for v in args.values() if isinstance(v, np.ndarray)]
    assert_rejected(exc, words, lambda: nf.ops.dense_forward(args["x"], args["w"], args["b"], "relu",
                                                             out=args["out"]), arrays)


@pytest.mark.parametrize("activation", ["gelu", "ReLU", ""])
def test_unknown_activation_lists_the_valid_names(activation):
    args = dense_args()
    y = np.full((6, 4), 0.5, F32)
    arrays = list(args.values()) + [y]
    calls = [lambda: nf.ops.dense_forward(args["x"], args["w"], args["b"], activation, out=args["out"]),
             lambda: nf.ops.dense_backward(args["x"], args["w"], y, y, activation)]
    for call in calls:
        before = [a.copy() for a in arrays]
        with pytest.raises(ValueError, match=names("activation")) as info:
            call()
        for name in ACTIVATIONS:
            assert name in str(info.value)
        assert repr(activation) in str(info.value) or activation in str(info.value)
        for a, a0 in zip(arrays, before):
            assert_unchanged(a, a0)


def backward_args(dtype=F32):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((6, 5)).astype(dtype)
    w = rng.standard_normal((5, 4)).astype(dtype)
    y = np.abs(rng.standard_normal((6, 4))).astype(dtype)
    dy = rng.standard_normal((6, 4)).astype(dtype)
    return dict(x=x, w=w, y=y, dy=dy)


@pytest.mark.parametrize("change, exc, words", [
    (dict(x=[[1.0] * 5] * 6), TypeError, names("x") + " be a numpy.ndarray"),
    (dict(dy=list(np.ones((6, 4)))), TypeError, names("dy") + " be a numpy.ndarray"),
    (dict(w=np.ones((5, 4), np.int64)), TypeError, names("w") + " have dtype float32 or float64"),
    (dict(w=np.ones((5, 4), np.float64)), TypeError, names("w")),
    (dict(y=np.ones((6, 4), np.float64)), TypeError, names("y")),
    (dict(dy=np.ones((6, 4), np.float64)), TypeError, names("dy")),
    (dict(x=np.ones(5, F32)), ValueError, names("x")),
    (dict(w=np.ones((5, 4, 1), F32)), ValueError, names("w")),
    (dict(w=np.ones((3, 4), F32)), ValueError, names("w")),
    (dict(y=np.ones((6, 5), F32)), ValueError, names("y")),
    (dict(y=np.ones((24,), F32)), ValueError, names("y")),
    (dict(dy=np.ones((6, 3), F32)), ValueError, names("dy")),
    (dict(dy=np.ones((4, 6), F32)), ValueError, names("dy")),
    (dict(x=np.ones((5, 6), F32).T), ValueError, names("x") + " be C-contiguous"),
    (dict(y=np.ones((6, 8), F32)[:, ::2]), ValueError, names("y") + " be C-contiguous"),
    (dict(dy=np.ones((4, 6), F32).T), ValueError, names("dy") + " be C-contiguous"),
], ids=["x-list", "dy-list", "w-int", "w-dtype-mixing", "y-dtype-mixing", "dy-dtype-mixing", "x-1d", "w-3d",
        "w-rows", "y-shape", "y-1d", "dy-shape", "dy-transposed-shape", "x-fortran", "y-strided",
        "dy-fortran"])
def test_dense_backward_rejects_bad_input_before_writing(change, exc, words):
    args = dict(backward_args(), **change)
    arrays = [v for v in args.values() if isinstance(v, np.ndarray)]
    for need_dx in (True, False):
        assert_rejected(exc, words, lambda need_dx=need_dx: nf.ops.dense_backward(
            args["x"], args["w"], args["y"], args["dy"], "relu", need_dx=need_dx), arrays)


def _bad_outs(case, args):
    """Output buffers for one rejected dense_backward call (may rebind args["dy"])."""
    if case == "dw_out-shape":
        return dict(dw_out=np.zeros((4, 5), F32))
    if case == "dx_out-dtype":
        return dict(dx_out=np.zeros((6, 5), np.float64))
    if case == "db_out-length":
        return dict(db_out=np.zeros(5, F32))
    if case == "dx_out-aliases-dy":
        big = np.zeros(30, F32)
        args["dy"] = big[:24].reshape(6, 4)
        args["dy"][...] = 1.0
        return dict(dx_out=big.reshape(6, 5))
    shared = np.zeros(40, F32)  # dx_out and dw_out overlap
    return dict(dx_out=shared[:30].reshape(6, 5), dw_out=shared[20:].reshape(5, 4))


@pytest.mark.parametrize("case, exc, words", [
    ("dw_out-shape", ValueError, names("dw_out")),
    ("dx_out-dtype", TypeError, names("dx_out")),
    ("db_out-length", ValueError, names("db_out")),
    ("dx_out-aliases-dy", ValueError, names("dx_out")),
    ("outs-overlap", ValueError, names("(dx_out|dw_out)")),
], ids=lambda v: v if isinstance(v, str) and "must" not in v else "")
def test_dense_backward_rejects_bad_out_buffers_before_writing(case, exc, words):
    args = backward_args()
    outs = _bad_outs(case, args)
    arrays = list(args.values()) + list(outs.values())
    assert_rejected(exc, words, lambda: nf.ops.dense_backward(args["x"], args["w"], args["y"], args["dy"], "relu",
                                                              **outs), arrays)


def test_the_reference_refuses_the_same_shapes():
    """The twin agrees on what is wrong (its messages are its own)."""
    a, b, _ = gemm_args()
    for call, exc in [(lambda: ref.gemm(a, b.T), ValueError), (lambda: ref.gemm(a, b.astype(np.float64)), TypeError),
                      (lambda: ref.gemm(a[0], b), ValueError), (lambda: ref.gemm(a, b, trans_a=True), ValueError)]:
        with pytest.raises(exc, match=r"\b[ab]\b"):
            call()
