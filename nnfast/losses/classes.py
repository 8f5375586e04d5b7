"""Keras 3's loss classes with their constructor arguments, defaults and names. Each wraps one
function of ``functions`` (``terms`` gives the per-sample values and their gradient); the ones
that a backend kernel computes exactly name it in ``kernel`` for the model."""
from ..utils import checks
from . import functions
from .base import Loss

# Reductions under which the mean-valued kernels compute exactly this loss.
MEAN_REDUCTIONS = ("sum_over_batch_size", "mean", "mean_with_sample_weight", None, "none")


class FunctionLoss(Loss):
    """A Loss that applies ``fn`` (a function of ``functions``) with the keyword arguments in
    ``fn_kwargs`` (also its config, besides name and reduction)."""
    fn = None

    def __init__(self, name, reduction, dtype, **fn_kwargs):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.fn_kwargs = fn_kwargs

    def terms(self, y_true, y_pred, with_grad=False):
        return type(self).fn(y_true, y_pred, with_grad=with_grad, **self.fn_kwargs)

    def get_config(self):
        return {**super().get_config(), **self.fn_kwargs}


def loss_class(class_name, fn, default_name, kernel=None):
    """A FunctionLoss subclass without arguments of its own (Keras: reduction, name, dtype)."""

    def __init__(self, reduction="sum_over_batch_size", name=default_name, dtype=None):
        FunctionLoss.__init__(self, name, reduction, dtype)
        if kernel is not None and self.reduction in MEAN_REDUCTIONS:
            self.kernel = kernel

    return type(class_name, (FunctionLoss,), {"fn": staticmethod(fn), "__init__": __init__,
                                              "__doc__": f"Keras's {class_name}: {fn.__doc__}",
                                              "__module__": __name__})


MeanSquaredError = loss_class("MeanSquaredError", functions.mean_squared_error, "mean_squared_error", "mse")
MeanAbsoluteError = loss_class("MeanAbsoluteError", functions.mean_absolute_error, "mean_absolute_error", "mae")
MeanAbsolutePercentageError = loss_class("MeanAbsolutePercentageError", functions.mean_absolute_percentage_error,
                                         "mean_absolute_percentage_error", "mape")
MeanSquaredLogarithmicError = loss_class("MeanSquaredLogarithmicError", functions.mean_squared_logarithmic_error,
                                         "mean_squared_logarithmic_error", "msle")
LogCosh = loss_class("LogCosh", functions.log_cosh, "log_cosh", "log_cosh")
Hinge = loss_class("Hinge", functions.hinge, "hinge", "hinge")
SquaredHinge = loss_class("SquaredHinge", functions.squared_hinge, "squared_hinge", "squared_hinge")
CategoricalHinge = loss_class("CategoricalHinge", functions.categorical_hinge, "categorical_hinge",
                              "categorical_hinge")
KLDivergence = loss_class("KLDivergence", functions.kl_divergence, "kl_divergence", "kl_divergence")
Poisson = loss_class("Poisson", functions.poisson, "poisson", "poisson")


class Huber(FunctionLoss):
    fn = staticmethod(functions.huber)

    def __init__(self, delta=1.0, reduction="sum_over_batch_size", name="huber_loss", dtype=None):
        super().__init__(name, reduction, dtype, delta=checks.real("delta", delta))
        if self.reduction in MEAN_REDUCTIONS:
            self.kernel, self.kernel_params = "huber", (self.fn_kwargs["delta"],)


class CosineSimilarity(FunctionLoss):
    fn = staticmethod(functions.cosine_similarity)

    def __init__(self, axis=-1, reduction="sum_over_batch_size", name="cosine_similarity", dtype=None):
        super().__init__(name, reduction, dtype, axis=checks.integer("axis", axis, lo=None))
        if axis in (-1, 1) and self.reduction in MEAN_REDUCTIONS:
            self.kernel = "cosine_similarity"


class BinaryCrossentropy(FunctionLoss):
    """Keras's BinaryCrossentropy. The model's kernel (binary_cross_entropy of probabilities) runs
    it when from_logits is False, there is no label smoothing and the mean is over the last axis."""
    fn = staticmethod(functions.binary_crossentropy)

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size",
                 name="binary_crossentropy", dtype=None):
        super().__init__(name, reduction, dtype, from_logits=checks.flag("from_logits", from_logits),
                         label_smoothing=functions.check_label_smoothing(label_smoothing),
                         axis=checks.integer("axis", axis, lo=None))
        if axis in (-1, 1) and self.reduction in MEAN_REDUCTIONS:
            self.kernel = "sigmoid_cross_entropy" if from_logits else "binary_cross_entropy"
            self.kernel_params = (self.fn_kwargs["label_smoothing"],)


class CategoricalCrossentropy(FunctionLoss):
    """Keras's CategoricalCrossentropy. On probabilities it fuses with a softmax output layer (the
    model hands the logits to fused_value_and_grad: one kernel, exact log-softmax, where Keras
    clips the probabilities to [1e-7, 1 - 1e-7]) and runs the categorical_cross_entropy kernel on
    any other output; with from_logits the softmax cross-entropy kernel computes it directly. Label
    smoothing is an argument of the kernels; another axis takes the NumPy path."""
    fn = staticmethod(functions.categorical_crossentropy)

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size",
                 name="categorical_crossentropy", dtype=None):
        super().__init__(name, reduction, dtype, from_logits=checks.flag("from_logits", from_logits),
                         label_smoothing=functions.check_label_smoothing(label_smoothing),
                         axis=checks.integer("axis", axis, lo=None))
        self.set_kernels(from_logits, label_smoothing, axis)

    def set_kernels(self, from_logits, label_smoothing, axis):
        plain = axis in (-1, 1) and self.reduction in MEAN_REDUCTIONS
        self.fuses_softmax = plain and not from_logits
        if plain:
            self.kernel = "softmax_cross_entropy" if from_logits else "categorical_cross_entropy"
            self.kernel_params = (float(label_smoothing),)

    def fused_value_and_grad(self, backend, logits, target, out):
        return backend.loss("softmax_cross_entropy", logits, target, out, *self.kernel_params)


class SparseCategoricalCrossentropy(CategoricalCrossentropy):
    """Keras's SparseCategoricalCrossentropy: targets are class indices (ignore_class must be
    None: nnfast does not support it yet)."""
    fn = staticmethod(functions.sparse_categorical_crossentropy)
    sparse = True

    def __init__(self, from_logits=False, ignore_class=None, reduction="sum_over_batch_size", axis=-1,
                 name="sparse_categorical_crossentropy", dtype=None):
        if ignore_class is not None:
            raise ValueError(f"ignore_class must be None (not supported by nnfast yet), got {ignore_class!r}")
        FunctionLoss.__init__(self, name, reduction, dtype, from_logits=checks.flag("from_logits", from_logits),
                              ignore_class=None, axis=checks.integer("axis", axis, lo=None))
        self.set_kernels(from_logits, 0.0, axis)
