"""Dense products skip the zeros of a mostly-zero input (gemm/sparse_a.h: a layer after relu and
dropout, and in the backward pass an output gradient through relu), on the avx512 and avx2 levels
in float32, with the packed GEMM's bits: each sum still runs from +0
over the terms in increasing k, and a skipped 0 * w with a finite w would only have added +-0. So
every result here must equal the dense product's to the bit, whether the zero-skipping kernel ran
or not; the counter `_core.sparse_products_run()` shows that it ran where it should. Weights that
are not all finite, where 0 * inf is NaN, keep the dense product. NNFAST_SPARSE_INPUTS=0 (read at
import) turns the kernel off; a child process with it off must give the same bits as one with it on,
and so must one with it on in either way of taking the terms' entries (registers or loads, which
differ at the avx512 level); the whole file also runs in a child with the way this CPU does not take."""
import json
import os

import numpy as np
import pytest

import nnfast as nf
from nnfast import _core
from nnfast import reference as ref

from conftest import assert_same_bits, assert_within, cpu_vendor, num_threads, run_python

CONFIG = nf.config()
KERNEL = CONFIG["isa"] in ("avx512", "avx2") and CONFIG["sparse_inputs"]  # the levels with a kernel
LEAKY_SLOPE = 0.2  # common/types.h kLeakyReluSlope

# (m, k, n): awkward sizes around the kernel's limits (16 rows or terms, 64 columns), ragged
# panels of 32 columns and groups of 6 rows
SHAPES = ((16, 16, 64), (17, 65, 65), (65, 17, 100), (256, 256, 256), (1000, 9, 257), (7, 300, 64), (33, 1000, 70),
          (64, 64, 63))
DENSITIES = (0.0, 0.05, 0.3, 0.9)


def sparse_input(rng, shape, density, dtype):
    """Random normals with a share 1 - density of zeros, a third of them -0."""
    x = rng.standard_normal(shape).astype(dtype)
    zero = rng.random(shape) >= density
    x[zero] = 0.0
    x[zero & (rng.random(shape) < 1 / 3)] = -0.0
    return x


def takes_kernel(m, k, n, dtype, density):
    """Whether the zero-skipping kernel should run (its sampled density is close to the true one;
    the densities here are far from its limits, 0.4 to 0.65 by level and CPU)."""
    return KERNEL and dtype == np.float32 and m >= 16 and k >= 16 and n >= 64 and density <= 0.3


def epilogue(z, b, activation):
    """act(z + b) with the GEMM epilogue's roundings, for the piecewise-linear activations."""
    v = z + b
    if activation == "relu":
        return np.where(v < 0, v.dtype.type(0), v)
    if activation == "leaky_relu":
        return np.where(v < 0, v.dtype.type(LEAKY_SLOPE) * v, v)
    return v


@pytest.mark.parametrize("threads", (1, 2))
@pytest.mark.parametrize("dtype", (np.float32, np.float64))
@pytest.mark.parametrize("density", DENSITIES)
@pytest.mark.parametrize("m, k, n", SHAPES)
def test_forward_and_weight_gradient_have_the_dense_products_bits(m, k, n, density, dtype, threads):
    rng = np.random.default_rng(m * 7 + k * 5 + n)
    x = sparse_input(rng, (m, k), density, dtype)
    w = rng.standard_normal((k, n)).astype(dtype)
    b = rng.standard_normal(n).astype(dtype)
    dy = rng.standard_normal((m, n)).astype(dtype)
    with num_threads(threads):
        z = nf.ops.gemm(x, w)
        before = _core.sparse_products_run()
        for activation in ("linear", "relu", "leaky_relu"):
            y = nf.ops.dense_forward(x, w, b, activation)
            assert_same_bits(y, epilogue(z, b, activation), f"{activation} forward")
        forwards = _core.sparse_products_run() - before
        dx, dw, db = nf.ops.dense_backward(x, w, y, dy, "linear")
        assert_same_bits(dw, nf.ops.gemm(x, dy, True, False), "dw")
        assert_same_bits(dx, nf.ops.gemm(dy, w, False, True), "dx")
        backwards = _core.sparse_products_run() - before - forwards
    expected = takes_kernel(m, k, n, dtype, density)
    assert forwards == (3 if expected else 0)
    # dw = x^T dy: x^T has k rows of m terms (the kernel's rows and terms swap)
    assert backwards == (1 if takes_kernel(k, m, n, dtype, density) else 0)


