"""``keras.initializers`` on nnfast: Keras 3's initializer classes, lowercase aliases and
get/serialize/deserialize, with Keras' defaults throughout.

These are nnfast's initializer classes, except RandomNormal (also ``random_normal``, and what the
names "random_normal", "RandomNormal" and "normal" give): Keras' default stddev is 0.05 where
``nnfast.initializers.RandomNormal`` has the lecture notes' 1.0, so this is a subclass of it that
differs only in that default. Values come from NumPy's generator, not Keras': the same
distributions, not the same bits.
"""
from ..initializers import (
    Constant,
    GlorotNormal,
    GlorotUniform,
    HeNormal,
    HeUniform,
    Identity,
    IdentityInitializer,
    Initializer,
    LecunNormal,
    LecunUniform,
    Ones,
    Orthogonal,
    OrthogonalInitializer,
    RandomUniform,
    TruncatedNormal,
    VarianceScaling,
    Zeros,
    constant,
    glorot_normal,
    glorot_uniform,
    he_normal,
    he_uniform,
    identity,
    lecun_normal,
    lecun_uniform,
    ones,
    orthogonal,
    random_uniform,
    serialize,
    truncated_normal,
    variance_scaling,
    zeros,
)
from ..initializers.keras_defaults import RandomNormal, deserialize, get, random_normal

__all__ = ["Constant", "GlorotNormal", "GlorotUniform", "HeNormal", "HeUniform", "Identity",
           "IdentityInitializer", "Initializer", "LecunNormal", "LecunUniform", "Ones", "Orthogonal",
           "OrthogonalInitializer", "RandomNormal", "RandomUniform", "TruncatedNormal", "VarianceScaling",
           "Zeros", "constant", "glorot_normal", "glorot_uniform", "he_normal", "he_uniform", "identity",
           "lecun_normal", "lecun_uniform", "ones", "orthogonal", "random_normal", "random_uniform",
           "serialize", "truncated_normal", "variance_scaling", "zeros", "get", "deserialize"]
