"""Reshaping and input layers: InputLayer (and keras.Input), Flatten."""
from .base import Layer, feature_shape, unsupported


class InputLayer(Layer):
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
        super().__init__(name=name, dtype=dtype, batch_size=batch_size, input_shape=feature_shape("shape", shape),
                         **kwargs)
        self.build(self.declared_input_shape)

    def forward(self, backend, x, training):
        return x

    def backward(self, backend, dy, need_dx):
        return dy

    def get_config(self):
        config = self.base_config()
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
