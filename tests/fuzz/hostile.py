"""Hostile inputs and the fuzz property, shared by the tests in this folder (issue #17, item 2).

The property every public entry point must keep (docs/design.md, "Bad input"): a call either
returns the reference's answer, or raises TypeError / ValueError / MemoryError whose message names
an argument, and every array it was given is byte-for-byte unchanged; it never crashes, hangs or
leaks a reference. A crash cannot be caught in-process: `check` first writes a description of the
call to the file named by NNFAST_FUZZ_CRASH_LOG (tests/test_fuzz.py runs this folder in a child
process and reports that file when the child dies).
"""
import gc
import inspect
import math
import os
import sys

import numpy as np
from hypothesis import strategies as st
from numpy.lib.stride_tricks import as_strided

ALLOWED = (TypeError, ValueError, MemoryError)
FLOATS = (np.float32, np.float64)
# Every kind of dtype a caller can hand over, each wrong for a float32/float64 kernel.
STRUCTURED = np.dtype([("a", np.float32), ("b", np.float32)])
WRONG_DTYPES = (np.float16, np.int8, np.int32, np.int64, np.uint8, np.bool_, object, np.complex64,
                np.complex128, STRUCTURED, np.dtype(">f4"), np.dtype(">f8"), "datetime64[s]", "U3")
# Array layouts that keep the values; each is refused where a kernel reads raw C-contiguous memory.
LAYOUTS = ("fortran", "reversed", "strided", "readonly", "misaligned", "zero_stride", "overlapping")
# Scalars, containers and objects that are not what any argument wants, and out-of-range numbers.
WEIRD = (None, "relu", "", b"x", 1j, [], [1.0], (1, 2), {}, object(), 2 ** 70, -2 ** 70, 2 ** 64 - 1, -1, 0, 1,
         True, False, 1.5, -0.5, 0.0, -0.0, math.nan, math.inf, -math.inf, 5e-324, 1e308, np.float32(0.5),
         np.int64(3), np.bool_(True), np.float64(math.nan), np.ones(3), np.ones((2, 2), np.float32),
         np.array(0.5), np.array([]), slice(1), float)

_crash_fd = None


def record_call(text):
    """Overwrite the crash log with `text` (the call about to run), when the runner asked for one."""
    global _crash_fd
    path = os.environ.get("NNFAST_FUZZ_CRASH_LOG")
    if not path:
        return
    if _crash_fd is None:
        _crash_fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    data = text.encode("utf-8", "replace")
    os.ftruncate(_crash_fd, 0)
    os.pwrite(_crash_fd, data, 0)


def describe(value, depth=0):
    """A short description of an argument: arrays by dtype, shape, strides and flags, not values."""
    if isinstance(value, np.ndarray):
        flags = "".join(f for f, on in (("C", value.flags.c_contiguous), ("F", value.flags.f_contiguous),
                                         ("W", value.flags.writeable), ("A", value.flags.aligned)) if on)
        return f"ndarray({value.dtype}, shape={value.shape}, strides={value.strides}, flags={flags})"
    if isinstance(value, (list, tuple)) and depth < 2:
        inner = ", ".join(describe(v, depth + 1) for v in value[:6])
        return f"{type(value).__name__}[{inner}{', ...' if len(value) > 6 else ''}]"
    if isinstance(value, dict) and depth < 2:
        return "{" + ", ".join(f"{k!r}: {describe(v, depth + 1)}" for k, v in value.items()) + "}"
    text = repr(value)
    return text if len(text) < 80 else text[:77] + "..."


def describe_call(name, kwargs):
    return f"{name}(" + ", ".join(f"{k}={describe(v)}" for k, v in kwargs.items()) + ")"


# ---- arrays ---------------------------------------------------------------------------------------

