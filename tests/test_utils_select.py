"""nnfast.utils.select.select: np.where without a branch per element, to the last bit."""
import numpy as np
import pytest

from nnfast.utils import subnormals
from nnfast.utils.select import select

SHAPES = [(0,), (1,), (7,), (1000,), (1025,), (70001,), (256, 128), (2000, 1)]


def hostile(rng, shape, dtype):
    """Random values with NaNs of several payloads, infinities, signed zeros and subnormals."""
    a = rng.standard_normal(shape).astype(dtype)
    flat = a.reshape(-1)
    bits = flat.view(np.uint32 if dtype == np.float32 else np.uint64)
    specials = [np.nan, -np.inf, np.inf, -0.0, 0.0, np.finfo(dtype).tiny / 4]
    for i, v in enumerate(specials[:flat.size]):
        flat[i * 7 % flat.size] = v
    if flat.size > 50:
        bits[49] |= 0x7F800001 if dtype == np.float32 else 0x7FF0000000000001  # a signalling-NaN payload
    return a


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_select_equals_np_where_bit_for_bit(rng, shape, dtype):
    x, y = hostile(rng, shape, dtype), hostile(rng, shape, dtype)
    condition = rng.random(shape) < 0.5
    for args in [(condition, x, y), (condition, dtype(1.5), y), (condition, x, dtype(-0.0)),
                 (condition, dtype(1.0), dtype(2.0)), (condition, x, y[:1] if y.ndim == 1 and y.size else y)]:
        got, want = select(*args), np.where(*args)
        assert got.dtype == want.dtype and got.shape == want.shape
        assert got.tobytes() == want.tobytes()


def test_select_broadcasts_a_column_against_a_matrix(rng):
    x = rng.standard_normal((1500, 3)).astype(np.float32)
    y = rng.standard_normal((1500, 1)).astype(np.float32)
    condition = x > 0
    assert select(condition, x, y).tobytes() == np.where(condition, x, y).tobytes()


@pytest.mark.parametrize("args", [
    lambda c, x: (c, x, 0.5),                                  # a Python scalar: NumPy's conversion rules
    lambda c, x: (c, x, x.astype(np.float64)),                 # mixed dtypes promote
    lambda c, x: (c, x.view(subnormals.Flushed), x),           # a subclass keeps its type
    lambda c, x: (c.astype(np.int8), x, -x),                   # a non-boolean condition
    lambda c, x: (c, x.astype(np.int32), x.astype(np.int32)),  # not a float
], ids=["python-scalar", "mixed-dtypes", "subclass", "int-condition", "int-operands"])
def test_other_operands_get_np_where_itself(rng, args):
    x = rng.standard_normal(4096).astype(np.float32)
    call = args(x > 0, x)
    got, want = select(*call), np.where(*call)
    assert type(got) is type(want) and got.dtype == want.dtype and got.tobytes() == want.tobytes()
