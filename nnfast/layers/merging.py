"""Merging layers of the functional API: Add and Concatenate (of flat features)."""
import numpy as np

from ..utils import checks
from .base import Layer


class Merge(Layer):
    """Base of the layers that take a list of inputs."""

    multiple_inputs = True

    def build(self, input_shapes):
        input_shapes = [tuple(s) for s in input_shapes]
        if len(input_shapes) < 2:
            raise ValueError(f"{type(self).__name__} takes a list of at least 2 inputs, got {len(input_shapes)}")
        self.input_shapes = input_shapes
        self.input_shape = input_shapes[0]
        self.output_shape = self.compute_output_shape(input_shapes)
        self.built = True
        return self.output_shape


class Add(Merge):
    """The element-wise sum of inputs of one shape."""

    def compute_output_shape(self, input_shapes):
        if any(s != input_shapes[0] for s in input_shapes):
            raise ValueError(f"Add needs inputs of one shape, got {input_shapes}")
        return input_shapes[0]

    def forward(self, backend, xs, training):
        y = self.buffer("y", xs[0].shape, xs[0].dtype)
        np.add(xs[0], xs[1], out=y)
        for x in xs[2:]:
            y += x
        return y

    def backward(self, backend, dy, need_dx):
        return [dy] * len(self.input_shapes)


class Concatenate(Merge):
    """Inputs joined along the feature axis (axis=-1, the only one supported)."""

    def __init__(self, axis=-1, **kwargs):
        axis = checks.integer("axis", axis, lo=None)
        if axis not in (-1, 1):
            raise NotImplementedError(f"Concatenate(axis={axis}) is not supported by nnfast: only the feature axis, -1")
        super().__init__(**kwargs)

    def compute_output_shape(self, input_shapes):
        if any(len(s) != 1 for s in input_shapes):
            raise ValueError(f"Concatenate joins flat features, got input shapes {input_shapes}")
        return (sum(s[0] for s in input_shapes),)

    def forward(self, backend, xs, training):
        y = self.buffer("y", (len(xs[0]),) + self.output_shape, xs[0].dtype)
        return np.concatenate(xs, axis=1, out=y)

    def backward(self, backend, dy, need_dx):
        bounds = np.cumsum([0] + [s[0] for s in self.input_shapes])
        return [np.ascontiguousarray(dy[:, a:b]) for a, b in zip(bounds[:-1], bounds[1:])]

    def get_config(self):
        return {**self.base_config(), "axis": -1}
