"""A fused multiply-add in NumPy: ``a*b + c`` rounded once, as the kernels' ``std::fma``.

NumPy has no fma ufunc, and computing ``a*b + c`` in a wider type rounds twice. The reference needs
the kernels' exact bits where they mirror PyTorch's vectorized arithmetic (``lerp_`` is one fused
multiply-add on every CPU ATen vectorizes for), so :func:`fma` computes the correctly rounded result:

* float32: the product is exact in float64; the float64 sum is rounded to odd (its last bit set
  when inexact), and rounding that to float32 is then correct (53 >= 24 + 2 bits);
* float64: Boldo and Melquiond's emulation ("Emulation of a FMA and correctly rounded sums: proved
  algorithms using rounding to odd", IEEE Trans. Computers, 2008): an exact product (Dekker's
  split), an exact sum with c, the two low parts added with rounding to odd, one final rounding.
  Elements where the split could overflow or underflow are computed exactly with fractions.

With the reference's flushing on (:mod:`nnfast.utils.subnormals`), the operands are read with DAZ
and a result below the smallest normal is flushed as x86's FTZ does (tininess after rounding).
"""
import math
from fractions import Fraction

import numpy as np

from . import subnormals

__all__ = ["fma"]

_SPLIT = 134217729.0  # 2**27 + 1: Veltkamp's splitter for float64
# Dekker's product is exact while the split neither overflows nor underflows: both factors within
# these magnitudes (zero aside), and their product not below _PRODUCT_MIN.
_FACTOR_MAX = 2.0 ** 500
_PRODUCT_MIN = 2.0 ** -900


def _two_sum(a, b):
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _round_to_odd(s, err):
    """s (a float64 sum rounded to nearest, err its exact error) rounded to odd instead."""
    bits = s.view(np.int64)
    bump = (err != 0) & np.isfinite(err) & ((bits & 1) == 0)
    if not bump.any():
        return s
    toward = np.where(err > 0, np.inf, -np.inf)
    return np.where(bump, np.nextafter(s, toward), s)


def _fma32(a, b, c):
    p = a.astype(np.float64) * b.astype(np.float64)  # exact: 24 + 24 bits
    s, err = _two_sum(p, c.astype(np.float64))
    return _round_to_odd(s, err).astype(np.float32)


def _split(a):
    t = _SPLIT * a
    hi = t - (t - a)
    return hi, a - hi


def _dekker_fma(a, b, c):
    """(RN(a*b + c), RO(a*b + c)) by Boldo and Melquiond's emulation: exact where the split
    neither overflows nor underflows (factors within _FACTOR_MAX, product above _PRODUCT_MIN)."""
    p = a * b
    ah, al = _split(a)
    bh, bl = _split(b)
    e = ((ah * bh - p) + ah * bl + al * bh) + al * bl  # a*b == p + e exactly
    th, tl = _two_sum(c, p)
    v, verr = _two_sum(tl, e)
    v = _round_to_odd(v, verr)
    z, zerr = _two_sum(th, v)
    return z, _round_to_odd(z, zerr)


def _tiny_products(a, b, c):
    """a*b + c where the product of nonzero factors is below _PRODUCT_MIN (flushing or gradual
    underflow territory), vectorized: the smaller factor is scaled up by 2**600 (exactly), the fma
    emulated there, and its result rounded back to the subnormal grid or scaled down. The top
    binade of subnormals, where rounding to odd at 53 bits is one bit short, goes to fractions."""
    r = c.copy()  # |c| >= 2**-800: the product is below half an ulp of c, so the sum rounds to c
    small = np.abs(c) < 2.0 ** -800
    if not small.any():
        return r
    sa, sb, sc = a[small], b[small], c[small]
    swap = np.abs(sa) > np.abs(sb)
    x, y = np.where(swap, sb, sa) * 2.0 ** 600, np.where(swap, sa, sb)
    cs = sc * 2.0 ** 600
    out = sc.copy()
    negligible = np.abs(x * y) < _PRODUCT_MIN  # |a*b| < 2**-1500: rounds to c, or to a signed 0
    out[negligible & (sc == 0)] = np.copysign(0.0, sa * sb)[negligible & (sc == 0)]
    live = ~negligible
    z_rn, z_odd = _dekker_fma(x[live], y[live], cs[live])
    mag = np.abs(z_odd)
    res = z_rn * 2.0 ** -600  # a normal result: the scaling back is exact
    below = mag < 2.0 ** -423  # subnormal with at most 51 bits: round the odd value to the grid
    grid = 1.5 * 2.0 ** -422  # its ulp is the subnormal quantum, scaled
    on_grid = ((z_odd + grid) - grid) * 2.0 ** -600
    res = np.where(below, np.copysign(on_grid, z_odd), res)
    top = (mag >= 2.0 ** -423) & (mag < 2.0 ** -422)
    if top.any():
        la, lb, lc = sa[live], sb[live], sc[live]
        for i in np.flatnonzero(top):
            res[i] = _exact(float(la[i]), float(lb[i]), float(lc[i]))
    out[live] = res
    r[small] = out
    return r


