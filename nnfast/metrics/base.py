"""The Metric base class with Keras 3's stateful face (update_state / result / reset_state) and the
model's face (update(pred, target) / add / reset / result), and the running means Keras builds most
metrics from (Mean, MeanMetricWrapper). State is kept in Python floats (double precision), where
Keras keeps float32 variables: results agree to float32 rounding."""

import numpy as np

from .. import losses as loss_functions
from ..losses.functions import same_rank
from ..utils import checks
from ..utils.naming import auto_name
from ..utils.registry import Configurable
from ..utils.values import keras_scalars


def divide_no_nan(a, b):
    """a / b, 0 where b is 0 (Keras's ops.divide_no_nan)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    safe = np.where(b == 0, 1.0, b)
    return np.where(b == 0, 0.0, a / safe)


class Metric(Configurable):
    """Keras 3's Metric. Subclasses implement update_state, result and reset_state.

    ``update(pred, target)`` is the model's call for one batch (Keras's argument order is
    update_state(y_true, y_pred)); ``model_targets`` adapts the model's targets first where a
    metric needs it.

    ``direction`` is Keras's ``_direction``: "up" when larger values are better, "down" when
    smaller ones are, None when the metric does not say. The monitoring callbacks' ``mode="auto"``
    reads it."""

    direction = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "result" in cls.__dict__:  # a number comes back with Keras tensors' numpy()
            cls.result = keras_scalars(cls.__dict__["result"])

    def __init__(self, name=None, dtype=None):
        self.name = name if name is not None else auto_name(type(self).__name__)  # "precision_1"... as Keras
        if not isinstance(self.name, str):
            raise TypeError(f"name must be a str, got {name!r}")
        self.dtype = checks.float_dtype("dtype", "float32" if dtype is None else dtype).name
        self.reset_state()

    def update_state(self, y_true, y_pred, sample_weight=None):
        raise NotImplementedError

    def result(self):
        raise NotImplementedError

    def reset_state(self):
        raise NotImplementedError

    def __call__(self, y_true, y_pred, sample_weight=None):
        """Keras's stateful call: update_state, then the result."""
        self.update_state(y_true, y_pred, sample_weight=sample_weight)
        return self.result()

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}

    def __repr__(self):
        return f"{type(self).__name__}(name={self.name!r})"

    # ---- the model's face -----------------------------------------------------------------------

    def reset(self):
        self.reset_state()

    def update(self, pred, target):
        self.update_state(self.model_targets(pred, target), pred)

    def model_targets(self, pred, target):
        return target


def reduce_to_samplewise_values(values, sample_weight, reduce_fn):
    """Keras's reduce_to_samplewise_values: weights aligned with the values, the values reduced to
    one per sample (by reduce_fn over the trailing axes) and weighted."""
    values = np.asarray(values, np.float64)
    if sample_weight is not None:
        sample_weight = np.asarray(sample_weight, np.float64)
        values, sample_weight = same_rank(values, sample_weight)
        if values.ndim > sample_weight.ndim:
            values = reduce_fn(values, axis=tuple(range(sample_weight.ndim, values.ndim)))
        sample_weight = np.broadcast_to(sample_weight, values.shape)
        values = values * sample_weight
        if sample_weight.ndim > 1:
            sample_weight = reduce_fn(sample_weight, axis=tuple(range(1, sample_weight.ndim)))
    if values.ndim > 1:
        values = reduce_fn(values, axis=tuple(range(1, values.ndim)))
    return values, sample_weight


class Mean(Metric):
    """The (weighted) mean of the values seen: update_state(values, sample_weight)."""

    def __init__(self, name="mean", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def reset_state(self):
        self.total = 0.0
        self.count = 0.0

    def update_state(self, values, sample_weight=None):
        values, sample_weight = reduce_to_samplewise_values(values, sample_weight, np.mean)
        self.total += float(np.sum(values))
        if sample_weight is not None:
            self.count += float(np.sum(sample_weight))
        else:
            self.count += values.shape[0] if values.ndim else 1

    def add(self, total, count):
        """Adds `count` samples whose values sum to `total` (what one batch's update adds)."""
        self.total += float(total)
        self.count += count

    def result(self):
        return self.total / self.count if self.count else 0.0


class MeanMetricWrapper(Mean):
    """The mean of ``fn(y_true, y_pred, **kwargs)``, a function returning per-sample values."""

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        self.fn = fn
        self.fn_kwargs = kwargs
        if fn in loss_functions.FUNCTIONS:  # a loss is minimized (Keras's MeanMetricWrapper)
            self.direction = "down"
        super().__init__(name=name if name is not None else getattr(fn, "__name__", None), dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        super().update_state(self.fn(y_true, y_pred, **self.fn_kwargs), sample_weight=sample_weight)

    def get_config(self):
        return {**super().get_config(), **self.fn_kwargs}
