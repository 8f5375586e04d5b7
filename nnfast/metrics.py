"""Metrics by Keras name, for Model.compile: running means over the samples of an epoch.

"accuracy" / "acc" resolves as Keras does from the shapes: binary when the output has one column,
sparse categorical when the targets are class indices (one value per sample), categorical
otherwise.
"""
import numpy as np

from .utils import checks


class Metric:
    """Sample-weighted running mean of a per-sample value."""

    def __init__(self, name):
        self.name = name
        self.reset()

    def reset(self):
        self._total = 0.0
        self._count = 0

    def update(self, pred, target):
        self.add(self.batch_sum(pred, target), len(pred))

    def add(self, total, count):
        """Adds `count` samples whose values sum to `total` (what update adds for one batch)."""
        self._total += float(total)
        self._count += count

    def result(self):
        return self._total / self._count if self._count else 0.0

    def batch_sum(self, pred, target):
        raise NotImplementedError

    def __repr__(self):
        return f"{type(self).__name__}({self.name!r})"


class BinaryAccuracy(Metric):
    def batch_sum(self, pred, target):
        return np.count_nonzero((pred > 0.5) == (target > 0.5)) / max(pred.shape[1], 1)


class CategoricalAccuracy(Metric):
    def batch_sum(self, pred, target):
        return np.count_nonzero(pred.argmax(axis=1) == target.argmax(axis=1))


class SparseCategoricalAccuracy(Metric):
    def batch_sum(self, pred, target):
        return np.count_nonzero(pred.argmax(axis=1) == target)


def _dense_targets(pred, target):
    """Class indices as one-hot rows, so regression metrics compare like with like."""
    if target.ndim == 1 and pred.ndim == 2:
        onehot = np.zeros_like(pred)
        onehot[np.arange(len(target)), target] = 1
        return onehot
    return target


class MeanAbsoluteError(Metric):
    def batch_sum(self, pred, target):
        target = _dense_targets(pred, target)
        return np.abs(pred - target).sum() / max(pred.shape[1], 1)


class MeanSquaredError(Metric):
    def batch_sum(self, pred, target):
        target = _dense_targets(pred, target)
        d = pred - target
        return np.einsum("ij,ij->", d, d) / max(pred.shape[1], 1)


NAMES = ("accuracy", "acc", "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy",
         "mae", "mean_absolute_error", "mse", "mean_squared_error")
_FIXED = {
    "binary_accuracy": BinaryAccuracy, "categorical_accuracy": CategoricalAccuracy,
    "sparse_categorical_accuracy": SparseCategoricalAccuracy,
    "mae": MeanAbsoluteError, "mean_absolute_error": MeanAbsoluteError,
    "mse": MeanSquaredError, "mean_squared_error": MeanSquaredError,
}


def get(identifier, output_dim, sparse_targets):
    """The metric called `identifier`, for a model with `output_dim` outputs whose targets are class
    indices when `sparse_targets`."""
    if isinstance(identifier, Metric):
        return identifier
    if not isinstance(identifier, str) or identifier.lower() not in NAMES:
        raise checks.not_one_of("metric", identifier, tuple(NAMES), also="a Metric")
    name = identifier.lower()
    if name in ("accuracy", "acc"):
        if output_dim == 1:
            cls = BinaryAccuracy
        elif sparse_targets:
            cls = SparseCategoricalAccuracy
        else:
            cls = CategoricalAccuracy
        return cls(identifier)
    return _FIXED[name](identifier)