def _fma64(a, b, c):
    r, _ = _dekker_fma(a, b, c)
    p = a * b
    finite = np.isfinite(a) & np.isfinite(b) & np.isfinite(c)
    big = ((np.abs(a) > _FACTOR_MAX) | (np.abs(b) > _FACTOR_MAX) | (np.abs(c) > _FACTOR_MAX)) & finite
    tiny = (np.abs(p) < _PRODUCT_MIN) & (a != 0) & (b != 0) & finite & ~big  # 0 by underflow too
    # An exact zero takes IEEE's sign for a*b + c; a*b is exact there (it is -c, or a zero factor's)
    zero = (r == 0) & ~big & ~tiny & finite
    if zero.any():
        r = np.where(zero, p + c, r)
    if tiny.any():
        r = np.array(r, copy=True)
        r[tiny] = _tiny_products(a[tiny], b[tiny], c[tiny])
    if big.any():
        r = np.array(r, copy=True)
        for i in np.flatnonzero(big):
            r[i] = _exact(float(a[i]), float(b[i]), float(c[i]))
    plain = ~finite  # inf and NaN follow IEEE's a*b + c
    if plain.any():
        r = np.where(plain, p + c, r)
    return r


def _exact(a, b, c):
    value = Fraction(a) * Fraction(b) + Fraction(c)
    if value == 0:  # the sign of an exact zero: IEEE's rule for a*b + c in round-to-nearest
        return (a * b) + c
    try:
        return math.copysign(float(value), -1.0 if value < 0 else 1.0)  # rounding to 0 keeps the sign
    except OverflowError:
        return float("inf") if value > 0 else float("-inf")


def _plain_fma(a, b, c):
    return _fma32(a, b, c) if a.dtype == np.float32 else _fma64(a, b, c)


def fma(a, b, c):
    """a*b + c elementwise with one rounding, for float32 or float64 arrays (or a Python scalar
    among them, converted to their dtype as the kernels convert a hyperparameter). A NumPy scalar
    counts as an array: arithmetic on 0-d arrays (a parameter of shape ()) gives those."""
    arrays = [x for x in (a, b, c) if isinstance(x, (np.ndarray, np.generic))]
    dtype = np.result_type(*arrays)
    if dtype not in (np.float32, np.float64):
        raise TypeError(f"fma: float32 or float64 arrays expected, got {dtype}")
    flushing = subnormals.enabled()
    ops = [np.asarray(x.view(np.ndarray) if isinstance(x, np.ndarray) else x, dtype=dtype) for x in (a, b, c)]
    if flushing:
        ops = [subnormals.daz(x) for x in ops]
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):  # IEEE's results, as the kernels
        return _fused(ops, dtype, flushing, (a, b, c))


def _fused(ops, dtype, flushing, originals):
    """fma on the prepared operands (the caller holds NumPy's error state)."""
    shape = np.broadcast_shapes(*(x.shape for x in ops))
    ops = [np.broadcast_to(x, shape).ravel() for x in ops]  # 1-D: the fraction fallback indexes them
    r = np.array(_plain_fma(*ops), dtype=dtype, copy=True)
    if flushing:
        scale = dtype.type(subnormals.SCALE)
        r = subnormals.ftz(r, lambda: _plain_fma(ops[0] * scale, ops[1], ops[2] * scale))
    r = r.reshape(shape)
    if flushing and any(isinstance(x, subnormals.Flushed) for x in originals):
        return r.view(subnormals.Flushed)
    return r
