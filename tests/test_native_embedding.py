"""The native embedding gradient (nnfast.ops.embedding_backward) against nnfast.reference, with 1
and 2 threads, and its refusals (every one before anything is written).

tests/test_isa_levels.py re-runs this file under every ISA level the machine supports.
"""
import numpy as np
import pytest

import nnfast as nf
from nnfast import reference as ref

from conftest import DTYPES, assert_same_bits, on_both_thread_counts

# (n looked-up rows, table rows, columns): awkward column counts around the SIMD widths, tables
# larger and smaller than the batch, and one large enough to split over threads
SHAPES = [(0, 5, 3), (1, 1, 1), (7, 3, 9), (17, 65, 8), (65, 7, 17), (1000, 50, 16), (9, 1000, 65),
          (4096, 300, 70)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_sums_equal_the_reference_bits(rng, dtype, shape):
    n, rows, cols = shape
    dy = (3 * rng.standard_normal((n, cols))).astype(dtype)
    indices = rng.integers(0, rows, n)
    if n > 3:
        indices[:3] = rows - 1  # repeats: their order of summation matters to the last bit
    out = np.full((rows, cols), np.nan, dtype)  # every element written, untouched rows to 0
    (dw,) = on_both_thread_counts(lambda: (nf.ops.embedding_backward(dy, indices, rows, out=out).copy(),))
    assert_same_bits(dw, ref.embedding_backward(dy, indices, rows))
    unused = np.setdiff1d(np.arange(rows), indices)
    assert not dw[unused].any()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(2560, 5000, 32), (3000, 7, 65), (500, 2, 1000)], ids=str)
def test_skewed_indices_split_over_rows_keep_the_bits(rng, dtype, shape):
    # threads own rows of dw: a padding-heavy batch (most indices 0) leaves one thread most of the adds,
    # and a table of fewer rows than threads leaves one thread none
    n, rows, cols = shape
    dy = (3 * rng.standard_normal((n, cols))).astype(dtype)
    indices = np.where(rng.random(n) < 0.8, 0, rng.integers(0, rows, n))
    (dw,) = on_both_thread_counts(lambda: (nf.ops.embedding_backward(dy, indices, rows),))
    assert_same_bits(dw, ref.embedding_backward(dy, indices, rows))


def test_any_integer_dtype_of_indices_is_taken(rng):
    dy = rng.standard_normal((6, 4)).astype(np.float32)
    indices = np.array([0, 2, 2, 1, 0, 3])
    for dtype in (np.int8, np.uint16, np.int32, np.uint64):
        assert_same_bits(nf.ops.embedding_backward(dy, indices.astype(dtype), 4),
                         ref.embedding_backward(dy, indices, 4))


def test_bad_input_is_refused_before_anything_is_written(rng):
    dy = rng.standard_normal((4, 3)).astype(np.float32)
    good = np.array([0, 1, 2, 1])
    out = np.full((3, 3), 7.0, np.float32)
    cases = [((dy, np.array([0, 1, 3, 1]), 3), ValueError, r"indices must be in \[0, 3\), got 3 at position 2"),
             ((dy, np.array([0, -1, 2, 1]), 3), ValueError, "indices must be in"),
             ((dy, good[:3], 3), ValueError, r"indices must have shape \(4,\)"),
             ((dy, good.astype(np.float32), 3), TypeError, "indices must be a numpy.ndarray of integers"),
             ((dy, good, -1), ValueError, "rows"),
             ((dy[0], good, 3), ValueError, "dy must be 2-D"),
             ((dy.astype(np.float16), good, 3), TypeError, "dy")]
    for args, error, match in cases:
        with pytest.raises(error, match=match):
            nf.ops.embedding_backward(*args, out=out)
        assert (out == 7.0).all()
    with pytest.raises(ValueError, match="out"):
        nf.ops.embedding_backward(dy, good, 3, out=np.zeros((4, 3), np.float32))
    with pytest.raises(TypeError, match="out"):
        nf.ops.embedding_backward(dy, good, 3, out=np.zeros((3, 3), np.float64))
    before = dy.copy()
    with pytest.raises(ValueError, match="out"):
        nf.ops.embedding_backward(dy, good, 4, out=dy)  # the result would overwrite its input
    assert_same_bits(dy, before)
