"""Lambda: y = function(x, **arguments), Keras's wrapper of an arbitrary expression as a layer.

Keras hands the function backend tensors and differentiates it with the backend's autodiff. nnfast
hands it NumPy arrays (the batch of the model's dtype: operators, slicing and NumPy functions work,
``keras.ops`` does not) and has no autodiff, so no gradient flows through a Lambda: training
refuses a model where one sits after a trained layer (the usual place, a preprocessing step at the
start of the model, needs none), while predict and evaluate take it anywhere. Its output is
converted to the model's dtype, C-contiguous. Its function is Python code: saving or serializing a
model with a Lambda is refused, where Keras stores the bytecode."""
import numpy as np

from .base import Layer, feature_shape, unsupported

# The batch used to infer the output shape when output_shape is not given (Keras traces the function
# symbolically; nnfast calls it on ones of this many samples).
PROBE_SAMPLES = 2


class Lambda(Layer):
    """y = function(x, **arguments) on NumPy arrays; `output_shape` (per sample, or a function of the
    whole input shape, batch axis first, as in Keras) is inferred when not given. A list of inputs
    (the functional API) is passed to the function as a list."""

    differentiable = False  # nnfast cannot form its input's gradient

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        unsupported("Lambda", mask=mask)  # nnfast has no masking
        if not callable(function):
            raise TypeError(f"function must be callable, got {type(function).__name__}")
        if arguments is not None and not isinstance(arguments, dict):
            raise TypeError(f"arguments must be a dict of keyword arguments, got {type(arguments).__name__}")
        if output_shape is not None and not callable(output_shape):
            output_shape = feature_shape("output_shape", output_shape)
        self.function, self.arguments, self.given_output_shape = function, dict(arguments or {}), output_shape

    def __call__(self, inputs):
        self.multiple_inputs = isinstance(inputs, (list, tuple))  # Keras's Lambda takes either
        return super().__call__(inputs)

    def compute_output_shape(self, input_shape):
        if callable(self.given_output_shape):
            batched = ([(None,) + tuple(s) for s in input_shape] if self.multiple_inputs
                       else (None,) + tuple(input_shape))
            return feature_shape("output_shape(input_shape)[1:]", tuple(self.given_output_shape(batched))[1:])
        if self.given_output_shape is not None:
            return self.given_output_shape
        dtype = self.dtype or np.dtype("float32")
        shapes = input_shape if self.multiple_inputs else [input_shape]
        probes = [np.ones((PROBE_SAMPLES,) + tuple(s), dtype) for s in shapes]
        with np.errstate(all="ignore"):
            out = self.apply(probes if self.multiple_inputs else probes[0], dtype)
        return out.shape[1:]

    def apply(self, x, dtype):
        """function(x, **arguments) as a C-contiguous array of `dtype` with x's batch size."""
        samples = len(x[0] if self.multiple_inputs else x)
        out = np.ascontiguousarray(self.function(x, **self.arguments), dtype=dtype)
        if out.ndim == 0 or len(out) != samples:
            raise ValueError(f"Lambda layer {self.name!r}: its function must return one row per sample ({samples}), "
                             f"got an array of shape {out.shape}")
        return out

    def forward(self, backend, x, training):
        dtype = (x[0] if self.multiple_inputs else x).dtype
        return self.apply(x, dtype)

    def backward(self, backend, dy, need_dx):
        raise NotImplementedError(self.no_gradient_message())

    def no_gradient_message(self):
        return (f"Lambda layer {self.name!r} sits after a trained layer, so training needs the gradient of its "
                "function, and nnfast has no automatic differentiation: put the Lambda before every trained layer, "
                "or use a built-in layer (Rescaling, Reshape, Activation, the merges, ...)")

    def get_config(self):
        raise NotImplementedError(f"Lambda layer {self.name!r}: its function is Python code, and saving or "
                                  "serializing it is not supported by nnfast (Keras stores its bytecode)")
