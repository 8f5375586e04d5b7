"""Keras 3's F-scores: FBetaScore and F1Score, per class or averaged (micro, macro, weighted), from
counts of true positives, false positives and false negatives. As Keras: a prediction is positive
where it reaches its row's maximum (and is not ~0) without a threshold, else where it is above the
threshold; the result is computed in the metric's dtype with Keras's epsilon in each ratio."""
import numpy as np

from ..losses.functions import EPSILON
from .base import Metric

AVERAGES = (None, "micro", "macro", "weighted")


class FBetaScore(Metric):
    """(1 + beta^2) * precision * recall / (beta^2 * precision + recall), per class (an array of
    the classes' scores, ``average=None``) or averaged. y_true and y_pred are (samples, classes):
    one-hot or multi-label targets, scores or probabilities."""

    direction = "up"

    def __init__(self, average=None, beta=1.0, threshold=None, name="fbeta_score", dtype=None):
        if average not in AVERAGES:
            raise ValueError(f"average must be one of None, 'micro', 'macro', 'weighted', got {average!r}")
        if not isinstance(beta, float):  # Keras takes a Python float only
            raise TypeError(f"beta must be a Python float, got {beta!r}")
        if not beta > 0.0:
            raise ValueError(f"beta must be > 0, got {beta!r}")
        if threshold is not None:
            if not isinstance(threshold, float):
                raise TypeError(f"threshold must be a Python float or None, got {threshold!r}")
            if not 0.0 < threshold <= 1.0:
                raise ValueError(f"threshold must be in (0, 1], got {threshold!r}")
        self.average, self.beta, self.threshold = average, beta, threshold
        super().__init__(name=name, dtype=dtype)

    def reset_state(self):
        self.true_positives = self.false_positives = self.false_negatives = self.intermediate_weights = None

    def update_state(self, y_true, y_pred, sample_weight=None):
        dt = np.dtype(self.dtype)
        y_true, y_pred = np.asarray(y_true, dt), np.asarray(y_pred, dt)
        if y_true.ndim != 2 or y_pred.ndim != 2:
            raise ValueError(f"{type(self).__name__} takes 2-D y_true and y_pred (samples, classes), got shapes "
                             f"{y_true.shape} and {y_pred.shape}")
        if self.threshold is None:
            positive = (y_pred >= y_pred.max(axis=-1, keepdims=True)) & (np.abs(y_pred) > 1e-9)
        else:
            positive = y_pred > dt.type(self.threshold)
        predicted = positive.astype(dt)
        weights = None if sample_weight is None else np.asarray(sample_weight, dt).reshape(-1, 1)
        axis = None if self.average == "micro" else 0

        def weighted_sum(values):
            return (values if weights is None else values * weights).sum(axis=axis, dtype=dt)

        counts = (weighted_sum(predicted * y_true), weighted_sum(predicted * (1 - y_true)),
                  weighted_sum((1 - predicted) * y_true), weighted_sum(y_true))
        if self.true_positives is None:
            zero = np.zeros_like(counts[0])
            self.true_positives = self.false_positives = self.false_negatives = self.intermediate_weights = zero
        self.true_positives = self.true_positives + counts[0]
        self.false_positives = self.false_positives + counts[1]
        self.false_negatives = self.false_negatives + counts[2]
        self.intermediate_weights = self.intermediate_weights + counts[3]

    def result(self):
        dt = np.dtype(self.dtype)
        if self.true_positives is None:  # nothing seen yet
            return 0.0
        eps = dt.type(EPSILON)
        tp, fp, fn = self.true_positives, self.false_positives, self.false_negatives
        precision = tp / (tp + fp + eps)
        recall = tp / (tp + fn + eps)
        beta2 = dt.type(self.beta ** 2)
        score = precision * recall / (beta2 * precision + recall + eps) * (dt.type(1) + beta2)
        if self.average == "weighted":
            weights = self.intermediate_weights / (self.intermediate_weights.sum(dtype=dt) + eps)
            return float((score * weights).sum(dtype=dt))
        if self.average is not None:
            return float(np.mean(score, dtype=dt))
        return score

    def get_config(self):
        return {**super().get_config(), "average": self.average, "beta": self.beta, "threshold": self.threshold}


class F1Score(FBetaScore):
    """FBetaScore with beta = 1: the harmonic mean of precision and recall."""

    def __init__(self, average=None, threshold=None, name="f1_score", dtype=None):
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name, dtype=dtype)

    def get_config(self):
        config = super().get_config()
        del config["beta"]
        return config
