"""Array helpers for preparing data, with Keras 3's names and results: ``to_categorical`` (class
indices to one-hot rows), ``normalize`` (rows scaled to unit norm) and ``pad_sequences`` (lists of
word ids to one padded array). nnfast.keras.utils exports them under the same names.
"""
import math
import numbers

import numpy as np

from .utils import checks

__all__ = ["to_categorical", "normalize", "pad_sequences"]


def to_categorical(x, num_classes=None):
    """One-hot float64 rows of the class indices `x`, the class axis last, as Keras 3 gives them.

    `x` is any array-like of integer class indices (integer-valued floats, bools and digit strings
    are accepted, as Keras's cast to int64 takes them). A
    trailing axis of length 1 is dropped first, so ``(n, 1)`` labels give ``(n, num_classes)``
    and a scalar gives ``(num_classes,)``. `num_classes` defaults to ``max(x) + 1``.

    Where Keras answers bad labels silently or with a bare IndexError (a negative index wraps
    around, a fraction is truncated), this raises a ValueError naming `x`.
    """
    num_classes = checks.optional_integer("num_classes", num_classes, lo=1)
    try:
        values = np.asarray(x)
    except (TypeError, ValueError) as e:
        raise TypeError(f"x must be an array of class indices, got {x!r}") from e
    if values.dtype == np.bool_:  # as Keras, which casts to int64: False, True are classes 0, 1
        values = values.astype(np.int64)
    elif values.dtype.kind in "US":  # digit strings, "0", "1", ... as Keras's cast reads them
        try:
            values = values.astype(np.int64)
        except ValueError as e:
            raise TypeError(f"x must be an array of integer class indices, got strings {_sample(values)}") from e
    if not np.issubdtype(values.dtype, np.number) or np.issubdtype(values.dtype, np.complexfloating):
        raise TypeError(f"x must be an array of integer class indices, got dtype {values.dtype}")
    with np.errstate(invalid="ignore"):
        fractional = ~(np.isfinite(values) & (values == np.round(values)))
        if values.dtype.kind == "f":  # beyond int64 (1e308): not an index either
            fractional |= np.abs(values.astype(np.float64)) >= 2.0 ** 63
    if fractional.any():
        raise ValueError(f"x must hold integer class indices, got {_sample(values[fractional])}")
    labels = values.astype(np.int64)
    shape = labels.shape
    if len(shape) > 1 and shape[-1] == 1:
        shape = shape[:-1]
    labels = labels.reshape(-1)
    if num_classes is None:
        if labels.size == 0:
            raise ValueError("x must hold at least one class index when num_classes is None, got an empty array")
        num_classes = int(labels.max()) + 1
    outside = (labels < 0) | (labels >= num_classes)
    if outside.any():
        raise ValueError(f"x must hold class indices in [0, {num_classes - 1}], got {_sample(labels[outside])}")
    categorical = np.zeros((labels.size, num_classes))
    categorical[np.arange(labels.size), labels] = 1
    return categorical.reshape(shape + (num_classes,))


def normalize(x, axis=-1, order=2):
    """A copy of `x` with every vector along `axis` divided by its `order`-norm (``numpy.linalg.norm``;
    2, 1, numpy.inf, ...); all-zero vectors stay zero. As Keras 3 for NumPy input: float32 stays
    float32, integers become float64. The result has the shape of `x` along any int `axis`, where
    Keras 3 expands the norm on the last axis, which fails for ``axis=0`` and gives a 1-D `x` a
    leading axis of length 1."""
    values = np.asarray(x)
    if not np.issubdtype(values.dtype, np.number) or values.dtype == np.bool_:
        raise TypeError(f"x must be a numeric array, got dtype {values.dtype}")
    if values.ndim == 0:
        raise ValueError(f"x must have at least one dimension, got a scalar {x!r}")
    axis = checks.integer("axis", axis, lo=-values.ndim, hi=values.ndim - 1)
    if isinstance(order, bool) or not isinstance(order, numbers.Real) or math.isnan(order):
        raise TypeError(f"order must be a real number (2, 1, numpy.inf, ...), got {order!r}")
    norm = np.linalg.norm(values, order, axis, keepdims=True)
    norm[norm == 0] = 1
    return values / norm


def pad_sequences(sequences, maxlen=None, dtype="int32", padding="pre", truncating="pre", value=0.0):
    """Keras 3's pad_sequences: a (len(sequences), maxlen, *sample shape) array of `dtype`, each
    sequence's last maxlen items (truncating="pre", or its first with "post") placed at the end
    of its row (padding="pre", or at the start with "post"), the rest `value`. maxlen defaults to
    the longest sequence's length. The arguments are checked before anything is built (Keras
    checks padding and truncating only when a sequence needs them); an empty list gives a
    (0, maxlen or 0) array where Keras fails on the maximum of no lengths."""
    maxlen = checks.optional_integer("maxlen", maxlen, lo=0)
    padding = checks.one_of("padding", padding, ("pre", "post"))
    truncating = checks.one_of("truncating", truncating, ("pre", "post"))
    if not hasattr(sequences, "__len__"):
        raise ValueError("sequences must be iterable: a list of sequences")
    lengths, sample_shape = [], None
    for s in sequences:
        if not hasattr(s, "__len__"):
            raise ValueError(f"sequences must be a list of iterables, found {s!r}")
        lengths.append(len(s))
        if sample_shape is None and len(s):  # the first non-empty sequence's item shape, as Keras
            sample_shape = np.asarray(s).shape[1:]
    sample_shape = sample_shape or ()
    if maxlen is None:
        maxlen = max(lengths, default=0)
    is_text = np.issubdtype(dtype, np.str_) or np.issubdtype(dtype, np.bytes_)
    if isinstance(value, str) and dtype is not object and not is_text:
        raise ValueError(f"dtype {dtype} cannot hold the padding value {value!r}: use dtype=object for strings")
    padded = np.full((len(lengths), maxlen) + sample_shape, value, dtype=dtype)
    for row, s in enumerate(sequences):
        if not len(s) or not maxlen:
            continue
        kept = np.asarray(s[-maxlen:] if truncating == "pre" else s[:maxlen], dtype=dtype)
        if kept.shape[1:] != sample_shape:
            raise ValueError(f"sequence {row} has items of shape {kept.shape[1:]}, the first non-empty one "
                             f"{sample_shape}")
        if padding == "post":
            padded[row, :len(kept)] = kept
        else:
            padded[row, -len(kept):] = kept
    return padded


def _sample(values, limit=6):
    """A short text of the first values of a 1-D array, for an error message."""
    flat = values.reshape(-1)
    text = ", ".join(map(str, flat[:limit].tolist()))
    return f"[{text}{', ...' if flat.size > limit else ''}]"
