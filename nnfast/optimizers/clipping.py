"""Gradient clipping as Keras 3 does it: clipvalue, clipnorm (per tensor) or global_clipnorm.

Norms are accumulated in double; a scale is computed once in double and applied as one
multiplication. Clipping makes new arrays and never modifies the caller's gradients; a gradient
that needs no scaling is passed on as is. Non-float entries are passed on for the update function
to reject with its own message."""
import math

import numpy as np

CLIP_MODES = ("clipvalue", "clipnorm", "global_clipnorm")


def _is_float_array(g):
    return isinstance(g, np.ndarray) and g.dtype.kind == "f"


def _sq_norm(g):
    """Sum of squares of a float array, accumulated in double."""
    return float(np.sum(np.square(g, dtype=np.float64)))


def global_norm_scale(norm_sq, clipnorm):
    """clipnorm / max(norm, clipnorm), NaN when the norm is not finite (as Keras)."""
    norm = math.sqrt(norm_sq)
    if not math.isfinite(norm):
        return math.nan
    return clipnorm / max(norm, clipnorm)


def clip(grads, mode, limit):
    """The gradients clipped by `mode` (one of CLIP_MODES) at `limit`."""
    with np.errstate(over="ignore", invalid="ignore"):  # Inf and NaN are data
        if mode == "clipvalue":
            # (np.asarray: NumPy returns a scalar for a 0-d array, and a gradient stays an array)
            return [np.asarray(np.clip(g, -limit, limit)) if _is_float_array(g) else g for g in grads]
        if mode == "clipnorm":
            out = []
            for g in grads:
                if _is_float_array(g):
                    norm = math.sqrt(_sq_norm(g))
                    scale = limit / max(norm, limit) if norm == norm else math.nan
                    if scale != 1.0:
                        g = np.asarray(g * scale)
                out.append(g)
            return out
        sq = sum(_sq_norm(g) for g in grads if _is_float_array(g))
        scale = global_norm_scale(sq, limit)
        if scale == 1.0:
            return grads
        return [np.asarray(g * scale) if _is_float_array(g) else g for g in grads]
