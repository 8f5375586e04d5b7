"""Reshaping and input layers: InputLayer (and keras.Input), Flatten, Reshape."""
import numpy as np

from ..utils import checks
from .base import IdentityLayer, Layer, feature_shape, unsupported


def integer_dtype(dtype):
    """The name of `dtype` when it is an integer or bool dtype ("int32"), else None."""
    try:
        kind = np.dtype(dtype).kind if dtype is not None else None
    except TypeError:
        return None  # the float check names it
    return np.dtype(dtype).name if kind in ("i", "u", "b") else None


class InputLayer(IdentityLayer):
    """The entry of a model: declares the per-sample shape of one input (``keras.Input`` makes one
    and returns its symbolic output)."""

    def __init__(self, shape=None, batch_size=None, dtype=None, sparse=None, batch_shape=None, input_tensor=None,
                 optional=False, name=None, ragged=None, **kwargs):
        unsupported("InputLayer", sparse=sparse, input_tensor=input_tensor, optional=optional, ragged=ragged)
        if batch_shape is not None:
            batch_size, shape = batch_shape[0], tuple(batch_shape)[1:]
        if shape is None:
            shape = kwargs.pop("input_shape", None)
        if shape is None:
            raise ValueError("InputLayer needs shape, the per-sample shape, like shape=(784,)")
        # Integer or bool ids (keras.io's Input(dtype="int32") before an Embedding): the data arrive in
        # the model's float dtype, where an id is exact (below 2^24 in float32); the name is kept
        self.integer_dtype = integer_dtype(dtype)
        super().__init__(name=name, dtype=None if self.integer_dtype else dtype, batch_size=batch_size,
                         input_shape=feature_shape("shape", shape), **kwargs)
        self.build(self.declared_input_shape)

    def get_config(self):
        config = self.base_config()
        if self.integer_dtype:
            config["dtype"] = self.integer_dtype
        config["shape"] = list(config.pop("input_shape"))
        if self.batch_size is not None:
            config["batch_size"] = self.batch_size
        return config


class Flatten(Layer):
    """(batch, d1, d2, ...) -> (batch, d1*d2*...): a view, no copy (inputs are C-contiguous)."""

    def __init__(self, data_format=None, **kwargs):
        if data_format not in (None, "channels_last"):
            raise NotImplementedError(f"Flatten(data_format={data_format!r}) is not supported by nnfast: "
                                      "only channels_last")
        super().__init__(**kwargs)

    def compute_output_shape(self, input_shape):
        size = 1
        for d in input_shape:
            size *= d
        return (size,)

    def forward(self, backend, x, training):
        return x.reshape(len(x), -1)

    def backward(self, backend, dy, need_dx):
        return dy.reshape((len(dy),) + self.input_shape)


class Reshape(Layer):
    """(batch, ...) -> (batch, *target_shape), one size of which may be -1 (inferred): a view, no copy."""

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        try:
            target = tuple(target_shape)
        except TypeError:
            raise TypeError(f"target_shape must be a tuple of ints, got {target_shape!r}") from None
        for d in target:
            if d != -1:
                checks.integer("target_shape", d, lo=1)
        if list(target).count(-1) > 1:
            raise ValueError(f"target_shape may hold one -1 (the inferred size), got {target_shape!r}")
        self.target_shape = tuple(int(d) for d in target)

    def compute_output_shape(self, input_shape):
        size = int(np.prod(input_shape))
        known = int(np.prod([d for d in self.target_shape if d != -1]))
        if -1 in self.target_shape:
            if size % known:
                raise ValueError(f"Reshape cannot make samples of shape {input_shape} into {self.target_shape}")
            return tuple(size // known if d == -1 else d for d in self.target_shape)
        if known != size:
            raise ValueError(f"Reshape cannot make samples of shape {input_shape} ({size} values) into "
                             f"{self.target_shape} ({known})")
        return self.target_shape

    def forward(self, backend, x, training):
        return x.reshape((len(x),) + self.output_shape)

    def backward(self, backend, dy, need_dx):
        return dy.reshape((len(dy),) + self.input_shape)

    def get_config(self):
        return {**self.base_config(), "target_shape": list(self.target_shape)}
