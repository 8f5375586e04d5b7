"""Flush-to-zero of subnormal floats in NumPy, exactly as nnfast's kernels run it.

With the setting on (``nnfast.set_flush_denormal``, on by default), the kernels run with x86's
MXCSR FTZ|DAZ (AArch64 FPCR.FZ). This module gives ``nnfast.reference`` the same semantics, so
that native and reference still agree bit for bit:

* every arithmetic ufunc (``+ - * /``, ``sqrt``, ``exp``, comparisons, reductions, ``matmul``, ...)
  reads a subnormal operand as a zero of its sign (DAZ) and writes a result below the smallest
  normal as a zero of its sign (FTZ). Tininess is detected after rounding, as x86 does: a product
  or quotient whose exact value rounds to the smallest normal at full precision is kept, one that
  only reaches it through gradual underflow's coarser rounding is flushed;
* a Python scalar meets an array as the kernels' ``T(double)`` conversion does: rounded to the
  array's dtype, then flushed (so does ``astype`` to a narrower float; ``astype`` reads with DAZ);
* operations that only move a value - negation, ``abs``, copies, ``np.where`` - return its bits,
  a subnormal included (the instructions: xor, and, move, blend). ``maximum``, ``minimum``,
  ``clip`` and ``sign`` select one of their operands as the kernels' ternaries do, deciding with
  comparisons that read subnormals as zeros: ``maximum(a, b)`` is ``a if a >= b or a is NaN else b``.

:func:`flushing` wraps a function so that its array arguments are viewed as :class:`Flushed`
(an ndarray whose ufuncs follow the rules above) while the setting is on; pure NumPy otherwise.
"""
import contextvars
import functools

import numpy as np

__all__ = ["enabled", "set_enabled", "Flushed", "flushing", "plain", "daz", "ftz", "read", "SCALE"]

_SETTING = {"on": True}  # process-wide, as the kernels' setting; set through nnfast.set_flush_denormal
_INSIDE = contextvars.ContextVar("inside_flushing", default=False)

# Tininess after rounding is decided on a copy scaled by SCALE: the scaled result is normal, so
# its rounding is the unbounded-exponent rounding x86 tests against the smallest normal.
SCALE = 2.0 ** 32  # public: another module's redo() for ftz scales by it


def enabled():
    """Whether the reference flushes subnormals (nnfast.get_flush_denormal() keeps it in step)."""
    return _SETTING["on"]


def set_enabled(on):
    """Set the reference's flushing (use nnfast.set_flush_denormal, which also sets the kernels')."""
    _SETTING["on"] = bool(on)


_TINY = {np.dtype(t): np.finfo(t).tiny for t in (np.float16, np.float32, np.float64, np.longdouble)}


def _tiny(dtype):
    return _TINY[dtype]


def _is_float(a):
    return isinstance(a, (np.ndarray, np.generic)) and a.dtype.kind == "f"


def _nonzero(low, mag):
    """low without the zeros: a zero "flushes" to itself, and arrays full of zeros (after a relu, a
    dropout) would otherwise take the rewriting path every time (10-40x the cost of the tests)."""
    return low & (mag != 0)


def daz(a):
    """a with every subnormal replaced by a zero of its sign (a itself when it has none)."""
    if not _is_float(a):
        return a
    mag = np.abs(a)
    low = mag < _tiny(a.dtype)
    if not low.any():
        return a
    low = _nonzero(low, mag)
    if not low.any():
        return a
    return np.where(low, np.copysign(a.dtype.type(0), a), a)


def read(a):
    """a as a kernel reads it: daz(a) while flushing is on (for code outside NumPy's ufuncs)."""
    return daz(a) if _SETTING["on"] else a


def ftz(r, redo=None):
    """Flush r's results below the smallest normal to signed zeros, in place for an array (a new
    scalar otherwise). redo() recomputes r scaled by SCALE, for the ties at the smallest normal."""
    if not _is_float(r):
        return r
    tiny = _tiny(r.dtype)
    mag = np.abs(r)
    if not (mag <= tiny).any():
        return r
    sub = _nonzero(mag < tiny, mag)
    if redo is not None:
        edge = mag == tiny
        if edge.any():
            sub |= edge & (np.abs(redo()) < tiny * SCALE)
    if not sub.any():
        return r
    zeros = np.copysign(r.dtype.type(0), r)
    if isinstance(r, np.ndarray) and r.ndim:
        r[sub] = zeros[sub]
        return r
    return zeros if sub else r


def _plain(a):
    return a.view(np.ndarray) if isinstance(a, Flushed) else a


@functools.lru_cache(maxsize=1024)
def _converted(kind, x, dtype):
    value = np.asarray(x, dtype=dtype)[()]
    if kind is int:
        return value
    return ftz(value, lambda: np.asarray(x * SCALE, dtype=dtype))


def _scalar(x, dtype):
    """A Python scalar converted as the kernels convert a double hyperparameter: T(x), flushed."""
    if isinstance(x, bool) or dtype.kind != "f":
        return np.asarray(x, dtype=dtype)[()]
    return _converted(int if isinstance(x, int) else float, x, dtype)


