"""np.where without its per-element branch, for the element-wise formulas of the Python layers."""
import numpy as np

_BITS = {np.dtype(np.float32): np.uint32, np.dtype(np.float64): np.uint64}
_SMALL = 1024  # elements below which np.where's one call is cheaper than the five here


def select(condition, x, y):
    """np.where(condition, x, y), bit for bit.

    NumPy's where branches per element, which a mask of random signs (a relu's, an elu's)
    mispredicts half the time: 39 us for 32768 float32 on Zen 5, against 13 us for this form, the
    bits of y with those of x where the condition holds (y ^ ((x ^ y) & mask)). It applies to a
    boolean array condition and operands that are plain arrays or NumPy scalars of one float
    dtype; anything else (subclasses, mixed dtypes, Python scalars) goes to np.where."""
    if type(condition) is not np.ndarray or condition.dtype != np.bool_ or condition.size < _SMALL:
        return np.where(condition, x, y)
    operands = (x, y)
    if not all(type(a) is np.ndarray or isinstance(a, np.generic) for a in operands):
        return np.where(condition, x, y)
    dtype = x.dtype
    bits = _BITS.get(dtype)
    if bits is None or y.dtype != dtype:
        return np.where(condition, x, y)
    xb, yb = (np.asarray(a).view(bits) for a in operands)
    mask = condition.astype(bits)
    np.negative(mask, out=mask)  # 1 -> all ones (unsigned negation wraps), 0 -> 0
    out = np.empty(np.broadcast_shapes(condition.shape, xb.shape, yb.shape), bits)
    np.bitwise_xor(xb, yb, out=out)
    np.bitwise_and(out, mask, out=out)
    np.bitwise_xor(out, yb, out=out)
    return out.view(dtype)
