"""torch.optim optimizers on nnfast's fused kernels: ``import nnfast.compat.torch as optim``.

SGD, Adam, AdamW, Adagrad, RMSprop, Adamax, NAdam, RAdam and Adadelta, each a subclass of its
torch.optim namesake with the same constructor, defaults and state_dict format, whose ``step``
updates CPU float32/float64 tensors in place with one fused nnfast call per param group, through
the tensors' own memory (no copy). Checkpoints interchange with torch.optim in both directions;
torch's LR schedulers, closures, param groups and step hooks work as with torch.optim. What is
supported, the no-op flags (``foreach``, ``fused``) and the errors: docs/torch.md.

PyTorch is an optional dependency of nnfast (``pip install 'nnfast[torch]'``).
"""
try:
    import torch  # noqa: F401 - the dependency this module exists for
except ImportError as err:
    raise ImportError("nnfast.compat.torch needs PyTorch, an optional dependency of nnfast: "
                      "pip install 'nnfast[torch]' (or install torch itself, e.g. its CPU build)") from err

from .optimizers import SGD, Adadelta, Adagrad, Adam, Adamax, AdamW, NAdam, RAdam, RMSprop

__all__ = ["SGD", "Adam", "AdamW", "Adagrad", "RMSprop", "Adamax", "NAdam", "RAdam", "Adadelta"]
