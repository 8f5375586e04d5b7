"""Keras 3's accuracy metrics: the per-sample functions and their running-mean classes. The
model's native runs count argmax accuracy for CategoricalAccuracy and SparseCategoricalAccuracy
(through Mean.add)."""
import numpy as np

from ..losses.functions import same_rank
from ..utils import checks
from .base import MeanMetricWrapper


def accuracy(y_true, y_pred):
    """1.0 where y_true equals y_pred exactly."""
    y_pred = np.asarray(y_pred)
    y_true, y_pred = same_rank(np.asarray(y_true).astype(y_pred.dtype), y_pred)
    return (y_true == y_pred).astype(np.float32)


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """1.0 where y_true equals (y_pred > threshold), elementwise (the metric averages each sample's)."""
    y_true, y_pred = same_rank(np.asarray(y_true), np.asarray(y_pred))
    return (y_true == (y_pred > threshold).astype(y_true.dtype)).astype(np.float32)


def categorical_accuracy(y_true, y_pred):
    """1.0 where argmax(y_pred) is argmax(y_true) (one-hot targets)."""
    return (np.argmax(y_true, axis=-1) == np.argmax(y_pred, axis=-1)).astype(np.float32)


def class_indices(y_true, y_pred):
    """Class indices of y_pred's rank minus one (a trailing axis of 1 squeezed)."""
    y_true = np.asarray(y_true)
    if y_true.ndim == np.ndim(y_pred) and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
    return y_true


def sparse_categorical_accuracy(y_true, y_pred):
    """1.0 where argmax(y_pred) is the class index y_true."""
    return (np.argmax(y_pred, axis=-1) == class_indices(y_true, y_pred)).astype(np.float32)


def top_k_rows(targets, predictions):
    """(targets as int64 class indices, predictions as rows of class scores), checked: a class axis
    of at least one class, one target per row, every target a class. Keras's torch backend would
    stop in torch's indexing on any of these; here each is a ValueError naming the argument."""
    predictions = np.asarray(predictions)
    if predictions.ndim < 1 or predictions.shape[-1] < 1:
        raise ValueError(f"y_pred must have a class axis of at least one class for top-k accuracy, got shape "
                         f"{predictions.shape}")
    predictions = predictions.reshape(-1, predictions.shape[-1])
    targets = np.asarray(targets)
    if targets.size != predictions.shape[0]:
        raise ValueError(f"y_true must give one class per row of y_pred for top-k accuracy: {targets.size} "
                         f"targets for {predictions.shape[0]} rows")
    with np.errstate(invalid="ignore"):
        targets = targets.reshape(-1).astype(np.int64)
    classes = predictions.shape[-1]
    if targets.size and (targets.min() < 0 or targets.max() >= classes):
        raise ValueError(f"y_true's class indices must lie in [0, {classes}) for top-k accuracy, got "
                         f"{targets.min()} .. {targets.max()}")
    return targets, predictions


def in_top_k(targets, predictions, k):
    """Whether each target's prediction is at least the k-th largest of its row (ties count, as
    Keras's in_top_k)."""
    targets, predictions = top_k_rows(targets, predictions)
    k = min(k, predictions.shape[-1])
    kth = np.sort(predictions, axis=-1)[:, -k]
    return np.take_along_axis(predictions, targets[:, None], axis=-1)[:, 0] >= kth


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1.0 where argmax(y_true) is among the k largest predictions."""
    targets = np.argmax(y_true, axis=-1)
    return in_top_k(targets, y_pred, k).astype(np.float32).reshape(targets.shape)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5, from_sorted_ids=False):
    """1.0 where the class index y_true is among the k largest predictions (or, from_sorted_ids,
    among the first k of the class ids y_pred)."""
    targets = np.asarray(y_true)
    if from_sorted_ids:
        ids = np.asarray(y_pred)
        if ids.ndim < 1 or ids.shape[-1] < 1 or targets.size * ids.shape[-1] != ids.size:
            raise ValueError(f"y_pred must hold a row of class ids for each of y_true's {targets.size} targets, "
                             f"got shape {ids.shape}")
        ids = ids.reshape(-1, ids.shape[-1])[:, :k]
        matches = np.any(ids == targets.reshape(-1, 1), axis=1)
    else:
        matches = in_top_k(targets, y_pred, k)
    return matches.astype(np.float32).reshape(targets.shape)


class Accuracy(MeanMetricWrapper):
    direction = "up"

    def __init__(self, name="accuracy", dtype=None):
        super().__init__(accuracy, name=name, dtype=dtype)


class BinaryAccuracy(MeanMetricWrapper):
    direction = "up"

    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        super().__init__(binary_accuracy, name=name, dtype=dtype,
                         threshold=checks.real("threshold", threshold, lo=-np.inf))
        self.threshold = threshold


class CategoricalAccuracy(MeanMetricWrapper):
    direction = "up"

    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(categorical_accuracy, name=name, dtype=dtype)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    direction = "up"

    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(sparse_categorical_accuracy, name=name, dtype=dtype)


class TopKCategoricalAccuracy(MeanMetricWrapper):
    direction = "up"

    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        super().__init__(top_k_categorical_accuracy, name=name, dtype=dtype, k=checks.integer("k", k, lo=1))
        self.k = k


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    direction = "up"

    def __init__(self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None, from_sorted_ids=False):
        super().__init__(sparse_top_k_categorical_accuracy, name=name, dtype=dtype, k=checks.integer("k", k, lo=1),
                         from_sorted_ids=checks.flag("from_sorted_ids", from_sorted_ids))
        self.k = k
        self.from_sorted_ids = from_sorted_ids
