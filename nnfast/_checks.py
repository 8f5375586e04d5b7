"""Argument checks shared by the NumPy reference and the Python optimizer layer (pure Python; the
native bindings make the same checks with the same messages)."""
import math
import numbers


def real_in_range(name, value, lo=0.0, hi=math.inf, hi_open=False):
    """`value` as a float in [lo, hi] (or [lo, hi) when hi_open); TypeError for a non-number
    (bools included), ValueError out of range (NaN included), both naming the argument."""
    if isinstance(value, bool) or type(value).__name__ == "bool_" or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    v = float(value)
    if not (lo <= v <= hi) or (hi_open and v == hi):
        bracket = ")" if hi_open else "]"
        raise ValueError(f"{name} must be in [{float(lo)}, {float(hi)}{bracket}, got {value!r}")
    return v
