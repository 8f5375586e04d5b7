"""A 2-layer MLP (Dense relu, Dense linear, softmax cross-entropy, Adam) trained in a nogil Cython
loop through nnfast's C API: see mlp.pyx."""
from .mlp import MLP

__all__ = ["MLP"]