def values(rng, shape, dtype, special=0.0, positive=False):
    """Random values of `dtype`; a fraction `special` of them NaN, +-Inf, subnormal, -0.0 or huge."""
    x = np.asarray(rng.standard_normal(shape))
    if positive:
        x = np.abs(x)
    x = np.asarray(x).astype(dtype)
    if special and x.size:
        info = np.finfo(dtype)
        pool = np.array([np.nan, np.inf, -np.inf, info.smallest_subnormal, -info.smallest_subnormal, -0.0,
                         info.max / 2, info.tiny], dtype=dtype)
        hit = rng.random(shape) < special
        x[hit] = rng.choice(pool, size=int(hit.sum()))
    return x


def roots(value, found=None):
    """The arrays that own the memory of every array in `value` (lists, tuples, dicts walked)."""
    found = {} if found is None else found
    if isinstance(value, np.ndarray):
        base = value
        while True:
            nxt = getattr(base, "base", None)
            if nxt is None or not hasattr(nxt, "base") and not isinstance(nxt, np.ndarray):
                break
            base = nxt
        if isinstance(base, np.ndarray):
            found[id(base)] = base
    elif isinstance(value, (list, tuple)):
        for v in value:
            roots(v, found)
    elif isinstance(value, dict):
        for v in value.values():
            roots(v, found)
    return found


def snapshot(value):
    """The bytes of every memory-owning array behind `value`, to prove a rejected call wrote nothing."""
    return {key: (arr, arr.tobytes() if arr.dtype != object else list(arr.ravel()))
            for key, arr in roots(value).items()}


def changed(before):
    """The arrays of a snapshot whose bytes differ now."""
    out = []
    for arr, data in before.values():
        now = arr.tobytes() if arr.dtype != object else list(arr.ravel())
        if now != data:
            out.append(describe(arr))
    return out


def relayout(arr, layout):
    """`arr`'s values (or, for zero_stride / overlapping, its first element repeated) in another layout."""
    if arr.ndim == 0:
        return arr.copy() if layout != "readonly" else relayout(arr.reshape(1), layout).reshape(())
    if layout == "fortran":
        return np.asfortranarray(arr) if arr.ndim >= 2 and arr.shape[0] > 1 and arr.shape[-1] > 1 else arr[::-1][::-1]
    if layout == "reversed":
        return np.ascontiguousarray(arr[..., ::-1])[..., ::-1] if arr.ndim else arr
    if layout == "strided":
        doubled = np.repeat(arr, 2, axis=-1) if arr.ndim else arr
        return doubled[..., ::2] if arr.ndim else arr
    if layout == "readonly":
        out = arr.copy()
        out.flags.writeable = False
        return out
    if layout == "misaligned":
        raw = np.zeros(arr.nbytes + arr.itemsize, np.uint8)
        out = raw[1:arr.nbytes + 1].view(arr.dtype).reshape(arr.shape)
        out[...] = arr
        return out
    if layout == "zero_stride":
        return np.broadcast_to(arr.reshape(-1)[:1].reshape(()) if arr.size else arr.dtype.type(1), arr.shape)
    if layout == "overlapping":  # rows that share memory: every row starts one element after the last
        if arr.ndim < 2 or arr.size == 0:
            return arr
        flat = np.ascontiguousarray(arr).reshape(-1)
        return as_strided(flat, shape=arr.shape, strides=(arr.itemsize,) * arr.ndim)
    raise AssertionError(layout)


def copies(value):
    """Deep copies of the arrays in `value` (lists walked); a huge zero-stride view stays itself."""
    if isinstance(value, np.ndarray):
        return value if value.size > 1 << 24 else np.array(value, copy=True)
    if isinstance(value, list):
        return [copies(v) for v in value]
    return value


def huge(arr):
    """A view claiming far more elements than exist (stride 0 along a 2**40-long axis): a kernel must
    refuse it or handle it without writing; nothing is allocated."""
    one = arr.reshape(-1)[:1] if arr.size else np.zeros(1, arr.dtype)
    shape = ((1 << 40),) + arr.shape[1:] if arr.ndim else (1 << 40,)
    return as_strided(one, shape=shape, strides=(0,) * len(shape), writeable=False)


