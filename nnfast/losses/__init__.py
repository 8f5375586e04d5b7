"""Losses as Keras 3 has them: classes (``MeanSquaredError(reduction=..., name=..., dtype=...)``,
``loss(y_true, y_pred, sample_weight=None) -> float``), functions by name returning per-sample
values (``mean_squared_error(y_true, y_pred)``), and ``get`` for compile's identifiers.

For training, every loss gives the model ``value_and_grad(backend, pred, target, out)``: the mean
loss of a batch and its gradient w.r.t. the model output. MSE, MAE and binary cross-entropy (on
probabilities) run on their backend kernels, softmax cross-entropy on the fused kernel (with a
softmax output layer, ``fused_value_and_grad``) or on logits (``from_logits=True``); everything
else in NumPy. A custom loss is a callable ``loss(pred, target) -> (loss, dpred)``.
"""
from ..utils import checks
from .base import REDUCTIONS, CustomLoss, Loss, reduce_weighted_values
from .classes import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    CategoricalHinge,
    CosineSimilarity,
    Hinge,
    Huber,
    KLDivergence,
    LogCosh,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
    Poisson,
    SparseCategoricalCrossentropy,
    SquaredHinge,
)
from .functions import (
    binary_crossentropy,
    categorical_crossentropy,
    categorical_hinge,
    cosine_similarity,
    hinge,
    huber,
    kl_divergence,
    log_cosh,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
    poisson,
    sparse_categorical_crossentropy,
    squared_hinge,
)

__all__ = ["Loss", "CustomLoss", "REDUCTIONS", "reduce_weighted_values", "LOSSES", "get", "serialize",
           "deserialize", "MeanSquaredError", "MeanAbsoluteError", "MeanAbsolutePercentageError",
           "MeanSquaredLogarithmicError", "Huber", "LogCosh", "BinaryCrossentropy", "CategoricalCrossentropy",
           "SparseCategoricalCrossentropy", "KLDivergence", "Hinge", "SquaredHinge", "CategoricalHinge", "Poisson",
           "CosineSimilarity", "mean_squared_error", "mean_absolute_error", "mean_absolute_percentage_error",
           "mean_squared_logarithmic_error", "huber", "log_cosh", "binary_crossentropy", "categorical_crossentropy",
           "sparse_categorical_crossentropy", "kl_divergence", "hinge", "squared_hinge", "categorical_hinge",
           "poisson", "cosine_similarity"]

CLASSES = (MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredLogarithmicError, Huber,
           LogCosh, BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy, KLDivergence, Hinge,
           SquaredHinge, CategoricalHinge, Poisson, CosineSimilarity)

# Keras's names (the function names, the aliases, each class's default name), lower case; compile
# and get compare case-insensitively. The class names themselves are accepted too (by get).
LOSSES = {
    "mse": MeanSquaredError, "mean_squared_error": MeanSquaredError,
    "mae": MeanAbsoluteError, "mean_absolute_error": MeanAbsoluteError,
    "mape": MeanAbsolutePercentageError, "mean_absolute_percentage_error": MeanAbsolutePercentageError,
    "msle": MeanSquaredLogarithmicError, "mean_squared_logarithmic_error": MeanSquaredLogarithmicError,
    "huber": Huber, "huber_loss": Huber, "log_cosh": LogCosh, "logcosh": LogCosh,
    "bce": BinaryCrossentropy, "binary_crossentropy": BinaryCrossentropy,
    "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
    "kld": KLDivergence, "kl_divergence": KLDivergence, "kullback_leibler_divergence": KLDivergence,
    "hinge": Hinge, "squared_hinge": SquaredHinge, "categorical_hinge": CategoricalHinge,
    "poisson": Poisson, "cosine_similarity": CosineSimilarity,
}
BY_CLASS_NAME = {cls.__name__.lower(): cls for cls in CLASSES}

# The function forms above, which compile also takes as its loss (Keras wraps one in a loss named
# after it): each is the loss its name gives, not a custom loss.
FUNCTIONS = (mean_squared_error, mean_absolute_error, mean_absolute_percentage_error, mean_squared_logarithmic_error,
             huber, log_cosh, binary_crossentropy, categorical_crossentropy, sparse_categorical_crossentropy,
             kl_divergence, hinge, squared_hinge, categorical_hinge, poisson, cosine_similarity)


def get(identifier):
    """A Loss from a Keras name or class name (case-insensitive), a ``serialize`` dict, a Loss
    class or instance, one of the function forms (``mean_squared_error``: the loss of that name),
    or a callable ``(pred, target) -> (loss, dpred)``."""
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        key = identifier.lower()
        cls = LOSSES.get(key) or BY_CLASS_NAME.get(key)
        if cls is None:
            raise checks.not_one_of("loss", identifier, tuple(LOSSES), also="a callable")
        return cls(name=key)
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    for function in FUNCTIONS:
        if identifier is function:
            return get(function.__name__)
    if callable(identifier):
        return CustomLoss(identifier)
    raise TypeError(f"loss must be a name, a Loss or a callable, got {identifier!r}")


def serialize(loss):
    """A Loss as ``{"class_name": ..., "config": loss.get_config()}``."""
    if not isinstance(loss, Loss) or isinstance(loss, CustomLoss):
        raise TypeError(f"loss must be one of nnfast's Loss classes to be serialized, got {loss!r}")
    return {"class_name": type(loss).__name__, "config": loss.get_config()}


def deserialize(config):
    """The Loss a ``serialize`` dict describes."""
    if not isinstance(config, dict) or set(config) != {"class_name", "config"}:
        raise ValueError(f"config must be a dict with keys 'class_name' and 'config', got {config!r}")
    cls = BY_CLASS_NAME.get(str(config["class_name"]).lower())
    if cls is None:
        raise checks.not_one_of("config['class_name']", config["class_name"], tuple(c.__name__ for c in CLASSES))
    return cls.from_config(config["config"])
