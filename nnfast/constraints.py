"""Weight constraints with Keras 3's names and formulas: after each optimizer step, a constrained
weight is replaced by ``constraint(w)`` (Keras's optimizer does the same, for the weights it trains).

==============================================  ===================================================
class                                           w becomes (norms over ``axis``, eps = 1e-7)
==============================================  ===================================================
MaxNorm(max_value=2, axis=0)                    ``w * clip(norm, 0, max_value) / (eps + norm)``
MinMaxNorm(min_value=0, max_value=1, rate=1,    ``w * (rate * clip(norm, min, max) + (1 - rate) *
axis=0)                                         norm) / (eps + norm)``
NonNeg()                                        ``max(w, 0)``
UnitNorm(axis=0)                                ``w / (eps + norm)``
==============================================  ===================================================

In a Dense kernel of shape (inputs, units), axis 0 constrains each unit's incoming weight vector.
The lowercase names (``max_norm``, ...) are the same classes; ``get(identifier)`` takes a name
(``"max_norm"`` or ``"MaxNorm"``), a class, an instance, a ``serialize()`` dict or any callable.
"""
import numpy as np

from .utils import checks
from .utils.registry import Configurable, resolve
from .utils.registry import serialize as serialize_object

__all__ = ["Constraint", "MaxNorm", "MinMaxNorm", "NonNeg", "UnitNorm", "max_norm", "min_max_norm", "non_neg",
           "unit_norm", "get", "checked", "serialize", "deserialize"]

EPSILON = 1e-7  # Keras's backend.epsilon()


class Constraint(Configurable):
    """Base class: ``constraint(w)`` returns the projected weight (the identity here)."""

    def __call__(self, w):
        return w


def norms(w, axis):
    """The Euclidean norms of w along `axis`, kept as axes of size 1."""
    return np.sqrt(np.sum(np.square(w), axis=axis, keepdims=True))


def rescaled(w, norm, desired):
    """w * (desired / (eps + norm)), in w's dtype (Keras's rescaling to a desired norm)."""
    return (w * (desired / (w.dtype.type(EPSILON) + norm))).astype(w.dtype, copy=False)


class MaxNorm(Constraint):
    """Each vector along `axis` rescaled to a norm of at most max_value."""

    def __init__(self, max_value=2, axis=0):
        self.max_value = checks.real("max_value", max_value)
        self.axis = axis

    def __call__(self, w):
        w = np.asarray(w)
        norm = norms(w, self.axis)
        return rescaled(w, norm, np.clip(norm, 0, w.dtype.type(self.max_value)))

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}


class MinMaxNorm(Constraint):
    """Each vector along `axis` moved towards a norm in [min_value, max_value] (all the way at rate 1)."""

    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        self.min_value = checks.real("min_value", min_value)
        self.max_value = checks.real("max_value", max_value)
        self.rate = checks.real("rate", rate)
        self.axis = axis

    def __call__(self, w):
        w = np.asarray(w)
        t = w.dtype.type
        norm = norms(w, self.axis)
        desired = t(self.rate) * np.clip(norm, t(self.min_value), t(self.max_value)) + t(1 - self.rate) * norm
        return rescaled(w, norm, desired)

    def get_config(self):
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate, "axis": self.axis}


class NonNeg(Constraint):
    """Negative weights set to 0."""

    def __call__(self, w):
        w = np.asarray(w)
        return np.maximum(w, w.dtype.type(0))


class UnitNorm(Constraint):
    """Each vector along `axis` rescaled to unit norm."""

    def __init__(self, axis=0):
        self.axis = axis

    def __call__(self, w):
        w = np.asarray(w)
        return (w / (w.dtype.type(EPSILON) + norms(w, self.axis))).astype(w.dtype, copy=False)

    def get_config(self):
        return {"axis": self.axis}


max_norm, min_max_norm, non_neg, unit_norm = MaxNorm, MinMaxNorm, NonNeg, UnitNorm

_BY_NAME = {"max_norm": MaxNorm, "min_max_norm": MinMaxNorm, "non_neg": NonNeg, "unit_norm": UnitNorm}


def get(identifier):
    """A constraint from a name, a class or instance, a serialize() dict or a callable; None -> None."""
    return resolve(identifier, "constraint", Constraint, _BY_NAME)


def checked(name, identifier, ndim):
    """get(identifier), with its `axis` (if it has one) checked against a weight of `ndim` axes: a
    bad axis fails here, not after the optimizer step that the constraint follows."""
    constraint = get(identifier)
    axis = getattr(constraint, "axis", None)
    axes = axis if isinstance(axis, (tuple, list)) else () if axis is None else (axis,)
    for a in axes:
        checks.integer(f"{name}.axis", a, lo=-ndim, hi=ndim - 1)
    return constraint


def serialize(constraint):
    """``{"class_name": ..., "config": ...}`` of one of these constraints (None stays None)."""
    return serialize_object(constraint)


def deserialize(config):
    """The constraint a serialize() dict (or a name) describes."""
    return get(config)
