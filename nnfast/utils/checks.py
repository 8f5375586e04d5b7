"""Argument checks for every Python entry point of nnfast, with one message style:
``"NAME must be <what>, got VALUE"``. A wrong type is a TypeError, a wrong value a ValueError; both
name the argument. Pure Python (the NumPy reference imports it too); the native bindings make the
same checks in C++.
"""
import math
import numbers

__all__ = ["real", "integer", "flag", "one_of", "optional_real", "interval", "torch_nesterov"]


def _is_bool(value):
    # numpy.bool_ is not a numbers.Integral, but it is not a number either
    return isinstance(value, bool) or type(value).__name__ in ("bool_", "bool")


def interval(lo, hi, lo_open=False, hi_open=False):
    """The interval as text: "in [0.0, 1.0)", ">= 0.0", "> 0.0", "<= 1.0"."""
    if hi == math.inf and lo == -math.inf:
        return "any real number"
    if hi == math.inf:
        return f"{'>' if lo_open else '>='} {float(lo)}"
    if lo == -math.inf:
        return f"{'<' if hi_open else '<='} {float(hi)}"
    return f"in {'(' if lo_open else '['}{float(lo)}, {float(hi)}{')' if hi_open else ']'}"


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


def flag(name, value):
    """`value` as a bool; TypeError for anything but True/False (numpy bools included)."""
    if not _is_bool(value):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def one_of(name, value, choices):
    """`value` itself when it is one of `choices`, else a ValueError listing them."""
    try:
        known = any(value is c or (type(value) is type(c) and value == c) for c in choices)
    except (TypeError, ValueError):  # an array compares element-wise
        known = False
    if not known:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}, got {value!r}")
    return value


def torch_nesterov(momentum, dampening):
    """torch.optim.SGD's rule for nesterov=True (the one message the reference, the optimizer
    classes and the native binding all give)."""
    if momentum <= 0 or dampening != 0:
        raise ValueError("nesterov (convention='torch') requires momentum > 0 and dampening == 0, "
                         f"got momentum={momentum!r}, dampening={dampening!r}")
