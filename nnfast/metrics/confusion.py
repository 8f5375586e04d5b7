"""Keras 3's confusion-matrix metrics: Precision, Recall (at thresholds, optionally on the top-k
predictions or one class) and AUC (ROC, PR or PR-gain curve from a confusion matrix at
num_thresholds thresholds). Counts follow Keras's update_confusion_matrix_variables: predictions
in the metric's dtype (float32 by default), labels positive where non-zero, a prediction positive
at a threshold when strictly above it; AUC's evenly spaced thresholds by Keras's bucket formula."""
import numpy as np

from ..losses.functions import EPSILON, same_rank
from ..utils import checks
from .base import Metric, divide_no_nan

NEG_INF = -1e10  # Keras's value for predictions outside the top k


def filter_top_k(y_pred, k):
    """y_pred with all but the k largest of each row set to NEG_INF."""
    keep = np.zeros(y_pred.shape, bool)
    np.put_along_axis(keep, np.argsort(-y_pred, axis=-1, kind="stable")[..., :k], True, axis=-1)
    return np.where(keep, y_pred, y_pred.dtype.type(NEG_INF))


def aligned(y_true, y_pred, sample_weight, dtype, top_k=None, class_id=None):
    """(labels, predictions, weights) as flat arrays, as Keras lines them up."""
    y_pred = np.asarray(y_pred, dtype)
    y_true = np.asarray(y_true, dtype)
    y_pred, y_true = same_rank(y_pred, y_true)
    if sample_weight is not None:
        sample_weight = np.asarray(sample_weight, dtype)[..., None]
        _, sample_weight = same_rank(y_true, sample_weight, expand_rank_1=False)
    if top_k is not None:
        y_pred = filter_top_k(y_pred, top_k)
    if class_id is not None:
        if y_pred.ndim == 1:
            raise ValueError(f"y_pred must be 2-D (samples, classes) with class_id, got shape {y_pred.shape}")
        y_true, y_pred = y_true[..., class_id, None], y_pred[..., class_id, None]
    weights = np.ones(y_pred.shape) if sample_weight is None else np.broadcast_to(sample_weight, y_pred.shape)
    return (np.broadcast_to(y_true, y_pred.shape).reshape(-1) != 0, y_pred.reshape(-1),
            weights.reshape(-1).astype(np.float64))


def confusion_counts(labels, preds, weights, thresholds):
    """Weighted (tp, fp, tn, fn) at each threshold: positive means pred > threshold."""
    positive = preds[None, :] > thresholds[:, None]
    w_true, w_false = np.where(labels, weights, 0.0), np.where(labels, 0.0, weights)
    tp, fp = positive @ w_true, positive @ w_false
    return tp, fp, w_false.sum() - fp, w_true.sum() - tp


def parse_thresholds(thresholds, default):
    if thresholds is None:
        return [default]
    values = [thresholds] if np.isscalar(thresholds) else list(thresholds)
    for t in values:
        checks.real("thresholds", t, 0.0, 1.0)
    return values


class ThresholdMetric(Metric):
    """Precision and Recall: counts at thresholds, a ratio of two of them as the result."""

    direction = "up"

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        self.init_thresholds = thresholds
        self.top_k = checks.optional_integer("top_k", top_k, lo=1)
        self.class_id = checks.optional_integer("class_id", class_id)
        default = 0.5 if top_k is None else NEG_INF
        self.thresholds = parse_thresholds(thresholds, default)
        super().__init__(name=name, dtype=dtype)

    def reset_state(self):
        self.true_positives = np.zeros(len(self.thresholds))
        self.false_positives = np.zeros(len(self.thresholds))
        self.false_negatives = np.zeros(len(self.thresholds))

    def update_state(self, y_true, y_pred, sample_weight=None):
        labels, preds, weights = aligned(y_true, y_pred, sample_weight, self.dtype, self.top_k, self.class_id)
        tp, fp, _, fn = confusion_counts(labels, preds, weights, np.asarray(self.thresholds, self.dtype))
        self.true_positives += tp
        self.false_positives += fp
        self.false_negatives += fn

    def ratio(self, other):
        result = divide_no_nan(self.true_positives, self.true_positives + other)
        return float(result[0]) if len(self.thresholds) == 1 else result

    def get_config(self):
        return {**super().get_config(), "thresholds": self.init_thresholds, "top_k": self.top_k,
                "class_id": self.class_id}


class Precision(ThresholdMetric):
    """tp / (tp + fp) at each threshold (a float for one threshold)."""

    def result(self):
        return self.ratio(self.false_positives)


class Recall(ThresholdMetric):
    """tp / (tp + fn) at each threshold (a float for one threshold)."""

    def result(self):
        return self.ratio(self.false_negatives)


CURVES = ("ROC", "PR", "PRGAIN")
SUMMATION_METHODS = ("interpolation", "minoring", "majoring")


def evenly_spaced(thresholds):
    n = len(thresholds)
    return n >= 3 and np.allclose(thresholds, np.arange(n, dtype=np.float32) / (n - 1), atol=EPSILON)


