"""Argument checks for every Python entry point of nnfast, with one message style:
``"NAME must be <what>, got VALUE"``. A wrong type is a TypeError, a wrong value a ValueError; both
name the argument. Python and NumPy only (the NumPy reference imports it too); the native bindings
make the same checks in C++.
"""
import math
import numbers

import numpy as np

__all__ = ["real", "integer", "flag", "one_of", "optional_real", "interval", "torch_nesterov",
           "optional_integer", "string", "shape", "float_dtype", "number", "truth"]

_FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _is_bool(value):
    # numpy.bool_ is not a numbers.Integral, but it is not a number either
    return isinstance(value, bool) or type(value).__name__ in ("bool_", "bool")


def interval(lo, hi, lo_open=False, hi_open=False):
    """The interval as text: "in [0.0, 1.0)", ">= 0.0", "> 0.0", "<= 1.0"; an open infinite bound
    excludes infinity, which the text says: "finite and > 0.0", "a finite real number"."""
    finite = (lo == -math.inf and lo_open) or (hi == math.inf and hi_open)
    if hi == math.inf and lo == -math.inf:
        return "a finite real number" if finite else "any real number"
    if hi == math.inf:
        text = f"{'>' if lo_open else '>='} {float(lo)}"
    elif lo == -math.inf:
        text = f"{'<' if hi_open else '<='} {float(hi)}"
    else:
        text = f"in {'(' if lo_open else '['}{float(lo)}, {float(hi)}{')' if hi_open else ']'}"
    return f"finite and {text}" if finite else text


def real(name, value, lo=0.0, hi=math.inf, lo_open=False, hi_open=False):
    """`value` as a float in the interval from lo to hi (closed unless lo_open / hi_open).

    TypeError for anything but a real number (bools included); ValueError outside the interval
    (NaN included)."""
    if _is_bool(value) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    v = float(value)
    inside = (lo < v if lo_open else lo <= v) and (v < hi if hi_open else v <= hi)
    if not inside:
        raise ValueError(f"{name} must be {interval(lo, hi, lo_open, hi_open)}, got {value!r}")
    return v


def number(name, value):
    """`value` as a float, any real number (NaN and infinities pass, for the caller's range check);
    TypeError for anything else (bools, strings, arrays), as real() reads it."""
    if _is_bool(value) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    return float(value)


def truth(name, value):
    """bool(value), as Python's `if value` reads it; TypeError naming the argument for an object
    without a truth value (an array of several elements)."""
    try:
        return bool(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be True or False, got {value!r}") from None


def optional_real(name, value, lo=0.0, hi=math.inf, lo_open=False, hi_open=False):
    """None, or `value` checked by real()."""
    return None if value is None else real(name, value, lo, hi, lo_open, hi_open)


def integer(name, value, lo=0, hi=None):
    """`value` as an int >= lo (and <= hi when given); TypeError for a non-integer (bools
    included), ValueError out of range."""
    if _is_bool(value) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {value!r}")
    v = int(value)
    if lo is not None and v < lo:
        raise ValueError(f"{name} must be >= {lo}, got {value!r}")
    if hi is not None and v > hi:
        raise ValueError(f"{name} must be <= {hi}, got {value!r}")
    return v


def optional_integer(name, value, lo=0, hi=None):
    """None, or `value` checked by integer()."""
    return None if value is None else integer(name, value, lo, hi)


def flag(name, value):
    """`value` as a bool; TypeError for anything but True/False (numpy bools included)."""
    if not _is_bool(value):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def not_one_of(name, value, choices, also=""):
    """The ValueError for a value that is none of `choices`: "NAME must be [ALSO or ]one of 'a',
    'b', got VALUE" (lookups by name raise it; one_of raises it too)."""
    return ValueError(f"{name} must be {also + ' or ' if also else ''}one of {', '.join(map(repr, choices))}, "
                      f"got {value!r}")


def one_of(name, value, choices):
    """The choice `value` equals (a str choice also matches a str subclass such as numpy.str_;
    otherwise the types must be the same, so True is not 1), else a ValueError listing them."""
    for c in choices:
        same_kind = type(value) is type(c) or (isinstance(c, str) and isinstance(value, str))
        try:
            if value is c or (same_kind and value == c):
                return c
        except (TypeError, ValueError):  # an array compares element-wise
            break
    raise not_one_of(name, value, choices)


def torch_nesterov(momentum, dampening):
    """torch.optim.SGD's rule for nesterov=True (the one message the reference, the optimizer
    classes and the native binding all give)."""
    if momentum <= 0 or dampening != 0:
        raise ValueError("nesterov (convention='torch') requires momentum > 0 and dampening == 0, "
                         f"got momentum={momentum!r}, dampening={dampening!r}")


def string(name, value):
    """`value` itself when it is a str, else a TypeError."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, got {value!r}")
    return value


def shape(name, value):
    """`value` as a tuple of ints >= 0 (an int is a 1-D shape); TypeError for anything else (bools
    included), ValueError for a negative dimension."""
    dims = (value,) if isinstance(value, numbers.Integral) and not _is_bool(value) else value
    try:
        dims = tuple(dims)
    except TypeError:
        raise TypeError(f"{name} must be a tuple of ints, got {value!r}") from None
    if any(_is_bool(d) or not isinstance(d, numbers.Integral) for d in dims):
        raise TypeError(f"{name} must be a tuple of ints, got {value!r}")
    if any(d < 0 for d in dims):
        raise ValueError(f"{name} must be a tuple of ints >= 0, got {value!r}")
    return tuple(int(d) for d in dims)


def float_dtype(name, value):
    """`value` as a numpy dtype, float32 or float64 (anything numpy.dtype() takes: "float32",
    np.float64, an array's dtype; None means float64, as in NumPy); TypeError otherwise."""
    try:
        dtype = np.dtype(value)
    except TypeError:
        raise TypeError(f"{name} must be float32 or float64, got {value!r}") from None
    if dtype not in _FLOAT_DTYPES:
        raise TypeError(f"{name} must be float32 or float64, got {dtype}")
    return dtype
