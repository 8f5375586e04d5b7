"""nnfast.utils.fused.fma, the reference's fused multiply-add, against exact rational arithmetic:
float32 and float64, cancellation, products that underflow or reach the subnormal range, huge
factors, signed zeros, infinities and NaN; and its flush-to-zero semantics."""
import math
from fractions import Fraction

import numpy as np
import pytest

import nnfast as nf
from nnfast.utils import fused

TINY64 = np.finfo(np.float64).tiny


def exact(a, b, c, dtype):
    """round(a*b + c) to dtype, with IEEE's sign for a zero and ties to even (via Fraction)."""
    a, b, c = float(a), float(b), float(c)
    if not (math.isfinite(a) and math.isfinite(b) and math.isfinite(c)):
        return dtype(np.float64(a) * np.float64(b) + np.float64(c)) if dtype == np.float64 else \
            np.float32(np.float64(a) * np.float64(b) + np.float64(c))
    v = Fraction(a) * Fraction(b) + Fraction(c)
    if v == 0:
        return dtype(a * b + c)
    info = np.finfo(dtype)
    # the overflow threshold: the largest finite value plus half its ulp (rounds to infinity)
    if abs(v) >= Fraction(float(info.max)) + Fraction(float(info.max)) * Fraction(1, 2 ** (info.nmant + 2)):
        return dtype(math.inf if v > 0 else -math.inf)
    if dtype == np.float64:
        return np.float64(math.copysign(float(v), -1.0 if v < 0 else 1.0))
    f = np.float32(float(v))  # at most one float32 step from the nearest: pick the nearest, then even
    near = [q for q in (np.nextafter(f, np.float32(-np.inf)), f, np.nextafter(f, np.float32(np.inf)))
            if np.isfinite(q)]
    best = min(near, key=lambda q: (abs(Fraction(float(q)) - v), int(np.array(q).view(np.int32)) & 1))
    return np.float32(math.copysign(best, -1.0 if v < 0 else 1.0)) if best == 0 else best


def operands(rng, n, dtype):
    if dtype == np.float32:
        tiny = np.finfo(np.float32).tiny
        a = rng.standard_normal(n) * rng.choice([1.0, 1e-20, 1e-30, 1e20], n)
        b = rng.standard_normal(n) * rng.choice([1.0, 1e-20, 1e-19, 1e18], n)
        c = rng.standard_normal(n) * rng.choice([1.0, tiny, 1e-40, 0.0, 1e30], n)
    else:
        a = np.where(rng.uniform(size=n) < 0.4, TINY64 * rng.uniform(0.01, 3.0, n), rng.standard_normal(n))
        a *= rng.choice([1.0, 1e-160, 1e300, -1.0], n)
        b = rng.standard_normal(n) * rng.choice([1.0, 0.1, 1e-160, 1e-150, 1e200], n)
        c = rng.standard_normal(n) * rng.choice([1.0, TINY64, 1e-300, 1e-320, 0.0, -0.0, 1e300], n)
    a, b, c = (x.astype(dtype) for x in (a, b, c))
    cancel = rng.uniform(size=n) < 0.2  # c near -a*b: the sum cancels
    c = np.where(cancel, (-(a.astype(np.float64) * b) * (1 + 1e-7 * rng.standard_normal(n))).astype(dtype), c)
    if dtype == np.float32:  # double rounding's trap: c + a*b a hair below a float32 midpoint, so
        # close that a float64 sum lands on the midpoint (a*b = 1 - m^2 2^-40, c = 2^24 + 2k)
        m = rng.integers(1, 8, n // 4)
        k = rng.integers(0, 1000, n // 4)
        sign = rng.choice([-1.0, 1.0], n // 4)
        a = np.concatenate([a, (sign * (1 + m * 2.0 ** -20)).astype(dtype)])
        b = np.concatenate([b, (1 - m * 2.0 ** -20).astype(dtype)])
        c = np.concatenate([c, (sign * (2.0 ** 24 + 2 * k)).astype(dtype)])
    return a, b, c


@pytest.mark.parametrize("dtype", (np.float32, np.float64))
def test_fma_is_correctly_rounded(rng, dtype):
    with nf.flush_denormal(False), np.errstate(over="ignore", invalid="ignore"):
        a, b, c = operands(rng, 4000, dtype)
        specials = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1.0, -1.0], dtype)
        a = np.concatenate([a, np.repeat(specials, 7)])
        b = np.concatenate([b, np.tile(specials, 7)])
        c = np.concatenate([c, np.tile(specials[::-1], 7)])
        got = fused.fma(a, b, c)
        assert got.dtype == dtype and got.shape == a.shape
        want = np.array([exact(x, y, z, dtype) for x, y, z in zip(a, b, c)], dtype)
        nan = np.isnan(want)
        assert np.array_equal(np.isnan(got), nan)
        bits = np.int64 if dtype == np.float64 else np.int32
        bad = np.flatnonzero(got[~nan].view(bits) != want[~nan].view(bits))
        assert bad.size == 0, [(a[~nan][i], b[~nan][i], c[~nan][i], got[~nan][i], want[~nan][i]) for i in bad[:3]]


def test_fma_broadcasts_scalars_and_keeps_shapes(rng):
    with nf.flush_denormal(False):
        m = rng.standard_normal((3, 4)).astype(np.float32)
        g = rng.standard_normal((3, 4)).astype(np.float32)
        got = fused.fma(0.1, g - m, m)
        want = np.array([exact(np.float32(0.1), d, x, np.float32) for d, x in zip((g - m).ravel(), m.ravel())])
        assert got.shape == (3, 4) and np.array_equal(got.ravel(), want)


@pytest.mark.parametrize("dtype", (np.float32, np.float64))
def test_fma_flushes_as_the_kernels(dtype):
    tiny = np.finfo(dtype).tiny
    with nf.flush_denormal(True):
        # a subnormal operand reads as zero; a result below the smallest normal is a signed zero
        sub = dtype(tiny / 4)
        assert fused.fma(np.array([sub], dtype), np.array([1.0], dtype), np.array([0.0], dtype))[0] == 0
        r = fused.fma(np.array([-tiny], dtype), np.array([0.5], dtype), np.array([0.0], dtype))
        assert r[0] == 0 and np.signbit(r[0])
        # the same values without flushing keep the subnormal
        with nf.flush_denormal(False):
            r = fused.fma(np.array([-tiny], dtype), np.array([0.5], dtype), np.array([0.0], dtype))
            assert r[0] == dtype(-tiny / 2)
        # a normal result is untouched
        r = fused.fma(np.array([tiny], dtype), np.array([3.0], dtype), np.array([tiny], dtype))
        assert r[0] == dtype(4 * tiny)


def test_fma_refuses_other_dtypes():
    with pytest.raises(TypeError, match="float32 or float64"):
        fused.fma(np.ones(2, np.int64), np.ones(2, np.int64), np.ones(2, np.int64))