class AUC(Metric):
    """Keras's AUC for one label (multi_label=False): the area under the ROC, PR or PR-gain curve
    by a Riemann sum over the thresholds (interpolation: midpoints, and Davis & Goadrich's
    interpolation for PR; minoring / majoring)."""

    direction = "up"

    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation", name=None, dtype=None,
                 thresholds=None, multi_label=False, num_labels=None, label_weights=None, from_logits=False):
        if multi_label or num_labels is not None or label_weights is not None:
            raise ValueError("multi_label must be False, with num_labels and label_weights None (nnfast does "
                             f"not support them yet), got multi_label={multi_label!r}")
        self.curve = checks.one_of("curve", str(curve).upper(), CURVES)
        self.summation_method = checks.one_of("summation_method", str(summation_method).lower(), SUMMATION_METHODS)
        self.from_logits = checks.flag("from_logits", from_logits)
        self.init_thresholds = thresholds
        if thresholds is not None:
            inner = sorted(parse_thresholds(thresholds, None))
            self.num_thresholds = len(inner) + 2
            self.evenly = evenly_spaced([0.0] + inner + [1.0])
        else:
            self.num_thresholds = checks.integer("num_thresholds", num_thresholds, lo=2)
            inner = [(i + 1) * 1.0 / (self.num_thresholds - 1) for i in range(self.num_thresholds - 2)]
            self.evenly = True
        self.thresholds = np.array([0.0 - EPSILON] + inner + [1.0 + EPSILON])
        super().__init__(name=name, dtype=dtype)

    def reset_state(self):
        self.true_positives, self.false_positives, self.true_negatives, self.false_negatives = (
            np.zeros(self.num_thresholds) for _ in range(4))

    def update_state(self, y_true, y_pred, sample_weight=None):
        if self.from_logits:
            y_pred = 1 / (1 + np.exp(-np.asarray(y_pred, self.dtype)))
        labels, preds, weights = aligned(y_true, y_pred, sample_weight, self.dtype)
        if self.evenly:  # Keras's bucket formula, in the metric's dtype
            preds = np.clip(preds, 0, 1)
            buckets = np.maximum(np.ceil(preds * preds.dtype.type(self.num_thresholds - 1)) - 1, 0).astype(np.int64)
            w_true, w_false = np.where(labels, weights, 0.0), np.where(labels, 0.0, weights)
            tp = np.cumsum(np.bincount(buckets, w_true, self.num_thresholds)[::-1])[::-1]
            fp = np.cumsum(np.bincount(buckets, w_false, self.num_thresholds)[::-1])[::-1]
            tn, fn = w_false.sum() - fp, w_true.sum() - tp
        else:
            tp, fp, tn, fn = confusion_counts(labels, preds, weights, self.thresholds.astype(self.dtype))
        self.true_positives += tp
        self.false_positives += fp
        self.true_negatives += tn
        self.false_negatives += fn

    def interpolate_pr_auc(self):
        tp, fp, fn = self.true_positives, self.false_positives, self.false_negatives
        dtp = tp[:-1] - tp[1:]
        p = tp + fp
        dp = p[:-1] - p[1:]
        slope = divide_no_nan(dtp, np.maximum(dp, 0))
        intercept = tp[1:] - slope * p[1:]
        both = (p[:-1] > 0) & (p[1:] > 0)
        ratio = np.where(both, divide_no_nan(p[:-1], np.maximum(p[1:], 0)), 1.0)
        with np.errstate(divide="ignore"):
            log_ratio = np.log(np.where(ratio > 0, ratio, 1.0))
        return float(np.sum(divide_no_nan(slope * (dtp + intercept * log_ratio), np.maximum(tp[1:] + fn[1:], 0))))

    def result(self):
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self.interpolate_pr_auc()
        tp, fp, tn, fn = self.true_positives, self.false_positives, self.true_negatives, self.false_negatives
        recall = divide_no_nan(tp, tp + fn)
        if self.curve == "ROC":
            x, y = divide_no_nan(fp, fp + tn), recall
        elif self.curve == "PR":
            x, y = recall, divide_no_nan(tp, tp + fp)
        else:  # PR gain, with Keras's fixes where it diverges
            scale = divide_no_nan(tp + fn, tn + fp)
            x = np.maximum(np.where(tp == 0, 0.0, 1.0 - scale * divide_no_nan(fn, tp)), 0.0)
            y = np.where(tp == 0, 1.0, 1.0 - scale * divide_no_nan(fp, tp))
        if self.summation_method == "interpolation":
            heights = (y[:-1] + y[1:]) / 2
        elif self.summation_method == "minoring":
            heights = np.minimum(y[:-1], y[1:])
        else:
            heights = np.maximum(y[:-1], y[1:])
        return float(np.sum((x[:-1] - x[1:]) * heights))

    def get_config(self):
        config = {**super().get_config(), "num_thresholds": self.num_thresholds, "curve": self.curve,
                  "summation_method": self.summation_method, "multi_label": False, "num_labels": None,
                  "label_weights": None, "from_logits": self.from_logits}
        if self.init_thresholds is not None:
            config["thresholds"] = list(self.thresholds[1:-1])
        return config
