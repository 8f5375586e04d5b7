"""Loss functions by Keras name, for Model.compile.

Each loss maps a model output to (mean loss, gradient wrt that output) through a backend kernel.
(sparse_)categorical_crossentropy after a softmax output layer is fused: the model feeds the
logits to softmax_cross_entropy and skips the softmax backward (see models.py). A custom loss is
a callable ``loss(pred, target) -> (loss, dpred)``.
"""
import numpy as np

from .reference import BCE_EPSILON
from .utils import checks


class Loss:
    """A named loss: ``kernel`` is the backend loss it runs ("mse", "mae", "binary_cross_entropy",
    "softmax_cross_entropy"), ``sparse`` says whether targets are class indices."""
    fuses_softmax = False
    sparse = False
    kernel = None

    def __init__(self, name):
        self.name = name

    def __call__(self, backend, pred, target, out):
        """(loss, dpred) of the model output pred against target, gradient written into out."""
        return backend.loss(self.kernel, pred, target, out)

    def fused(self, backend, logits, target, out):
        """(loss, dlogits) of softmax(logits) against target in one kernel (fuses_softmax only)."""
        return backend.loss("softmax_cross_entropy", logits, target, out)

    def __repr__(self):
        return f"{type(self).__name__}({self.name!r})"


class MeanSquaredError(Loss):
    kernel = "mse"


class MeanAbsoluteError(Loss):
    kernel = "mae"


class BinaryCrossentropy(Loss):
    kernel = "binary_cross_entropy"


class CategoricalCrossentropy(Loss):
    """On logits when fused with a softmax output layer; otherwise on probabilities, clipped to
    [1e-7, 1 - 1e-7] as Keras: loss = -mean_b sum(t log p), grad = -t / p / B (0 where clipped)."""
    fuses_softmax = True

    def __call__(self, backend, pred, target, out):
        if self.sparse:
            onehot = np.zeros_like(pred)
            onehot[np.arange(len(target)), target] = 1
            target = onehot
        lo, hi = pred.dtype.type(BCE_EPSILON), pred.dtype.type(1 - BCE_EPSILON)
        p = np.clip(pred, lo, hi)
        n = max(len(pred), 1)
        loss = -float(np.sum(target * np.log(p))) / n
        np.divide(-target, p * n, out=out)
        out[(pred < lo) | (pred > hi)] = 0
        return loss, out


class SparseCategoricalCrossentropy(CategoricalCrossentropy):
    sparse = True


class CustomLoss(Loss):
    """A user callable ``fn(pred, target) -> (loss, dpred)``."""

    def __init__(self, fn):
        super().__init__(getattr(fn, "__name__", "custom_loss"))
        self.fn = fn

    def __call__(self, backend, pred, target, out):
        loss, grad = self.fn(pred, target)
        out[...] = grad
        return float(loss), out


LOSSES = {
    "mse": MeanSquaredError, "mean_squared_error": MeanSquaredError,
    "mae": MeanAbsoluteError, "mean_absolute_error": MeanAbsoluteError,
    "binary_crossentropy": BinaryCrossentropy,
    "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
}


def get(identifier):
    """A Loss from a Keras name (case-insensitive), a Loss, or a callable (pred, target) -> (loss, dpred)."""
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, str):
        cls = LOSSES.get(identifier.lower())
        if cls is None:
            raise checks.not_one_of("loss", identifier, tuple(LOSSES), also="a callable")
        return cls(identifier.lower())
    if callable(identifier):
        return CustomLoss(identifier)
    raise ValueError(f"loss must be one of {', '.join(LOSSES)} or a callable, got {identifier!r}")
