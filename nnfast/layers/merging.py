"""Merging layers of the functional API: Add, Subtract, Multiply, Average, Maximum, Minimum and
Concatenate (of flat features), and Keras's functional forms add(...), concatenate(...), ... that
make the layer and call it on the inputs."""
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


class ElementwiseMerge(Merge):
    """Base of the merges of inputs of one shape, element by element, in Keras's order: the first
    input, then each next one folded in with `combine`."""

    def compute_output_shape(self, input_shapes):
        if any(s != input_shapes[0] for s in input_shapes):
            raise ValueError(f"{type(self).__name__} needs inputs of one shape, got {input_shapes}")
        return input_shapes[0]

    def forward(self, backend, xs, training):
        self._xs = xs
        y = self.buffer("y", xs[0].shape, xs[0].dtype)
        np.copyto(y, xs[0])
        for x in xs[1:]:
            self.combine(y, x)
        return y


class Add(ElementwiseMerge):
    """The element-wise sum of the inputs."""

    def combine(self, y, x):
        y += x

    def backward(self, backend, dy, need_dx):
        return [dy] * len(self.input_shapes)


class Subtract(ElementwiseMerge):
    """inputs[0] - inputs[1] (exactly two inputs, as Keras)."""

    def build(self, input_shapes):
        if len(input_shapes) != 2:
            raise ValueError(f"Subtract takes exactly 2 inputs, got {len(input_shapes)}")
        return super().build(input_shapes)

    def combine(self, y, x):
        y -= x

    def backward(self, backend, dy, need_dx):
        return [dy, np.negative(dy, out=self.buffer("dx1", dy.shape, dy.dtype))]


class Multiply(ElementwiseMerge):
    """The element-wise product of the inputs, ((x0 * x1) * x2) ...: each input's gradient is dy
    times the product of the others, taken back through that chain as torch does."""

    def combine(self, y, x):
        y *= x

    def backward(self, backend, dy, need_dx):
        xs = self._xs
        partial = [xs[0]]  # partial[i] = x0 * ... * xi, the chain's outputs
        for x in xs[1:-1]:
            partial.append(partial[-1] * x)
        grads, g = [None] * len(xs), dy
        for i in range(len(xs) - 1, 0, -1):
            grads[i] = g * partial[i - 1]
            g = g * xs[i]
        grads[0] = g
        return grads


class Average(ElementwiseMerge):
    """The element-wise mean: the inputs' sum, in order, divided by their count."""

    combine = Add.combine

    def forward(self, backend, xs, training):
        y = super().forward(backend, xs, training)
        y /= y.dtype.type(len(xs))
        return y

    def backward(self, backend, dy, need_dx):
        return [dy / dy.dtype.type(len(self.input_shapes))] * len(self.input_shapes)


class Extremum(ElementwiseMerge):
    """Maximum or Minimum, folded pairwise in Keras's order. As torch's maximum / minimum, a pair
    that ties splits the gradient in halves."""

    pick = None  # np.maximum or np.minimum

    def combine(self, y, x):
        self.pick(y, x, out=y)

    def backward(self, backend, dy, need_dx):
        xs = self._xs
        running = [xs[0]]  # running[i]: the extremum of x0 .. xi
        for x in xs[1:-1]:
            running.append(self.pick(running[-1], x))
        grads, g = [None] * len(xs), dy
        for i in range(len(xs) - 1, 0, -1):
            a, b = running[i - 1], xs[i]
            extremum = self.pick(a, b)
            wins_a, wins_b = extremum == a, extremum == b  # both at a tie
            share = np.where(wins_a & wins_b, g / 2, g)
            grads[i] = np.where(wins_b, share, 0).astype(dy.dtype)
            g = np.where(wins_a, share, 0).astype(dy.dtype)
        grads[0] = g
        return grads


class Maximum(Extremum):
    """The element-wise maximum of the inputs."""

    pick = np.maximum


class Minimum(Extremum):
    """The element-wise minimum of the inputs."""

    pick = np.minimum


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


def functional_form(cls):
    """Keras's functional form of a merging layer: ``add(inputs, **kwargs)`` is
    ``Add(**kwargs)(inputs)`` (and ``concatenate(inputs, axis=-1)`` passes its axis the same way)."""

    def form(inputs, **kwargs):
        return cls(**kwargs)(inputs)

    form.__name__ = form.__qualname__ = cls.__name__.lower()
    form.__doc__ = f"{cls.__name__}(**kwargs)(inputs): {cls.__doc__.splitlines()[0]}"
    return form


add, subtract, multiply, average, maximum, minimum, concatenate = (
    functional_form(cls) for cls in (Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate))