def _operands(inputs):
    """The ufunc's inputs with DAZ applied, Python scalars converted to the arrays' dtype."""
    plain = [_plain(a) for a in inputs]
    arrays = [a for a in plain if isinstance(a, (np.ndarray, np.generic))]
    dtype = np.result_type(*arrays) if arrays else None
    if dtype is None or dtype.kind != "f":
        return [daz(a) for a in plain]
    return [_scalar(a, dtype) if isinstance(a, (float, int)) else daz(a) for a in plain]


def _select(ufunc, a, b, c=None):
    """maximum, minimum, clip and sign as the kernels' ternaries, on the original bits."""
    fa, fb = daz(a), daz(b)
    if ufunc is np.maximum:
        return np.where((fa >= fb) | (fa != fa), a, b)
    if ufunc is np.minimum:
        return np.where((fa <= fb) | (fa != fa), a, b)
    fc = daz(c)  # clip: x < lo ? lo : (x > hi ? hi : x)
    return np.where(fa < fb, b, np.where(fa > fc, c, a))


def _sign(a):
    """c > 0 ? 1 : c < 0 ? -1 : c == 0 ? 0 : c (NaN), read with DAZ."""
    f = daz(a)
    one = np.ones_like(f)
    return np.where(f > 0, one, np.where(f < 0, -one, np.where(f == 0, 0 * one, f)))


_PASS = {np.negative, np.positive, np.absolute, np.fabs, np.copysign}
_SELECT = {np.maximum, np.minimum, np.clip}
_ROUNDED = {np.multiply, np.divide, np.square}


class Flushed(np.ndarray):
    """An ndarray whose ufuncs flush subnormals as the kernels do (see the module docstring)."""

    def __array_ufunc__(self, ufunc, method, *inputs, out=None, **kwargs):
        plain_out = None if out is None else tuple(_plain(o) for o in out)
        if ufunc in _PASS:
            result = getattr(ufunc, method)(*(_plain(a) for a in inputs), out=plain_out, **kwargs)
        elif method == "__call__" and (ufunc in _SELECT or ufunc is np.sign):
            dtype = _operands(inputs)[0].dtype
            raw = [_scalar(a, dtype) if isinstance(a, (float, int)) else _plain(a) for a in inputs]
            result = _store(_sign(raw[0]) if ufunc is np.sign else _select(ufunc, *raw), plain_out)
        else:
            args = _operands(inputs)
            result = getattr(ufunc, method)(*args, out=plain_out, **kwargs)
            redo = None
            if method == "__call__" and ufunc in _ROUNDED:
                def redo():  # the first operand scaled: exact, and the product or quotient stays normal
                    scaled = np.multiply(args[0], SCALE, dtype=np.result_type(args[0]))
                    return (np.multiply if ufunc is np.square else ufunc)(scaled, *(args[1:] or args))
            result = tuple(ftz(r) for r in result) if isinstance(result, tuple) else ftz(result, redo)
        if out is not None:
            return out[0] if len(out) == 1 else out
        return _wrap(result)

    def __array_function__(self, func, types, args, kwargs):
        # np.where, np.concatenate, ... return plain arrays: keep computing on Flushed ones
        return _wrap(super().__array_function__(func, types, args, kwargs))

    def astype(self, dtype, *args, **kwargs):
        src = daz(self.view(np.ndarray))
        r = src.astype(dtype, *args, **kwargs)
        if r.dtype.kind == "f" and src.dtype.kind == "f" and r.dtype.itemsize < src.dtype.itemsize:
            r = ftz(r, lambda: (src * SCALE).astype(dtype))
        return r.view(Flushed)


def _store(result, out):
    if out is None:
        return result
    np.copyto(out[0], result)
    return out[0]


def _wrap(result):
    if isinstance(result, tuple):
        return tuple(_wrap(r) for r in result)
    if isinstance(result, np.floating):  # a ufunc of 0-d arrays: keep flushing what follows
        return np.asarray(result).view(Flushed)
    return result.view(Flushed) if type(result) is np.ndarray else result


def _enter(a):
    if isinstance(a, np.ndarray) and not isinstance(a, Flushed):
        return a.view(Flushed)
    if isinstance(a, (list, tuple)) and any(isinstance(x, np.ndarray) for x in a):
        return type(a)(_enter(x) for x in a)
    return a


def _leave(a):
    if isinstance(a, Flushed):
        return a.view(np.ndarray)
    if isinstance(a, tuple):
        return tuple(_leave(x) for x in a)
    return a


def flushing(fn):
    """fn with the flush semantics applied to its array arguments (and lists of arrays) while the
    setting is on; its array results come back as plain ndarrays. Calls nested in one run as is."""
    @functools.wraps(fn)
    def run(*args, **kwargs):
        if not _SETTING["on"] or _INSIDE.get():
            return fn(*args, **kwargs)
        token = _INSIDE.set(True)
        try:
            result = fn(*(_enter(a) for a in args), **{k: _enter(v) for k, v in kwargs.items()})
        finally:
            _INSIDE.reset(token)
        return _leave(result)
    return run


def plain(fn):
    """fn run with the reference's flushing off: plain IEEE NumPy, as a NumPy user computes (the
    benchmarks' NumPy peer). The kernels' setting is left alone."""
    @functools.wraps(fn)
    def run(*args, **kwargs):
        before = _SETTING["on"]
        _SETTING["on"] = False
        try:
            return fn(*args, **kwargs)
        finally:
            _SETTING["on"] = before
    return run
