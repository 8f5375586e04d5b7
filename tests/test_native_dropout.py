"""Native dropout kernels against nnfast.reference, with 1 and 2 threads.

tests/test_isa_levels.py re-runs this file under every ISA level the machine supports.
"""
import numpy as np
import pytest

import nnfast as nf
from nnfast import reference as ref

from conftest import DTYPES, SIZES, assert_same_bits, on_both_thread_counts

SHAPES = [(n,) for n in SIZES] + [(3, 17), (65, 9), (1000, 70)]
# 1 - 2^-40 is above 1 - 2^-32: its threshold saturates at 2^32 - 1 in both backends
RATES = (0.0, 0.3, 0.9, 1 - 2**-40)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("rate", RATES)
def test_forward_draws_the_reference_mask_and_values(rng, dtype, shape, rate):
    # values of both signs, zeros and a NaN: the plain layer keeps every kept element's gate at 1
    x = (3 * rng.standard_normal(shape)).astype(dtype)
    if x.size > 2:
        x.flat[1], x.flat[2] = 0, np.nan
    y, mask = on_both_thread_counts(lambda: nf.ops.dropout_forward(x, rate, 2**64 - 7))
    y_ref, mask_ref = ref.dropout_forward(x, rate, 2**64 - 7)
    assert mask.dtype == np.uint8 and set(np.unique(mask)) <= {0, 1}
    np.testing.assert_array_equal(mask, mask_ref)
    assert_same_bits(y, y_ref)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_backward_passes_where_any_mask_value_is_non_zero(rng, dtype, shape):
    """The plain layer's mask is any uint8 array: every non-zero value keeps (the fused batch-norm
    tails' gate 2 has no meaning here)."""
    dy = (3 * rng.standard_normal(shape)).astype(dtype)
    mask = rng.choice(np.array([0, 1, 2, 7, 255], np.uint8), size=shape)
    (dx,) = on_both_thread_counts(lambda: (nf.ops.dropout_backward(dy, mask, 0.3),))
    assert_same_bits(dx, ref.dropout_backward(dy, mask, 0.3))
