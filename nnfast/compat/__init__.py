"""Drop-in faces of nnfast for code written against other libraries' APIs.

* :mod:`nnfast.compat.dlfs` -- the optimizer classes of "Deep Learning from Scratch"
  (``common/optimizer.py``: SGD, Momentum, Nesterov, AdaGrad, RMSprop, Adam with
  ``update(params, grads)`` on dicts), running on the fused update functions of :mod:`nnfast.ops`.
"""
from . import dlfs

__all__ = ["dlfs"]
