"""Keras 3's regression metrics: running means of the loss functions (MSE, MAE, MAPE, MSLE, LogCosh,
CosineSimilarity), RootMeanSquaredError and R2Score. For the model, class-index targets of a
multi-output model count as one-hot rows (so regression metrics compare like with like)."""
import warnings

import numpy as np

from ..losses import functions
from ..losses.functions import same_rank
from ..utils import checks
from .base import Mean, MeanMetricWrapper, divide_no_nan


def model_dense_targets(pred, target):
    """Class indices (one per sample) as one-hot rows of pred's shape; other targets as they are."""
    if target.ndim == 1 and pred.ndim == 2 and pred.shape[1] > 1:
        return functions.one_hot_targets(target, pred)
    return target


class RegressionMetric(MeanMetricWrapper):
    """A running mean of a loss function; one-hot targets for the model when it has class indices."""

    direction = "down"

    def model_targets(self, pred, target):
        return model_dense_targets(pred, target)


def regression_metric(class_name, fn, default_name):
    def __init__(self, name=default_name, dtype=None):
        RegressionMetric.__init__(self, fn, name=name, dtype=dtype)

    return type(class_name, (RegressionMetric,), {"__init__": __init__, "__module__": __name__,
                                                  "__doc__": f"Keras's {class_name}: the mean of {fn.__name__}."})


MeanSquaredError = regression_metric("MeanSquaredError", functions.mean_squared_error, "mean_squared_error")
MeanAbsoluteError = regression_metric("MeanAbsoluteError", functions.mean_absolute_error, "mean_absolute_error")
MeanAbsolutePercentageError = regression_metric("MeanAbsolutePercentageError",
                                                functions.mean_absolute_percentage_error,
                                                "mean_absolute_percentage_error")
MeanSquaredLogarithmicError = regression_metric("MeanSquaredLogarithmicError",
                                                functions.mean_squared_logarithmic_error,
                                                "mean_squared_logarithmic_error")
LogCoshError = regression_metric("LogCoshError", functions.log_cosh, "logcosh")


def cosine_similarity(y_true, y_pred, axis=-1):
    """sum(l2_normalize(y_true) * l2_normalize(y_pred)) over `axis` (the loss without its sign)."""
    return -functions.cosine_similarity(y_true, y_pred, axis=axis)


class CosineSimilarity(RegressionMetric):
    direction = "up"

    def __init__(self, name="cosine_similarity", dtype=None, axis=-1):
        super().__init__(cosine_similarity, name=name, dtype=dtype, axis=axis)


class RootMeanSquaredError(Mean):
    """sqrt of the (weighted) mean of the squared errors."""

    direction = "down"

    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = same_rank(np.asarray(y_true, self.dtype), np.asarray(y_pred, self.dtype))
        super().update_state((y_pred - y_true) ** 2, sample_weight=sample_weight)

    def result(self):
        return float(np.sqrt(super().result()))

    def model_targets(self, pred, target):
        return model_dense_targets(pred, target)


class R2Score(Mean):
    """The coefficient of determination per output, aggregated over the outputs ("uniform_average",
    "variance_weighted_average", or None: one per output), adjusted for num_regressors when > 0."""

    direction = "up"

    def __init__(self, class_aggregation="uniform_average", num_regressors=0, name="r2_score", dtype=None):
        self.class_aggregation = checks.one_of("class_aggregation", class_aggregation,
                                               (None, "uniform_average", "variance_weighted_average"))
        self.num_regressors = checks.integer("num_regressors", num_regressors)
        super().__init__(name=name, dtype=dtype)

    def reset_state(self):
        self.sums = self.squared_sums = self.residuals = self.counts = np.zeros(())  # 0/0: NaN, as Keras
        self.num_samples = 0

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = same_rank(np.asarray(y_true, self.dtype), np.asarray(y_pred, self.dtype))
        if y_true.ndim != 2 or y_pred.ndim != 2:
            raise ValueError(f"y_true and y_pred must be 2-D (batch, outputs), got shapes {y_true.shape} "
                             f"and {y_pred.shape}")
        weights = np.ones(()) if sample_weight is None else np.asarray(sample_weight, self.dtype)
        if weights.ndim == 1:
            weights = weights[:, None]
        weights = np.broadcast_to(weights, y_true.shape).astype(np.float64)
        t = y_true.astype(np.float64)
        self.sums = self.sums + np.sum(t * weights, axis=0)
        self.squared_sums = self.squared_sums + np.sum(t * t * weights, axis=0)
        self.residuals = self.residuals + np.sum((t - y_pred) ** 2 * weights, axis=0)
        self.counts = self.counts + np.sum(weights, axis=0)
        self.num_samples += y_true.size  # Keras counts elements here

    def result(self):
        with np.errstate(divide="ignore", invalid="ignore"):
            mean = self.sums / self.counts
            total = self.squared_sums - self.sums * mean
            raw = 1 - self.residuals / total
        raw = np.where(np.isinf(raw), 0.0, raw)
        if self.class_aggregation == "uniform_average":
            score = np.mean(raw)
        elif self.class_aggregation == "variance_weighted_average":
            score = divide_no_nan(np.sum(total * raw), np.sum(total))
        else:
            score = raw
        n, p = self.num_samples, self.num_regressors
        if p:
            if p >= n - 1:
                warnings.warn("More independent predictors than datapoints in adjusted R2 score (or a "
                              "division by zero). Falling back to standard R2 score.", stacklevel=2)
            else:
                score = 1 - (1 - score) * (n - 1) / (n - p - 1)
        return float(score) if np.ndim(score) == 0 else score

    def get_config(self):
        return {**super().get_config(), "class_aggregation": self.class_aggregation,
                "num_regressors": self.num_regressors}
