"""Embedding: integer indices to rows of a trained (input_dim, output_dim) matrix, as Keras 3's
layer on its torch backend. The indices arrive in the model's float dtype (nnfast models have one
dtype) and are cast as Keras casts them: truncated toward zero; exact up to 2**24 in float32. A
negative index counts from the end once (-1 is the last row), as keras.ops.take on torch; anything
outside [-input_dim, input_dim) is refused with a ValueError before a step runs. The gradient is
torch's dense one: the output gradients summed into the rows their indices picked (the rows no
index picked get 0, and an optimizer with momentum still moves them), summed in order by a native
kernel (nnfast.ops.embedding_backward)."""
import warnings

import numpy as np

from .. import constraints, regularizers
from ..initializers import keras_defaults as keras_initializers  # names as Keras 3 means them
from ..initializers.base import Initializer
from ..utils import checks
from ..utils.registry import serialize
from .base import Layer, WeightSpec, unsupported


class GivenMatrix(Initializer):
    """The initial embeddings a user gave (Keras's ``weights=[matrix]``; Embedding checked its shape)."""

    def __init__(self, matrix):
        self.matrix = matrix

    def _generate(self, shape, dtype, rng):
        return self.matrix.astype(dtype)


class Embedding(Layer):
    """(batch, *index_shape) indices -> (batch, *index_shape, output_dim) rows of ``embeddings``.
    Keras's input_dim and output_dim are ``vocabulary_size`` and ``embedding_dim`` here: a layer's
    input_dim and output_dim are its per-sample sizes in nnfast (in the config they keep Keras's
    names)."""

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform", embeddings_regularizer=None,
                 embeddings_constraint=None, mask_zero=False, weights=None, lora_rank=None, lora_alpha=None,
                 quantization_config=None, input_length=None, **kwargs):
        unsupported("Embedding", mask_zero=checks.truth("mask_zero", mask_zero), lora_rank=lora_rank,
                    lora_alpha=lora_alpha, quantization_config=quantization_config)
        if input_length is not None:  # Keras 3 ignores it too, with this warning
            warnings.warn("Argument `input_length` is deprecated. Just remove it.", stacklevel=2)
        super().__init__(**kwargs)
        self.vocabulary_size = checks.integer("input_dim", input_dim, lo=1)
        self.embedding_dim = checks.integer("output_dim", output_dim, lo=1)
        self.embeddings_initializer = keras_initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers.for_training("embeddings_regularizer", embeddings_regularizer)
        self.embeddings_constraint = constraints.checked("embeddings_constraint", embeddings_constraint, ndim=2)
        self.given = None
        if weights is not None:  # Keras: a matrix, or a list holding one
            if isinstance(weights, (list, tuple)) and len(weights) == 1:
                weights = weights[0]
            given = np.asarray(weights)
            if given.dtype.kind not in "fiu" or given.shape != (self.vocabulary_size, self.embedding_dim):
                raise ValueError(f"Embedding weights must be one real matrix of shape ({self.vocabulary_size}, "
                                 f"{self.embedding_dim}), got {given.dtype} of shape {given.shape}")
            self.given = GivenMatrix(given)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.embedding_dim,)

    def weight_specs(self):
        return [WeightSpec("embeddings", (self.vocabulary_size, self.embedding_dim),
                           self.given or self.embeddings_initializer)]

    embeddings = property(lambda self: self.weights[0], doc="(input_dim, output_dim)")

    def check_samples(self, x, name):
        """ValueError unless every index in x is in [-input_dim, input_dim) once truncated (the model
        checks its inputs with this before any step, so a bad index changes nothing)."""
        if x.size and (np.trunc(x.min()) < -self.vocabulary_size or np.trunc(x.max()) >= self.vocabulary_size):
            n = self.vocabulary_size
            raise ValueError(f"{name} holds indices outside [{-n}, {n}) for Embedding {self.name} (input_dim {n}): "
                             f"min {x.min()}, max {x.max()}")

    def forward(self, backend, x, training):
        self.check_samples(x, "the input")  # also here: a layer behind another may see what the model did not
        indices = self.buffer("indices", x.shape, np.int64)
        np.copyto(indices, x, casting="unsafe")  # truncated toward zero, as Keras's cast
        np.add(indices, self.vocabulary_size, out=indices, where=indices < 0)
        self._indices = indices
        y = self.buffer("y", x.shape + (self.embedding_dim,), self.embeddings.dtype)
        return np.take(self.embeddings, indices, axis=0, out=y)

    def backward(self, backend, dy, need_dx):
        grad = self.grads[0]
        if grad is not None:  # the rows of dy summed into the rows their indices name (0 elsewhere)
            backend.embedding_backward(np.ascontiguousarray(dy).reshape(-1, self.embedding_dim),
                                       self._indices.reshape(-1), grad)
            self.add_regularizer_gradients()
        if not need_dx:
            return None
        dx = self.buffer("dx", self._indices.shape, dy.dtype)
        dx.fill(0)  # an index has no gradient
        return dx

    def weight_regularizers(self):
        if self.embeddings_regularizer is None:
            return []
        return [(self.embeddings, self.grads[0], self.embeddings_regularizer)]

    def weight_constraints(self):
        return [] if self.embeddings_constraint is None else [(self.embeddings, self.embeddings_constraint)]

    def get_config(self):
        return {**self.base_config(), "input_dim": self.vocabulary_size, "output_dim": self.embedding_dim,
                "embeddings_initializer": serialize(self.embeddings_initializer),
                "embeddings_regularizer": serialize(self.embeddings_regularizer),
                "embeddings_constraint": serialize(self.embeddings_constraint), "mask_zero": False}
