"""Normalization layers: BatchNormalization, LayerNormalization and Normalization with adapt()
(feature-wise standardization with fixed statistics) on the backends' kernels, with Keras 3's
arguments, defaults and weight order."""
import numpy as np

from ..initializers import keras_defaults as keras_initializers  # names as Keras 3 means them
from ..utils import checks
from ..utils.registry import serialize
from .base import Layer, WeightSpec, unsupported


def feature_axis(owner, axis):
    if axis not in (-1, 1, [-1], [1], (-1,), (1,)):
        raise NotImplementedError(f"{owner}(axis={axis!r}) is not supported by nnfast: only the feature axis, -1")
    return -1


class ScaleAndCenter(Layer):
    """Base of the layers with a gamma (scale) and beta (center) per feature, in Keras's order."""

    def __init__(self, center, scale, beta_initializer, gamma_initializer, **kwargs):
        super().__init__(**kwargs)
        self.center = checks.flag("center", center)
        self.scale = checks.flag("scale", scale)
        self.beta_initializer = keras_initializers.get(beta_initializer)
        self.gamma_initializer = keras_initializers.get(gamma_initializer)

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 1:
            raise NotImplementedError(f"{type(self).__name__} on samples of shape {input_shape} is not supported by "
                                      "nnfast: flat features only")
        return input_shape

    def scale_and_center_specs(self):
        specs = []
        if self.scale:
            specs.append(WeightSpec("gamma", self.input_shape, self.gamma_initializer))
        if self.center:
            specs.append(WeightSpec("beta", self.input_shape, self.beta_initializer))
        return specs

    def named(self, name, of=None):
        """The weight (or, with of=self.grads, its gradient buffer) called `name`, or None."""
        names = [s.name for s in self.weight_specs()]
        return (self.weights if of is None else of)[names.index(name)] if name in names else None

    def scale_and_center_config(self):
        return {"center": self.center, "scale": self.scale, "beta_initializer": serialize(self.beta_initializer),
                "gamma_initializer": serialize(self.gamma_initializer)}


class BatchNormalization(ScaleAndCenter):
    """Per feature: training uses the batch's mean and (biased) variance and updates the moving
    statistics (moving = moving*momentum + batch*(1 - momentum)); inference uses the moving ones.
    A frozen layer (trainable=False) runs in inference mode, as in Keras 3."""

    def __init__(self, axis=-1, momentum=0.99, epsilon=0.001, center=True, scale=True, beta_initializer="zeros",
                 gamma_initializer="ones", moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, beta_constraint=None, gamma_constraint=None,
                 synchronized=False, **kwargs):
        unsupported("BatchNormalization", beta_regularizer=beta_regularizer, gamma_regularizer=gamma_regularizer,
                    beta_constraint=beta_constraint, gamma_constraint=gamma_constraint, synchronized=synchronized)
        super().__init__(center, scale, beta_initializer, gamma_initializer, **kwargs)
        self.axis = feature_axis("BatchNormalization", axis)
        self.momentum = checks.real("momentum", momentum, 0.0, 1.0)
        self.epsilon = checks.real("epsilon", epsilon, 0.0, lo_open=True)
        self.moving_mean_initializer = keras_initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = keras_initializers.get(moving_variance_initializer)

    def weight_specs(self):
        return self.scale_and_center_specs() + [
            WeightSpec("moving_mean", self.input_shape, self.moving_mean_initializer, trainable=False),
            WeightSpec("moving_variance", self.input_shape, self.moving_variance_initializer, trainable=False)]

    def forward(self, backend, x, training):
        self._training = bool(training) and self.trainable
        shape = self.input_shape
        y = self.buffer("y", x.shape, x.dtype)
        self._mean, self._inv_std = self.buffer("mean", shape, x.dtype), self.buffer("inv_std", shape, x.dtype)
        backend.batch_norm_forward(x, self.named("gamma"), self.named("beta"), self.named("moving_mean"),
                                   self.named("moving_variance"), self._training, self.momentum, self.epsilon, y,
                                   self._mean, self._inv_std)
        self._x = x
        return y

    def backward(self, backend, dy, need_dx):
        dx = self.buffer("dx", dy.shape, dy.dtype)
        backend.batch_norm_backward(self._x, self.named("gamma"), self._mean, self._inv_std, dy, self._training, dx,
                                    self.named("gamma", of=self.grads), self.named("beta", of=self.grads))
        return dx

    def get_config(self):
        return {**self.base_config(), "axis": self.axis, "momentum": self.momentum, "epsilon": self.epsilon,
                **self.scale_and_center_config(),
                "moving_mean_initializer": serialize(self.moving_mean_initializer),
                "moving_variance_initializer": serialize(self.moving_variance_initializer)}


