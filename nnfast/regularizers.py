"""Weight regularizers with Keras names and penalties.

A regularizer adds ``reg(w)`` to the loss and ``reg.gradient(w)`` to the weight's gradient:

==========  ===================================  =========================================
class       penalty (Keras)                      gradient
==========  ===================================  =========================================
L2(l2)      ``l2 * sum(w**2)``                   ``2 * l2 * w``
L1(l1)      ``l1 * sum(|w|)``                    ``l1 * sign(w)`` (0 at w == 0)
L1L2(l1,    both terms                           both terms
l2)
==========  ===================================  =========================================

Defaults as Keras 3: ``L1(0.01)``, ``L2(0.01)``, ``L1L2(0.0, 0.0)``. The lowercase aliases ``l1``,
``l2`` and ``l1_l2`` are the same classes (``regularizers.l2(0.01)`` is an ``L2``). Penalties are
summed in float64 and returned as a Python float; gradients have ``w``'s dtype and shape.
``get(identifier)`` follows the rule of :func:`nnfast.initializers.get`.
"""

import math

import numpy as np

from .utils import checks
from .utils.registry import Configurable, resolve

__all__ = ["Regularizer", "L1L2", "L1", "L2", "l1", "l2", "l1_l2", "get", "for_training"]


class Regularizer(Configurable):
    """Base class: ``reg(w) -> float`` penalty and ``reg.gradient(w, out=None)`` its gradient."""

    def __call__(self, w):
        raise NotImplementedError

    def gradient(self, w, out=None):
        """d penalty / d w, written to ``out`` (same shape and dtype as ``w``) when given."""
        raise NotImplementedError


class L1L2(Regularizer):
    """``l1 * sum(|w|) + l2 * sum(w**2)``."""

    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = checks.real("l1", l1, 0.0, math.inf, hi_open=True)
        self.l2 = checks.real("l2", l2, 0.0, math.inf, hi_open=True)

    def __call__(self, w):
        w = np.asarray(w)
        penalty = 0.0
        if self.l1:
            penalty += self.l1 * float(np.sum(np.abs(w), dtype=np.float64))
        if self.l2:
            penalty += self.l2 * float(np.sum(np.square(w, dtype=np.float64)))
        return penalty

    def gradient(self, w, out=None):
        w = np.asarray(w)
        if out is None:
            out = np.empty_like(w)
        elif not isinstance(out, np.ndarray):
            raise TypeError(f"out must be a numpy array, got {type(out).__name__}")
        elif out.shape != w.shape or out.dtype != w.dtype:
            raise ValueError(f"out must have w's shape {w.shape} and dtype {w.dtype}, "
                             f"got {out.shape} {out.dtype}")
        if self.l1:
            np.sign(w, out=out)
            out *= self.l1
            if self.l2:
                out += (2.0 * self.l2) * w
        else:
            np.multiply(w, 2.0 * self.l2, out=out)
        return out

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class L1(L1L2):
    """``l1 * sum(|w|)``; gradient ``l1 * sign(w)``."""

    def __init__(self, l1=0.01):
        super().__init__(l1=l1)

    def get_config(self):
        return {"l1": self.l1}


class L2(L1L2):
    """``l2 * sum(w**2)``; gradient ``2 * l2 * w``."""

    def __init__(self, l2=0.01):
        super().__init__(l2=l2)

    def get_config(self):
        return {"l2": self.l2}


l1, l2, l1_l2 = L1, L2, L1L2

_BY_NAME = {"l1": L1, "l2": L2, "l1_l2": L1L2}


def get(identifier):
    """A regularizer from a name ("l1", "l2", "l1_l2"), a class or instance, or a callable; None -> None."""
    return resolve(identifier, "regularizer", Regularizer, _BY_NAME)


def for_training(name, identifier):
    """get(identifier) for a layer that trains with it: a regularizer must also give its gradient
    (nnfast has no automatic differentiation), so a plain callable is a TypeError naming `name`."""
    regularizer = get(identifier)
    if regularizer is not None and not callable(getattr(regularizer, "gradient", None)):
        raise TypeError(f"{name} must be an nnfast regularizer (L1, L2, L1L2, or a Regularizer subclass with "
                        f"gradient()), got {identifier!r}: nnfast cannot differentiate a plain callable")
    return regularizer
