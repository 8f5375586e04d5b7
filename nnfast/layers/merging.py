"""Merging layers of the functional API: Add, Subtract, Multiply, Average, Maximum, Minimum,
Concatenate (of flat features) and Dot, and Keras's functional forms add(...), concatenate(...),
dot(...), ... that make the layer and call it on the inputs."""
import numpy as np

from ..utils import checks
from .base import Layer
from .unit_normalization import unit_scale, unit_scale_backward


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


class Dot(Merge):
    """Keras's batched dot product of two inputs over axes (a0, a1) of their batched shapes (the
    batch axis is 0 and is never summed): per sample, the sum over those axes of x0 * x1, with x0's
    other axes then x1's; a sum down to a scalar is (1,) per sample. normalize=True first scales
    each input along its axis to unit L2 norm as keras.ops.normalize does, x * min(rsqrt(sum(x^2)),
    1 / 1e-7), and the gradient goes back through that as torch takes it."""

    EPSILON = 1e-7  # keras.backend.epsilon(), the bound of normalize's inverse norm

    def __init__(self, axes, normalize=False, **kwargs):
        if isinstance(axes, (list, tuple)):
            if len(axes) != 2:
                raise ValueError(f"axes must be an int or a pair of ints, got {axes!r}")
            axes = [checks.integer("axes", a, lo=None) for a in axes]
        else:
            axes = checks.integer("axes", axes, lo=None)
        super().__init__(**kwargs)
        self.axes = axes
        self.normalize = checks.truth("normalize", normalize)

    def batched_axes(self, input_shapes):
        """(a0, a1): the summed axes of the two batched inputs, negative ones counted from the end."""
        ranks = [len(s) + 1 for s in input_shapes]
        axes = [self.axes] * 2 if isinstance(self.axes, int) else list(self.axes)
        axes = [a % r if a < 0 else a for a, r in zip(axes, ranks)]
        if 0 in axes or any(a >= r for a, r in zip(axes, ranks)):
            raise ValueError(f"Dot axes {self.axes} must name a non-batch axis of inputs of shapes "
                             f"{[(None,) + tuple(s) for s in input_shapes]}")
        return axes

    def build(self, input_shapes):
        if len(input_shapes) != 2:
            raise ValueError(f"A Dot layer should be called on a list of 2 inputs, got {len(input_shapes)}")
        return super().build(input_shapes)

    def compute_output_shape(self, input_shapes):
        (a0, a1), (s0, s1) = self.batched_axes(input_shapes), input_shapes
        if s0[a0 - 1] != s1[a1 - 1]:
            raise ValueError(f"Dot: incompatible input shapes {s0} and {s1} along axes {a0}, {a1}: "
                             f"{s0[a0 - 1]} != {s1[a1 - 1]}")
        shape = tuple(d for i, d in enumerate(s0) if i != a0 - 1) + tuple(d for i, d in enumerate(s1) if i != a1 - 1)
        return shape or (1,)

    def subscripts(self):
        """einsum subscripts (x0, x1, out) of the batched product: z the batch, k the summed axis."""
        (a0, a1), (s0, s1) = self.batched_axes(self.input_shapes), self.input_shapes
        first = [chr(ord("a") + i) for i in range(len(s0))]
        second = [chr(ord("l") + i) for i in range(len(s1))]
        first[a0 - 1] = second[a1 - 1] = "k"
        out = [c for c in first if c != "k"] + [c for c in second if c != "k"]
        return "z" + "".join(first), "z" + "".join(second), "z" + "".join(out)

    def forward(self, backend, xs, training):
        self._inputs_seen = xs
        if self.normalize:
            axes = self.batched_axes(self.input_shapes)
            xs = [x * unit_scale(x, (a,), self.EPSILON)[0] for x, a in zip(xs, axes)]
        self._operands = xs
        first, second, out = self.subscripts()
        y = np.einsum(f"{first},{second}->{out}", xs[0], xs[1]).astype(xs[0].dtype, copy=False)
        self._product_shape = y.shape
        return y.reshape((len(y),) + self.output_shape)

    def backward(self, backend, dy, need_dx):
        first, second, out = self.subscripts()
        x0, x1 = self._operands
        dy = dy.reshape(self._product_shape)
        grads = [np.einsum(f"{out},{second}->{first}", dy, x1).astype(dy.dtype, copy=False),
                 np.einsum(f"{out},{first}->{second}", dy, x0).astype(dy.dtype, copy=False)]
        if self.normalize:
            grads = [unit_scale_backward(g, x, (a,), self.EPSILON) for g, x, a in
                     zip(grads, self._inputs_seen, self.batched_axes(self.input_shapes))]
        return grads

    def get_config(self):
        return {**self.base_config(), "axes": self.axes, "normalize": self.normalize}


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


def dot(inputs, axes=-1, **kwargs):
    """Dot(axes, **kwargs)(inputs): Keras's functional form, whose axes default to -1."""
    return Dot(axes=axes, **kwargs)(inputs)
