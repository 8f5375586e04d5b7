"""The Loss base class: Keras 3's face (constructor arguments, ``loss(y_true, y_pred,
sample_weight)`` with Keras's reductions, get_config) and the model's face (``value_and_grad`` and
``fused_value_and_grad``, which return the mean loss of a batch and its gradient w.r.t. the model
output, through a backend kernel where one computes exactly this loss, else in NumPy)."""
import numpy as np

from ..utils import checks
from ..utils.registry import Configurable
from ..utils.values import KerasScalar
from . import functions

REDUCTIONS = ("sum_over_batch_size", "sum", None, "none", "mean", "mean_with_sample_weight")
UNREDUCED = (None, "none")


def reduce_weighted_values(values, sample_weight=None, reduction="sum_over_batch_size"):
    """Keras's reduce_weighted_values: values * sample_weight (ranks aligned as Keras does), then
    summed and divided by the number of values ("sum_over_batch_size", "mean"), by the sum of the
    weights ("mean_with_sample_weight"), or not divided ("sum"); None / "none" return the weighted
    values. A zero divisor gives 0 (Keras's divide_no_nan)."""
    values = np.asarray(values)
    if sample_weight is not None:
        sample_weight = np.asarray(sample_weight, values.dtype)
        values, sample_weight = functions.same_rank(values, sample_weight)
        values = values * sample_weight
    if reduction in UNREDUCED or values.shape in ((), (0,)):
        return values
    total = np.sum(values, dtype=values.dtype)
    if reduction == "sum":
        return total
    if reduction == "mean_with_sample_weight" and sample_weight is not None:
        divisor = np.sum(sample_weight, dtype=values.dtype)
    else:
        divisor = values.dtype.type(values.size)
    return total / divisor if divisor != 0 else values.dtype.type(0)


class Loss(Configurable):
    """Keras 3's Loss: subclasses implement ``call(y_true, y_pred) -> per-sample values`` and, to
    train, ``terms(y_true, y_pred) -> (values, gradient of each value w.r.t. its predictions)``.

    Model-facing attributes: ``kernel`` names the backend loss that computes exactly this loss on
    (pred, target) (None: NumPy) and ``kernel_params`` its further arguments (Huber's delta, a
    label smoothing), ``sparse`` says the targets are class indices, ``fuses_softmax`` that a
    softmax output layer may hand its logits to ``fused_value_and_grad``."""
    kernel = None
    kernel_params = ()
    sparse = False
    fuses_softmax = False

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        self.name = name if name is not None else type(self).__name__
        if not isinstance(self.name, str):
            raise TypeError(f"name must be a str, got {name!r}")
        self.reduction = checks.one_of("reduction", reduction, REDUCTIONS)
        # Keras computes in its floatx (float32) unless told otherwise
        self.dtype = checks.float_dtype("dtype", "float32" if dtype is None else dtype).name

    # ---- Keras's face ---------------------------------------------------------------------------

    def __call__(self, y_true, y_pred, sample_weight=None):
        """The reduced loss as a Python float (an array of per-sample values for reduction None)."""
        y_pred = np.asarray(y_pred, self.dtype)
        if not self.sparse:
            y_true = np.asarray(y_true, self.dtype)
        loss = reduce_weighted_values(self.call(y_true, y_pred), sample_weight, self.reduction)
        return loss if self.reduction in UNREDUCED else KerasScalar(loss)  # a float with Keras's numpy()

    def call(self, y_true, y_pred):
        """Per-sample loss values."""
        return self.terms(y_true, y_pred, with_grad=False)

    def terms(self, y_true, y_pred, with_grad=False):
        raise NotImplementedError(f"{type(self).__name__} must implement call() (and terms() to be trained on)")

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction}

    # ---- the model's face -----------------------------------------------------------------------

    def value_and_grad(self, backend, pred, target, out):
        """(loss, dpred) of the model output pred against target: the loss reduced as __call__
        reduces it without sample weights (None / "none" train on the mean), and its gradient
        w.r.t. pred written into out (pred's shape and dtype)."""
        if self.kernel is not None:
            return backend.loss(self.kernel, pred, target, out, *self.kernel_params)
        values, grad = self.terms(target, pred, with_grad=True)
        count = max(values.size, 1)
        scale = 1.0 if self.reduction == "sum" else 1.0 / count
        total = float(np.sum(values, dtype=np.float64))
        np.multiply(grad, pred.dtype.type(scale), out=out)
        return total * scale, out

    def fused_value_and_grad(self, backend, logits, target, out):
        """(loss, dlogits) of softmax(logits) against target in one kernel; only for losses with
        ``fuses_softmax``."""
        raise NotImplementedError(f"{type(self).__name__} does not fuse a softmax")


class CustomLoss(Loss):
    """A user callable ``fn(pred, target) -> (loss, dpred)`` (nnfast's own convention: the loss of
    the batch and its gradient); as a Keras loss it returns fn's loss."""

    def __init__(self, fn):
        super().__init__(name=getattr(fn, "__name__", "custom_loss"))
        self.fn = fn

    def __call__(self, y_true, y_pred, sample_weight=None):
        if sample_weight is not None:
            raise ValueError(f"sample_weight must be None for a custom loss, got {sample_weight!r}")
        return float(self.fn(np.asarray(y_pred), np.asarray(y_true))[0])

    def value_and_grad(self, backend, pred, target, out):
        result = self.fn(pred, target)
        if not (isinstance(result, tuple) and len(result) == 2):
            raise NotImplementedError(
                f"the custom loss {self.name!r} returned {type(result).__name__}, not (loss, gradient): nnfast has "
                "no automatic differentiation, so a Keras-style fn(y_true, y_pred) loss is not supported; write "
                "fn(pred, target) -> (loss, dloss/dpred) or use one of nnfast.keras.losses")
        loss, grad = result
        out[...] = grad
        return float(loss), out

    def __repr__(self):
        return f"CustomLoss({self.fn!r})"
