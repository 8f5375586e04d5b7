"""Weight initializers with Keras 3's names, arguments, defaults and configs.

An initializer is called as ``init(shape, dtype="float32", rng=None)`` and returns a new C-contiguous
array of that shape and dtype (float32 or float64). ``rng`` is a ``numpy.random.Generator``: a model
passes one seeded from its own seed, so its weights are reproducible. Without one, a random
initializer draws from ``numpy.random.default_rng(seed)`` made from its own ``seed`` argument
(``None``: fresh OS entropy). Random values are drawn in float64 and rounded to ``dtype`` once, so a
float32 and a float64 model built from the same seed start from the same weights, up to rounding.
NumPy's generator is not Keras', so the values are not Keras' bit for bit; the distributions are.

Fans follow Keras (``compute_fans``): a kernel ``(in, out)`` has ``fan_in = in`` and ``fan_out = out``;
a 1-D shape (a bias) has ``fan_in = fan_out = shape[0]``; a 0-D shape has 1 and 1; a shape of 3 or
more dimensions multiplies ``shape[-2]`` and ``shape[-1]`` by the receptive field ``prod(shape[:-2])``.

==================  ===========================================================================
name (aliases)      values
==================  ===========================================================================
glorot_uniform      U(-l, l), l = sqrt(6 / (fan_in + fan_out))  (Keras' default kernel initializer)
glorot_normal       truncated normal, stddev sqrt(2 / (fan_in + fan_out)) / .87962566103423978
he_uniform          U(-l, l), l = sqrt(6 / fan_in)
he_normal           truncated normal, stddev sqrt(2 / fan_in) / .87962566103423978
lecun_uniform       U(-l, l), l = sqrt(3 / fan_in)
lecun_normal        truncated normal, stddev sqrt(1 / fan_in) / .87962566103423978
variance_scaling    the general rule behind the six above (scale, mode, distribution, fan axes)
random_normal       N(mean, stddev); defaults 0 and 1.0, the lecture notes' ``np.random.randn``
  (normal)          (Keras, and ``nnfast.keras.initializers``: stddev 0.05)
random_uniform      U(minval, maxval); defaults -0.05 and 0.05, as Keras
  (uniform)
truncated_normal    truncated N(mean, stddev); defaults 0 and 0.05, as Keras
orthogonal          gain times a random orthogonal matrix (gain 1.0)
identity            gain times the identity matrix, 2-D shapes only (gain 1.0)
constant            every value ``value`` (0.0)
zeros (zero)        0
ones (one)          1
==================  ===========================================================================

"Truncated normal" is Keras' rule: draw from N(mean, s) and redraw every value further than 2 s from
the mean until none is left. The divisor .87962566103423978 (the stddev of a unit normal truncated to
[-2, 2]) makes the truncated values' stddev the target ``sqrt(scale / n)``.

``get(identifier)`` resolves a name (Keras' snake_case or class name, compared case- and
underscore-insensitively: ``"glorot_uniform"``, ``"GlorotUniform"``, also Keras' aliases
``"IdentityInitializer"`` and ``"OrthogonalInitializer"``) to a default instance, a
``serialize()`` dict (nnfast's ``{"class_name", "config"}`` or Keras' with ``module`` and
``registered_name`` too) to the instance it describes, a class to a default instance; instances and
other callables pass through, None stays None.
"""
from ..utils import registry
from .base import Initializer, RandomInitializer, compute_fans
from .constants import Constant, Identity, Ones, Zeros
from .distributions import RandomNormal, RandomUniform, TruncatedNormal
from .orthogonal import Orthogonal
from .variance_scaling import (
    GlorotNormal,
    GlorotUniform,
    HeNormal,
    HeUniform,
    LecunNormal,
    LecunUniform,
    VarianceScaling,
)

__all__ = ["Initializer", "RandomInitializer", "Zeros", "Ones", "Constant", "Identity", "RandomNormal",
           "RandomUniform", "TruncatedNormal", "VarianceScaling", "GlorotUniform", "GlorotNormal",
           "HeUniform", "HeNormal", "LecunUniform", "LecunNormal", "Orthogonal", "IdentityInitializer",
           "OrthogonalInitializer", "zeros", "ones", "constant", "identity", "random_normal",
           "random_uniform", "truncated_normal", "variance_scaling", "glorot_uniform", "glorot_normal",
           "he_uniform", "he_normal", "lecun_uniform", "lecun_normal", "orthogonal", "compute_fans",
           "get", "serialize", "deserialize", "BY_NAME", "get_from",
           "deserialize_from"]

# Keras' lowercase aliases of the classes, and its two compatibility names
zeros, ones, constant, identity = Zeros, Ones, Constant, Identity
random_normal, random_uniform, truncated_normal = RandomNormal, RandomUniform, TruncatedNormal
variance_scaling, orthogonal = VarianceScaling, Orthogonal
glorot_uniform, glorot_normal, he_uniform, he_normal = GlorotUniform, GlorotNormal, HeUniform, HeNormal
lecun_uniform, lecun_normal = LecunUniform, LecunNormal
IdentityInitializer, OrthogonalInitializer = Identity, Orthogonal

# Every name get() knows, in snake_case (class names match them case- and underscore-insensitively):
# Keras 3's ALL_OBJECTS_DICT without its STFT and Initializer entries.
BY_NAME = {"zeros": Zeros, "zero": Zeros, "ones": Ones, "one": Ones, "constant": Constant,
           "identity": Identity, "identity_initializer": Identity,
           "random_normal": RandomNormal, "normal": RandomNormal,
           "random_uniform": RandomUniform, "uniform": RandomUniform, "truncated_normal": TruncatedNormal,
           "variance_scaling": VarianceScaling, "glorot_uniform": GlorotUniform,
           "glorot_normal": GlorotNormal, "he_uniform": HeUniform, "he_normal": HeNormal,
           "lecun_uniform": LecunUniform, "lecun_normal": LecunNormal,
           "orthogonal": Orthogonal, "orthogonal_initializer": Orthogonal}


def get_from(identifier, by_name):
    """``get`` over the names of ``by_name`` (the Keras namespace passes its own table)."""
    if isinstance(identifier, dict) and {"class_name", "config"} <= set(identifier):
        # Keras' serialized form also has "module" and "registered_name"; the class name decides
        identifier = {"class_name": identifier["class_name"], "config": identifier["config"]}
    return registry.resolve(identifier, "initializer", Initializer, by_name)


def get(identifier):
    """An initializer from a name, a ``serialize()`` dict, an Initializer class or instance, or a
    callable; None -> None (see the module docstring)."""
    return get_from(identifier, BY_NAME)


def serialize(initializer):
    """``{"class_name": ..., "config": ...}`` of an initializer (None stays None); ``get`` and
    ``deserialize`` rebuild it."""
    return registry.serialize(initializer)


def deserialize_from(config, by_name):
    """``deserialize`` over the names of ``by_name``."""
    if not isinstance(config, (dict, str)):
        raise TypeError(f"config must be a dict or a name, got {config!r}")
    return get_from(config, by_name)


def deserialize(config):
    """The initializer a ``serialize()`` dict (or a name) describes."""
    return deserialize_from(config, BY_NAME)
