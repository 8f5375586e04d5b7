"""Metrics as Keras 3 has them: stateful classes (update_state / result / reset_state), the
per-sample accuracy functions, and ``get`` for compile's names.

"accuracy" / "acc" resolves as Keras does from the shapes: binary when the output has one column,
sparse categorical when the targets are class indices (one value per sample), categorical
otherwise. For the model, every metric also has update(pred, target) / reset() / result(), and
the running means add(total, count).
"""
from ..utils import checks
from ..utils.naming import snake_case
from .accuracy import (
    Accuracy,
    BinaryAccuracy,
    CategoricalAccuracy,
    SparseCategoricalAccuracy,
    SparseTopKCategoricalAccuracy,
    TopKCategoricalAccuracy,
    accuracy,
    binary_accuracy,
    categorical_accuracy,
    sparse_categorical_accuracy,
    sparse_top_k_categorical_accuracy,
    top_k_categorical_accuracy,
)
from .base import Mean, MeanMetricWrapper, Metric
from .confusion import AUC, Precision, Recall
from .f_score import F1Score, FBetaScore
from .regression import (
    CosineSimilarity,
    LogCoshError,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
    R2Score,
    RootMeanSquaredError,
)

__all__ = ["Metric", "Mean", "MeanMetricWrapper", "get", "serialize", "deserialize", "NAMES", "Accuracy",
           "BinaryAccuracy", "CategoricalAccuracy", "SparseCategoricalAccuracy", "TopKCategoricalAccuracy",
           "SparseTopKCategoricalAccuracy", "Precision", "Recall", "AUC", "MeanSquaredError", "RootMeanSquaredError",
           "MeanAbsoluteError", "MeanAbsolutePercentageError", "MeanSquaredLogarithmicError", "LogCoshError",
           "CosineSimilarity", "R2Score", "F1Score", "FBetaScore", "accuracy", "binary_accuracy", "categorical_accuracy",
           "sparse_categorical_accuracy", "top_k_categorical_accuracy", "sparse_top_k_categorical_accuracy"]

CLASSES = (Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy, TopKCategoricalAccuracy,
           SparseTopKCategoricalAccuracy, Precision, Recall, AUC, MeanSquaredError, RootMeanSquaredError,
           MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredLogarithmicError, LogCoshError,
           CosineSimilarity, R2Score, F1Score, FBetaScore, Mean)

# Keras's metric names: each class's name and its snake_case, and the short aliases; compared in
# lower case. "accuracy" / "acc" are resolved from the shapes (see get).
BY_NAME = {**{cls.__name__.lower(): cls for cls in CLASSES}, **{snake_case(cls.__name__): cls for cls in CLASSES},
           "mse": MeanSquaredError, "mae": MeanAbsoluteError, "mape": MeanAbsolutePercentageError,
           "msle": MeanSquaredLogarithmicError}
NAMES = ("accuracy", "acc", *sorted(set(BY_NAME) - {"accuracy"}))


def get(identifier, output_dim=None, sparse_targets=False):
    """The metric `identifier` (a Keras name, a Metric class or instance, or a function
    ``fn(y_true, y_pred) -> per-sample values``) for a model with `output_dim` outputs whose
    targets are class indices when `sparse_targets`. A name becomes the metric's name. Without
    output_dim (keras.metrics.get), "accuracy" / "acc" is Accuracy, as in Keras."""
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if isinstance(identifier, str):
        key = identifier.lower()
        if key in ("accuracy", "acc"):
            if output_dim is None:
                cls = Accuracy
            elif output_dim == 1:
                cls = BinaryAccuracy
            elif sparse_targets:
                cls = SparseCategoricalAccuracy
            else:
                cls = CategoricalAccuracy
            return cls(name=identifier)
        if key in BY_NAME:
            return BY_NAME[key](name=identifier)
    elif callable(identifier):
        return MeanMetricWrapper(identifier)
    raise checks.not_one_of("metric", identifier, NAMES, also="a Metric")


def serialize(metric):
    """A Metric as ``{"class_name": ..., "config": metric.get_config()}``."""
    if type(metric) not in CLASSES:
        raise TypeError(f"metric must be one of nnfast's Metric classes to be serialized, got {metric!r}")
    return {"class_name": type(metric).__name__, "config": metric.get_config()}


def deserialize(config):
    """The Metric a ``serialize`` dict describes."""
    if not isinstance(config, dict) or set(config) != {"class_name", "config"}:
        raise ValueError(f"config must be a dict with keys 'class_name' and 'config', got {config!r}")
    cls = BY_NAME.get(str(config["class_name"]).lower())
    if cls is None:
        raise checks.not_one_of("config['class_name']", config["class_name"], tuple(c.__name__ for c in CLASSES))
    return cls.from_config(config["config"])