class LayerNormalization(ScaleAndCenter):
    """Per sample, over its features: y = (x - mean) / sqrt(var + epsilon) * gamma + beta."""

    def __init__(self, axis=-1, epsilon=0.001, center=True, scale=True, rms_scaling=False, beta_initializer="zeros",
                 gamma_initializer="ones", beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                 gamma_constraint=None, **kwargs):
        unsupported("LayerNormalization", rms_scaling=rms_scaling, beta_regularizer=beta_regularizer,
                    gamma_regularizer=gamma_regularizer, beta_constraint=beta_constraint,
                    gamma_constraint=gamma_constraint)
        super().__init__(center, scale, beta_initializer, gamma_initializer, **kwargs)
        self.axis = feature_axis("LayerNormalization", axis)
        self.epsilon = checks.real("epsilon", epsilon, 0.0, lo_open=True)

    def weight_specs(self):
        return self.scale_and_center_specs()

    def forward(self, backend, x, training):
        y = self.buffer("y", x.shape, x.dtype)
        rows = (len(x),)
        self._mean, self._inv_std = self.buffer("mean", rows, x.dtype), self.buffer("inv_std", rows, x.dtype)
        backend.layer_norm_forward(x, self.named("gamma"), self.named("beta"), self.epsilon, y, self._mean,
                                   self._inv_std)
        self._x = x
        return y

    def backward(self, backend, dy, need_dx):
        dx = self.buffer("dx", dy.shape, dy.dtype)
        backend.layer_norm_backward(self._x, self.named("gamma"), self._mean, self._inv_std, dy, dx,
                                    self.named("gamma", of=self.grads), self.named("beta", of=self.grads))
        return dx

    def get_config(self):
        return {**self.base_config(), "axis": self.axis, "epsilon": self.epsilon, **self.scale_and_center_config()}


class Normalization(Layer):
    """y = (x - mean) / max(sqrt(variance), 1e-7) per feature (with invert, mean + x * that), from
    given mean and variance or from adapt(data) (NumPy's mean and variance over the samples, as
    Keras computes them), on the backend's normalization kernels. Its weights are Keras's: mean,
    variance and count (nnfast keeps count as a float)."""

    def __init__(self, axis=-1, mean=None, variance=None, invert=False, **kwargs):
        super().__init__(**kwargs)
        self.axis = feature_axis("Normalization", axis)
        self.invert = checks.flag("invert", invert)
        if (mean is None) != (variance is None):
            raise ValueError("mean and variance must be given together, or neither (then call adapt())")
        self.given = None if mean is None else (np.asarray(mean, np.float64), np.asarray(variance, np.float64))
        self.adapted = None  # (mean, variance) from adapt() before the model allocated the weights
        self._constants = {}  # dtype -> the given (mean, variance) as arrays of the input's shape

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 1:
            raise NotImplementedError(f"Normalization on samples of shape {input_shape} is not supported by nnfast: "
                                      "flat features only")
        return input_shape

    def statistic(self, index, fallback):
        """An initializer giving the adapted (or given) statistic, else the fallback's values."""
        def init(shape, dtype, rng=None):
            source = self.adapted or self.given
            if source is None:
                return np.full(shape, fallback, dtype)
            return np.broadcast_to(np.asarray(source[index], dtype), shape).copy()
        return init

    def weight_specs(self):
        if self.given is not None:  # as Keras: given statistics are constants, not weights
            return []
        return [WeightSpec("mean", self.input_shape, self.statistic(0, 0.0), trainable=False),
                WeightSpec("variance", self.input_shape, self.statistic(1, 1.0), trainable=False),
                WeightSpec("count", (), lambda shape, dtype, rng=None: np.zeros(shape, dtype), trainable=False)]

    def adapt(self, data, batch_size=None, steps=None):
        """Compute the mean and variance of each feature over the samples of `data` (an array)."""
        unsupported("Normalization.adapt", batch_size=batch_size, steps=steps)
        if self.given is not None:
            raise ValueError("adapt() computes the mean and variance, which this Normalization was given: build it "
                             "without mean and variance to adapt it")
        data = np.asarray(data)
        if data.ndim != 2:
            raise ValueError(f"data must be 2-D (samples, features), got shape {data.shape}")
        statistics = (np.mean(data, axis=0), np.var(data, axis=0))
        if getattr(self, "weights", None):  # already in a model: write into its weights
            self.weights[0][...] = statistics[0]
            self.weights[1][...] = statistics[1]
        else:
            self.adapted = statistics
        if self.declared_input_shape is None:
            self.declared_input_shape = (data.shape[1],)

    def statistics(self, dtype):
        """The (mean, variance) the layer normalizes with, in `dtype`: views of its weights, or the
        given statistics as constants of the input's shape."""
        if self.given is None:
            return self.weights[0], self.weights[1]
        constants = self._constants.get(np.dtype(dtype))
        if constants is None:
            constants = tuple(np.broadcast_to(np.asarray(v, dtype), self.input_shape).copy() for v in self.given)
            self._constants[np.dtype(dtype)] = constants
        return constants

    def forward(self, backend, x, training):
        mean, variance = self.statistics(x.dtype)
        return backend.normalization_forward(x, mean, variance, self.invert, self.buffer("y", x.shape, x.dtype))

    def backward(self, backend, dy, need_dx):
        if not need_dx:
            return None
        return backend.normalization_backward(dy, self.statistics(dy.dtype)[1], self.invert,
                                              self.buffer("dx", dy.shape, dy.dtype))

    def get_config(self):
        config = {**self.base_config(), "axis": self.axis, "invert": self.invert}
        if self.given is not None:
            config.update(mean=self.given[0].tolist(), variance=self.given[1].tolist())
        return config