def backward_against_gemm(x, w, dz, threads):
    """dense_backward of a linear layer (dz = dy) on `threads` threads, its dx and dw checked bit
    for bit against the packed GEMM's; returns (dx, dw, products that skipped zeros)."""
    with num_threads(threads):
        before = _core.sparse_products_run()
        dx, dw, _ = nf.ops.dense_backward(x, w, dz, dz, "linear")
        ran = _core.sparse_products_run() - before
        assert_same_bits(dx, nf.ops.gemm(dz, w, False, True), "dx")
        assert_same_bits(dw, nf.ops.gemm(x, dz, True, False), "dw")
    return dx, dw, ran


def dx_as_transpose(m, k, n):
    """kernels/dense.cpp: a small batch's dx is computed as w dz^T, with no zero-skipping."""
    return m <= 64 and m < k and n * k >= 16384


def transposed_share(dz):
    """gemm/sparse_a.cpp's share of the blocks of dw^T's rows (a lane's worth of units each: 16 at
    avx512, 8 at avx2) that its transposed store transposes in registers: those with more than a
    quarter of their units holding a term (a nonzero of dz in their column)."""
    lanes = 8 if CONFIG["isa"] == "avx2" else 16
    alive = (dz != 0).any(axis=0)
    blocks = [alive[i:i + lanes].sum() > lanes // 4 for i in range(0, alive.size, lanes)]
    return float(np.mean(blocks))


def weight_gradient_skips(dz, m, k, n, density):
    """Whether dw = (dz^T x)^T of a dense x skips dz's zeros (its result stored transposed): below the
    density limit times 1 - s * share / m, where the transposed store costs s terms an element (16
    on one thread at avx512, 32 on more, 64 at avx2; m, the batch, is its sums' length) on the share
    of the blocks it transposes (transposed_share)."""
    store_terms = 64 if CONFIG["isa"] == "avx2" else 32 if nf.get_num_threads() > 1 else 16
    limit = 0.65 if CONFIG["isa"] == "avx2" else 0.4  # at avx512 0.6 decides alike here
    return KERNEL and n >= 16 and k >= 64 and density <= limit * (1 - store_terms * transposed_share(dz) / m)


# (m, k, n) of a layer whose output gradient dz is mostly zeros: dx = dz w^T (w read transposed)
# skips them unless the batch is small; dw = (dz^T x)^T skips them too when x is dense
# (weight_gradient_skips).
# Ragged panels, 16-lane blocks and thread halves; every batch here is far from that bound for
# each level's and CPU's limit (0.4 to 0.65), so the test holds on every machine.
# dw's product has n rows: up to 384 (AVX-512) or 192 (AVX2) it is stored transposed a panel at a
# time, above that through a whole row-major scratch (gemm/sparse_a.cpp, run_panels): 401 takes the latter
GRAD_Z_SHAPES = ((16, 64, 16), (16, 65, 33), (300, 100, 70), (256, 256, 256), (200, 1000, 9), (24, 300, 100),
                 (1000, 70, 257), (250, 130, 64), (300, 96, 401))


@pytest.mark.parametrize("threads", (1, 2))
@pytest.mark.parametrize("density", (0.05, 0.3, 0.9))
@pytest.mark.parametrize("m, k, n", GRAD_Z_SHAPES)
def test_gradients_skip_the_output_gradients_zeros_with_the_dense_products_bits(m, k, n, density, threads):
    rng = np.random.default_rng(m * 3 + k * 11 + n)
    x = rng.standard_normal((m, k)).astype(np.float32)
    w = rng.standard_normal((k, n)).astype(np.float32)
    dy = sparse_input(rng, (m, n), density, np.float32)
    with num_threads(threads):
        dw_skips = weight_gradient_skips(dy, m, k, n, density)
    _, _, ran = backward_against_gemm(x, w, dy, threads)
    sparse = KERNEL and density <= 0.3
    dx_skips = sparse and not dx_as_transpose(m, k, n) and m >= 16 and n >= 16 and k >= 64
    assert ran == int(dx_skips) + int(dw_skips)


def dead_units(rng, m, n, alive, live_share=0.5):
    """An output gradient behind relu whose units live or die for every sample alike (as a trained
    network's do): the units `alive` have about `live_share` nonzeros (at least FULL_SHARE: exactly
    ceil((1 - live_share) * m) zeros, so that their lists are long enough to run full), the others
    only zeros, a third of them -0."""
    dz = np.zeros((m, n), np.float32)
    dz[rng.random((m, n)) < 1 / 3] = -0.0
    live = rng.standard_normal((m, len(alive))).astype(np.float32)
    if live_share >= FULL_SHARE:
        for u in range(len(alive)):
            live[rng.choice(m, int(np.ceil((1 - live_share) * m)), replace=False), u] = 0.0
    else:
        live[rng.random(live.shape) >= live_share] = 0.0
    dz[:, alive] = live
    return dz


# units alive: none; at most a quarter of a block (stored as zeros and value by value) or more
# (transposed in registers) at each level; in the first block, spread, or in the ragged last one
ALIVE = {"none": [], "two": [3, 9], "four in a block": [0, 1, 2, 3], "five in a block": [0, 1, 2, 3, 4],
         "spread": list(range(1, 128, 11)), "last": [-1, -2, -3]}


@pytest.mark.parametrize("threads", (1, 2))
@pytest.mark.parametrize("live_share", (0.5, 0.95))
@pytest.mark.parametrize("alive", ALIVE)
@pytest.mark.parametrize("m, k, n", ((32, 784, 128), (16, 100, 70), (128, 65, 33), (17, 300, 401), (64, 64, 17)))
def test_dead_units_gradients_have_the_dense_products_bits(m, k, n, alive, live_share, threads):
    """dw^T's rows of dead units hold no terms: all +0, stored as zeros, the rows of the live ones
    value by value where few are alive (gemm/sparse_a.cpp, store_scattered). The bits stay the GEMM's, and
    the product skips zeros even on a small batch, whose transposed store would otherwise cost more
    than the skipped terms save. Live units with nearly every sample's term (a trained network's
    keep 97-100%) run as full groups, zeros included (full_group_block)."""
    rng = np.random.default_rng(m + k + n + len(alive))
    x = rng.standard_normal((m, k)).astype(np.float32)
    w = rng.standard_normal((k, n)).astype(np.float32)
    dz = dead_units(rng, m, n, [u % n for u in ALIVE[alive]], live_share)
    density = float(np.mean(dz != 0))
    with num_threads(threads):
        dw_skips = weight_gradient_skips(dz, m, k, n, density)
    full_before = _core.full_groups_run()
    _, dw, ran = backward_against_gemm(x, w, dz, threads)
    full = _core.full_groups_run() - full_before
    dead = ~(dz != 0).any(axis=0)
    assert np.all(dw[:, dead] == 0) and not np.signbit(dw[:, dead]).any()
    x64, w64, dz64 = (a.astype(np.float64) for a in (x, w, dz))
    _, want_dw, _ = ref.dense_backward(x64, w64, dz64, dz64, "linear")
    assert_within(dw, want_dw, 2 * m * np.finfo(np.float32).eps * (np.abs(x64).T @ np.abs(dz64)), "dw")
    dx_skips = KERNEL and not dx_as_transpose(m, k, n) and m >= 16 and n >= 16 and k >= 64
    if density <= 0.2:  # far from every level's limit (0.4 to 0.65), which a sampled density decides
        assert ran == int(dx_skips) + int(dw_skips)
        # dx's rows (samples) hold a term for at most the live units: never nearly full here
        assert (full > 0) == (dw_skips and live_share >= FULL_SHARE and bool(ALIVE[alive]))
    if KERNEL and (m, k, n) == (32, 784, 128) and len(ALIVE[alive]) <= 12:  # the 784-128-10 MLP's first layer
        assert dw_skips


# Rows of A by their share of nonzeros, repeating (exactly round(share * k) nonzeros each): a group
# of rows whose longest list holds at least FULL_SHARE of its k terms runs with all k, its zeros as
# terms +0 * B's row (gemm/sparse_a.cpp: pad_group, full_group_block). "mixed" sorts rows of every
# kind into one group at the boundary; "below the share" never runs full.
FULL_SHARE = 0.875
ROW_SHARES = {"nearly full": (0.95, 0, 0, 0, 0, 0), "full": (1.0, 0, 0, 0, 0, 0),
              "mixed": (0.95, 0.5, 0.05, 0, 0, 0, 0, 0, 0), "below the share": (0.85, 0, 0, 0, 0)}


def rows_by_share(rng, m, k, shares):
    a = np.zeros((m, k), np.float32)
    for i in range(m):
        nonzero = rng.choice(k, int(round(shares[i % len(shares)] * k)), replace=False)
        a[i, nonzero] = rng.standard_normal(nonzero.size)
    a[(a == 0) & (rng.random((m, k)) < 1 / 3)] = -0.0
    return a


def sampled_density(a):
    """gemm/sparse_a.cpp's estimate of a row-major A's share of nonzeros: 8 rows, rows // 8 apart."""
    return float(np.mean(a[:: max(1, a.shape[0] // 8)][:8] != 0))


@pytest.mark.parametrize("threads", (1, 2))
@pytest.mark.parametrize("shares", ROW_SHARES)
@pytest.mark.parametrize("m, k, n", ((16, 16, 64), (17, 65, 65), (65, 17, 100), (256, 256, 256), (33, 1000, 70),
                                     (64, 64, 63), (200, 120, 300)))
def test_nearly_full_rows_run_full_with_the_dense_products_bits(m, k, n, shares, threads):
    rng = np.random.default_rng(m * 5 + k * 3 + n + len(ROW_SHARES[shares]))
    x = rows_by_share(rng, m, k, ROW_SHARES[shares])
    w = rng.standard_normal((k, n)).astype(np.float32)
    b = rng.standard_normal(n).astype(np.float32)
    with num_threads(threads):
        z = nf.ops.gemm(x, w)
        before, full_before = _core.sparse_products_run(), _core.full_groups_run()
        for activation in ("linear", "relu", "leaky_relu"):
            assert_same_bits(nf.ops.dense_forward(x, w, b, activation), epilogue(z, b, activation), activation)
        ran, full = _core.sparse_products_run() - before, _core.full_groups_run() - full_before
    if KERNEL and m >= 16 and k >= 16 and n >= 64 and sampled_density(x) <= 0.3:  # below every limit
        assert ran == 3
    nearly_full = bool(((x != 0).sum(axis=1) >= FULL_SHARE * k).any())
    assert (full > 0) == (ran > 0 and nearly_full)


@pytest.mark.parametrize("threads", (1, 2))
@pytest.mark.parametrize("column", (5, 250))  # in the first or the second thread's half of w's columns
def test_a_non_finite_weight_where_dz_is_zero_keeps_the_dense_input_gradient(column, threads):
    # dx = dz w^T packs w's columns as B's rows, each thread those of its half
    rng = np.random.default_rng(6)
    dz = sparse_input(rng, (256, 256), 0.3, np.float32)
    dz[:, column] = 0  # every row skips that term: only the dense product makes the NaNs
    x = rng.standard_normal((256, 100)).astype(np.float32)
    w = rng.standard_normal((100, 256)).astype(np.float32)
    w[17, column] = np.inf
    dx, _, ran = backward_against_gemm(x, w, dz, threads)
    assert ran == (1 if KERNEL else 0)  # dw skipped dz's zeros; dx did not
    assert np.isnan(dx[:, 17]).all()


@pytest.mark.parametrize("threads", (1, 2))
@pytest.mark.parametrize("row, column", ((5, 33), (-3, 80)))  # in the first or the second thread's share
@pytest.mark.parametrize("batch, units", ((64, 90), (256, 90), (256, 401)))
def test_a_non_finite_input_where_dz_is_zero_keeps_the_dense_weight_gradient(batch, units, row, column, threads):
    # dw = (dz^T x)^T takes x as B. With up to 384 units (AVX-512; 192 at AVX2) dw is stored a panel
    # of 32 of x's columns at a time and each thread takes its own panels (columns 0-63 and 64-99
    # here; the last, ragged, runs as columns 68-99): a batch of 64 is read in place and scanned,
    # one of 256 packed. With more units each thread packs its half of x's rows (the batch); dx
    # skips dz's zeros in all three (a batch of 64 with 401 units would take dx as w dz^T).
    rng = np.random.default_rng(7)
    dz = sparse_input(rng, (batch, units), 0.3, np.float32)
    dz[row] = 0
    x = rng.standard_normal((batch, 100)).astype(np.float32)
    x[row, column] = -np.inf
    w = rng.standard_normal((100, units)).astype(np.float32)
    _, dw, ran = backward_against_gemm(x, w, dz, threads)
    assert ran == (1 if KERNEL else 0)  # dx skipped dz's zeros; dw did not
    assert np.isnan(dw[column]).all()
    assert not np.isnan(np.delete(dw, column, axis=0)).any()


@pytest.mark.parametrize("threads", (1, 2))
def test_gradients_skipping_relus_zeros_match_the_reference_within_the_sums_bound(threads):
    # a relu layer: about half of dz is zero, so dx and dw skip them (where the CPU's limit allows)
    rng = np.random.default_rng(8)
    x = rng.standard_normal((300, 200)).astype(np.float32)
    w = rng.standard_normal((200, 130)).astype(np.float32)
    b = rng.standard_normal(130).astype(np.float32)
    dy = sparse_input(rng, (300, 130), 0.6, np.float32)  # with relu: about 30% of dz nonzero
    with num_threads(threads):
        y = nf.ops.dense_forward(x, w, b, "relu")
        before = _core.sparse_products_run()
        dx, dw, db = nf.ops.dense_backward(x, w, y, dy, "relu")
        ran = _core.sparse_products_run() - before
    assert ran == (2 if KERNEL else 0)
    x64, w64, y64, dy64 = (a.astype(np.float64) for a in (x, w, y, dy))
    want_dx, want_dw, want_db = ref.dense_backward(x64, w64, y64, dy64, "relu")
    dz = np.abs(np.where(y64 > 0, dy64, 0))
    eps = np.finfo(np.float32).eps
    assert_within(dx, want_dx, 2 * 130 * eps * (dz @ np.abs(w64).T), "dx")
    assert_within(dw, want_dw, 2 * 300 * eps * (np.abs(x64).T @ dz), "dw")
    assert_within(db, want_db, 2 * 300 * eps * dz.sum(0), "db")


@pytest.mark.parametrize("activation", ("linear", "relu", "sigmoid", "tanh", "softmax"))
def test_matches_the_reference_within_the_sums_bound(activation):
    rng = np.random.default_rng(5)
    x = np.maximum(sparse_input(rng, (300, 200), 0.6, np.float32), 0)  # relu'd: about 30% nonzeros
    w = rng.standard_normal((200, 130)).astype(np.float32)
    b = rng.standard_normal(130).astype(np.float32)
    got = nf.ops.dense_forward(x, w, b, activation)
    want = ref.dense_forward(x.astype(np.float64), w.astype(np.float64), b.astype(np.float64), activation)
    bound = 2 * 200 * np.finfo(np.float32).eps * (np.abs(x) @ np.abs(w) + np.abs(b)).astype(np.float64)
    assert_within(got, want, bound if activation in ("linear", "relu") else bound + 1e-6, activation)


def test_non_finite_weights_keep_the_dense_product():
    rng = np.random.default_rng(1)
    x = sparse_input(rng, (64, 64), 0.1, np.float32)
    w = rng.standard_normal((64, 96)).astype(np.float32)
    zero_rows = np.flatnonzero((x == 0).any(axis=0))
    w[zero_rows[0], 3] = np.inf  # 0 * inf is NaN in the dense product
    w[zero_rows[1], 70] = np.nan
    before = _core.sparse_products_run()
    y = nf.ops.dense_forward(x, w, None, "linear")
    assert _core.sparse_products_run() == before
    assert_same_bits(y, nf.ops.gemm(x, w))
    assert np.isnan(y[:, 3]).any() and np.isnan(y[:, 70]).all()


@pytest.mark.parametrize("threads", (1, 2))
@pytest.mark.parametrize("row", (5, 200))  # in the first or the second thread's half of B's rows
def test_a_non_finite_weight_in_either_packing_half_keeps_the_dense_product(row, threads):
    # 256 x 256 weights are packed by two threads, each B's rows of its half: the one that finds
    # the infinity must stop the zero-skipping product whichever half it packs
    rng = np.random.default_rng(2)
    x = sparse_input(rng, (64, 256), 0.3, np.float32)
    x[:, row] = 0  # every row of A skips that term: only the dense product makes its NaNs
    w = rng.standard_normal((256, 256)).astype(np.float32)
    w[row, 17] = np.inf
    with num_threads(threads):
        before = _core.sparse_products_run()
        y = nf.ops.dense_forward(x, w, None, "linear")
        assert _core.sparse_products_run() == before
        assert_same_bits(y, nf.ops.gemm(x, w))
    assert np.isnan(y[:, 17]).all()


def test_nan_and_infinite_inputs_are_terms():
    rng = np.random.default_rng(2)
    x = sparse_input(rng, (64, 128), 0.2, np.float32)
    x[5, 7], x[9, 100], x[20, 0] = np.nan, np.inf, -np.inf
    w = rng.standard_normal((128, 64)).astype(np.float32)
    before = _core.sparse_products_run()
    y = nf.ops.dense_forward(x, w, None, "relu")
    assert _core.sparse_products_run() == before + (1 if KERNEL else 0)
    assert_same_bits(y, epilogue(nf.ops.gemm(x, w), np.float32(0), "relu"))
    assert np.isnan(y[5]).all()
    # the weight gradient reads x transposed (its columns are the kernel's rows)
    dy = rng.standard_normal(y.shape).astype(np.float32)
    before = _core.sparse_products_run()
    _, dw, _ = nf.ops.dense_backward(x, w, np.zeros_like(y), dy, "linear")
    assert _core.sparse_products_run() == before + (1 if KERNEL else 0)
    assert_same_bits(dw, nf.ops.gemm(x, dy, True, False))
    assert not np.isfinite(dw[[7, 100, 0]]).any()  # rows of the nan and the infinities


@pytest.mark.parametrize("flush", (False, True))
def test_subnormal_inputs_follow_the_floating_point_mode(flush):
    """Under flushing a subnormal input counts as zero (and is skipped), as the multiply-add treats
    it; without, it is a term. Either way the dense product's bits."""
    rng = np.random.default_rng(3)
    x = sparse_input(rng, (64, 96), 0.2, np.float32)
    x[rng.random(x.shape) < 0.1] = np.float32(1e-40)
    w = (rng.standard_normal((96, 80)) * 1e3).astype(np.float32)
    was = nf.get_flush_denormal()
    nf.set_flush_denormal(flush)
    try:
        y = nf.ops.dense_forward(x, w, None, "linear")
        assert_same_bits(y, nf.ops.gemm(x, w))
        _, dw, _ = nf.ops.dense_backward(x, w, y, y, "linear")  # x read transposed
        assert_same_bits(dw, nf.ops.gemm(x, y, True, False))
    finally:
        nf.set_flush_denormal(was)


CHILD = """
import json, sys
import numpy as np
import nnfast as nf
from nnfast import _core
out = {}
rng = np.random.default_rng(4)
for dtype in ("float32", "float64"):
    for threads in (1, 2):
        nf.set_num_threads(threads)
        x = rng.standard_normal((200, 150)).astype(dtype)
        x[rng.random(x.shape) < 0.7] = 0
        w = rng.standard_normal((150, 90)).astype(dtype)
        b = rng.standard_normal(90).astype(dtype)
        dy = rng.standard_normal((200, 90)).astype(dtype)
        for act in ("linear", "relu", "leaky_relu", "sigmoid", "tanh", "softmax"):
            tag = f"{dtype}-{threads}-{act}"
            y = out["y-" + tag] = nf.ops.dense_forward(x, w, b, act)
            dx, dw, db = nf.ops.dense_backward(x, w, y, dy, act)
            out["dx-" + tag], out["dw-" + tag], out["db-" + tag] = dx, dw, db
        # an output gradient that is mostly zeros: dx and dw skip its zeros
        dz = dy * (rng.random(dy.shape) < 0.2)
        dx, dw, db = nf.ops.dense_backward(rng.standard_normal((200, 150)).astype(dtype), w, dz, dz, "linear")
        out[f"dz-dx-{dtype}-{threads}"], out[f"dz-dw-{dtype}-{threads}"] = dx, dw
# a model as issue 12's tabular one, trained with the native step: Dense, BatchNormalization,
# ReLU and Dropout blocks feed each next Dense a mostly-zero input
import nnfast.keras as keras
for threads in (1, 2):
    nf.set_num_threads(threads)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((40,))] + [layer for _ in range(2) for layer in (
        keras.layers.Dense(96), keras.layers.BatchNormalization(), keras.layers.ReLU(),
        keras.layers.Dropout(0.3))] + [keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    data = np.random.default_rng(5)
    xs = data.standard_normal((512, 40)).astype("float32")
    ys = (xs[:, 0] > 0).astype("float32")
    history = model.fit(xs, ys, batch_size=64, epochs=2, shuffle=False, verbose=0).history["loss"]
    out[f"loss-{threads}"] = np.array(history)
    for i, weight in enumerate(model.get_weights()):
        out[f"model-{threads}-{i}"] = weight
np.savez(sys.argv[1], **out)
print(json.dumps({"sparse_products": _core.sparse_products_run(), "config": nf.config()["sparse_inputs"]}))
"""


def run_child(path, value):
    r = run_python(["-c", CHILD, str(path)], NNFAST_SPARSE_INPUTS=value)
    assert r.returncode == 0, r.stderr[-3000:]
    with np.load(path) as data:
        return {k: data[k] for k in data.files}, json.loads(r.stdout.splitlines()[-1])


@pytest.mark.parametrize("value", ("1", "registers", "loads"))
def test_turning_the_kernel_off_changes_no_bit(tmp_path, value):
    """On in this CPU's way (1) or in either way of taking the terms' entries, against off."""
    on, on_info = run_child(tmp_path / "on.npz", value)
    off, off_info = run_child(tmp_path / "off.npz", "0")
    assert on_info["config"] is True and off_info["config"] is False
    assert off_info["sparse_products"] == 0
    if KERNEL:  # the layers, dw and the model's hidden Dense layers all ran it
        assert on_info["sparse_products"] >= 2 * 6 * 2 + 2 * 2 * 8
    assert on.keys() == off.keys()
    for key in on:
        assert_same_bits(on[key], off[key], key)


@pytest.mark.parametrize("value", ("2", "off", " 0", "load", "Registers"))
def test_a_bad_setting_fails_the_import_naming_it(value):
    r = run_python(["-c", "import nnfast"], NNFAST_SPARSE_INPUTS=value)
    assert r.returncode != 0
    assert (f"NNFAST_SPARSE_INPUTS='{value}' must be 0 (off), 1 (on, the default), or registers or loads (on, "
            "taking the terms' entries that way)") in r.stderr


def test_the_way_of_taking_terms_follows_the_cpu():
    """Registers on AMD (its loop is bound by loads), loads elsewhere (Intel's shuffles share a
    port with its multiply-adds); NNFAST_SPARSE_INPUTS=registers or loads forces one."""
    vendor = cpu_vendor()
    if "NNFAST_SPARSE_INPUTS" in os.environ or vendor not in ("AuthenticAMD", "GenuineIntel"):
        pytest.skip(f"a forced setting or a CPU vendor ({vendor!r}) unknown to this test")
    assert CONFIG["sparse_terms"] == ("registers" if vendor == "AuthenticAMD" else "loads")
    for value in ("registers", "loads"):
        r = run_python(["-c", "import nnfast; print(nnfast.config()['sparse_terms'])"], NNFAST_SPARSE_INPUTS=value)
        assert r.returncode == 0 and r.stdout.split() == [value], r.stderr


@pytest.mark.skipif(CONFIG["isa"] != "avx512" or "NNFAST_SPARSE_INPUTS" in os.environ,
                    reason="the two ways differ at the avx512 level only; or already forced")
def test_these_tests_pass_with_the_other_way_of_taking_terms():
    other = "registers" if CONFIG["sparse_terms"] == "loads" else "loads"
    r = run_python(["-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "-W", "error", __file__],
                   NNFAST_SPARSE_INPUTS=other)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    assert " passed" in r.stdout.splitlines()[-1]