@st.composite
def hostile_array(draw, arr):
    """A replacement for the valid array `arr`: another dtype, ndim, layout or size, a list, a 0-d
    array or a scalar. Returns (kind, value)."""
    kind = draw(st.sampled_from(("dtype", "layout", "ndim", "size", "huge", "list", "scalar", "empty")))
    if kind == "dtype":
        dtype = np.dtype(draw(st.sampled_from(WRONG_DTYPES + FLOATS)))
        if dtype == STRUCTURED:
            value = np.zeros(arr.shape, dtype)
        elif dtype.kind in "MU":
            value = np.zeros(arr.shape, dtype)
        else:
            with np.errstate(all="ignore"):
                value = arr.astype(dtype) if dtype.kind != "b" else arr > 0
        return "dtype", value
    if kind == "layout":
        return "layout", relayout(arr, draw(st.sampled_from(LAYOUTS)))
    if kind == "ndim":
        if arr.ndim and draw(st.booleans()):
            return "ndim", arr.reshape(-1) if arr.ndim > 1 else arr.reshape(arr.shape + (1,))
        return "ndim", arr[None] if arr.ndim < 4 else arr.reshape(arr.shape[:-2] + (arr.shape[-2] * arr.shape[-1],))
    if kind == "size":
        axis = draw(st.integers(0, max(arr.ndim - 1, 0)))
        if arr.ndim == 0:
            return "size", arr.reshape(1)
        grown = np.concatenate([arr, arr.take([0] if arr.shape[axis] else [], axis=axis)], axis=axis) \
            if arr.shape[axis] else np.zeros(tuple(2 if i == axis else s for i, s in enumerate(arr.shape)), arr.dtype)
        return "size", grown
    if kind == "huge":
        return "huge", huge(arr)
    if kind == "list":
        return "list", arr.tolist()
    if kind == "scalar":
        return "scalar", draw(st.sampled_from(WEIRD))
    return "empty", np.zeros((0,) * max(arr.ndim, 1), arr.dtype)


# ---- the property -----------------------------------------------------------------------------------

def parameter_names(fn):
    return set(inspect.signature(fn).parameters)


def assert_names_argument(error, names, call):
    """The message of a refused call names one of `names` (an argument's name, as `grads[0]`)."""
    text = str(error)
    assert "incompatible function arguments" not in text, f"pybind11's generic message: {text!r}\n  call: {call}"
    assert any(name in text for name in names), \
        f"{type(error).__name__} names none of {sorted(names)}: {text!r}\n  call: {call}"


def check(fn, kwargs, names=None, compare=None, name=None, refs=True, allowed=ALLOWED):
    """Run fn(**kwargs) under the fuzz property. `names`: the argument names an error may name (all
    of fn's parameters by default). `compare(result)`: called when the call succeeds, to hold the
    result (and the arrays it wrote) to the reference. refs=False skips the reference-count check
    (a model keeps a view of its last batch, by design). Returns None on success, else the error's
    (type, message)."""
    name = name or getattr(fn, "__name__", repr(fn))
    call = describe_call(name, kwargs)
    names = names or parameter_names(fn)
    before = snapshot(kwargs)
    counts = {key: sys.getrefcount(arr) for key, (arr, _) in before.items()}
    record_call(call)
    outcome = None
    try:
        result = fn(**kwargs)
    except allowed as error:
        assert_names_argument(error, names, call)
        diff = changed(before)
        assert not diff, f"refused call {call} modified {diff}: {error}"
        outcome = (type(error), str(error))
    except Exception as error:  # noqa: BLE001 - any other type breaks the property
        raise AssertionError(f"{call} raised {type(error).__name__}: {error}") from error
    else:
        if compare is not None:
            compare(result)
        del result
    if not refs:
        return outcome
    if any(sys.getrefcount(arr) > counts[key] for key, (arr, _) in before.items()):
        gc.collect()  # an exception's traceback may hold the arguments in a cycle: garbage, not a leak
    leaked = {describe(arr): sys.getrefcount(arr) - counts[key] for key, (arr, _) in before.items()
              if sys.getrefcount(arr) > counts[key]}
    assert not leaked, f"{call} leaked references to {leaked}"
    return outcome
