"""Global pooling: GlobalAveragePooling1D/2D/3D and GlobalMaxPooling1D/2D/3D (and Keras's aliases
GlobalAvgPool1D, GlobalMaxPool1D, ...): the mean or the maximum over the steps or spatial axes, for
channels_last or channels_first data, with keepdims. The maximum's gradient is torch's amax's: a
tie shares it evenly among the elements that reach the maximum."""
import numpy as np

from ..utils import checks
from .base import Layer


class GlobalPooling(Layer):
    """Base: a reduction over the `dimensions` pooled axes of (batch, *steps, channels) (or
    (batch, channels, *steps) with data_format="channels_first")."""

    dimensions = None  # 1, 2 or 3, set by each class
    reduce = None  # reduce(x, axis=..., keepdims=True): np.mean or np.max

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        data_format = "channels_last" if data_format is None else data_format
        self.data_format = checks.one_of("data_format", data_format, ("channels_last", "channels_first"))
        self.keepdims = checks.truth("keepdims", keepdims)
        super().__init__(**kwargs)

    def pooled_axes(self):
        """The batched input's axes the reduction runs over."""
        first = 1 if self.data_format == "channels_last" else 2
        return tuple(range(first, first + self.dimensions))

    def compute_output_shape(self, input_shape):
        if len(input_shape) != self.dimensions + 1:
            raise ValueError(f"{type(self).__name__} takes samples of {self.dimensions + 1} axes, got shape "
                             f"{tuple(input_shape)}")
        channels = input_shape[-1] if self.data_format == "channels_last" else input_shape[0]
        if not self.keepdims:
            return (channels,)
        ones = (1,) * self.dimensions
        return ones + (channels,) if self.data_format == "channels_last" else (channels,) + ones

    def forward(self, backend, x, training):
        self._x = x
        return self.reduce(x, axis=self.pooled_axes(), keepdims=True).reshape((len(x),) + self.output_shape)

    def get_config(self):
        return {**self.base_config(), "data_format": self.data_format, "keepdims": self.keepdims}


class GlobalAveragePooling(GlobalPooling):
    """The mean over the pooled axes; its gradient is dy shared equally among them."""

    reduce = staticmethod(np.mean)

    def backward(self, backend, dy, need_dx):
        x, axes = self._x, self.pooled_axes()
        kept = tuple(1 if a in axes else n for a, n in enumerate(x.shape))  # dy with the pooled axes as 1
        count = dy.dtype.type(np.prod([x.shape[a] for a in axes]))
        return np.broadcast_to(dy.reshape(kept) / count, x.shape).copy()


class GlobalMaxPooling(GlobalPooling):
    """The maximum over the pooled axes."""

    reduce = staticmethod(np.max)

    def backward(self, backend, dy, need_dx):
        x, axes = self._x, self.pooled_axes()
        top = np.max(x, axis=axes, keepdims=True)
        winners = (x == top).astype(dy.dtype)
        share = dy.reshape(top.shape) / np.sum(winners, axis=axes, keepdims=True)
        return winners * share


def pooling_class(base, dimensions):
    """The class of `base` for inputs with `dimensions` pooled axes, named as Keras names it."""
    name = f"{base.__name__}{dimensions}D"
    return type(name, (base,), {"dimensions": dimensions, "__doc__": f"{base.__doc__} ({dimensions}-D inputs)",
                                "__module__": __name__})


GlobalAveragePooling1D, GlobalAveragePooling2D, GlobalAveragePooling3D = (
    pooling_class(GlobalAveragePooling, d) for d in (1, 2, 3))
GlobalMaxPooling1D, GlobalMaxPooling2D, GlobalMaxPooling3D = (pooling_class(GlobalMaxPooling, d) for d in (1, 2, 3))
# Keras's aliases: the same classes under shorter names
GlobalAvgPool1D, GlobalAvgPool2D, GlobalAvgPool3D = (GlobalAveragePooling1D, GlobalAveragePooling2D,
                                                     GlobalAveragePooling3D)
GlobalMaxPool1D, GlobalMaxPool2D, GlobalMaxPool3D = GlobalMaxPooling1D, GlobalMaxPooling2D, GlobalMaxPooling3D
