"""The functional kernel API: native ops on C-contiguous float32/float64 NumPy arrays.

Every function here has a NumPy twin with the same signature and semantics in
``nnfast.reference``. Arguments are checked before any memory is touched: a wrong type or dtype
raises TypeError, a wrong shape, layout or value raises ValueError, each naming the argument.
Arrays are never converted silently (pass float32/float64, C-contiguous). The GIL is released
inside every kernel.
"""
from . import _core

ACTIVATIONS = tuple(_core.ACTIVATIONS)


def activation_forward(z, activation, out=None):
    """y = activation(z).

    z: array of any shape (softmax: at least 1-D, normalised over the last axis).
    activation: "linear" (or None), "relu", "leaky_relu" (slope 0.2), "sigmoid", "tanh", "softmax".
    out: optional array of z's shape and dtype to write into (may be z itself).
    """
    return _core.activation_forward(z, activation, out)


def activation_backward(y, dy, activation, out=None):
    """dz = dL/dz from the activated output y and the upstream gradient dy (same shape).

    out: optional array to write into (may be y or dy itself).
    """
    return _core.activation_backward(y, dy, activation, out)
