"""Keras 3's initializer namespace over nnfast's classes (what ``nnfast.keras.initializers`` exports).

Everything is nnfast's own class except RandomNormal: nnfast's defaults to the lecture notes'
stddev 1.0, Keras' to 0.05, so this namespace has a subclass that differs only in that default, and
its names ("random_normal", "RandomNormal", "normal") give it. Configs always carry the stddev, so
a serialized RandomNormal means the same in both namespaces.
"""
from . import BY_NAME, deserialize_from, get_from
from . import RandomNormal as NotesRandomNormal
from .distributions import KERAS_NORMAL_STDDEV

__all__ = ["RandomNormal", "random_normal", "KERAS_BY_NAME", "get", "deserialize"]


class RandomNormal(NotesRandomNormal):
    """N(mean, stddev) with Keras' defaults: mean 0.0, stddev 0.05."""

    def __init__(self, mean=0.0, stddev=KERAS_NORMAL_STDDEV, seed=None):
        super().__init__(mean, stddev, seed)


random_normal = RandomNormal

KERAS_BY_NAME = {name: RandomNormal if cls is NotesRandomNormal else cls for name, cls in BY_NAME.items()}


def get(identifier):
    """As ``nnfast.initializers.get``, with Keras' RandomNormal defaults (stddev 0.05)."""
    return get_from(identifier, KERAS_BY_NAME)


def deserialize(config):
    """The initializer a ``serialize()`` dict (or a name) describes, with Keras' RandomNormal."""
    return deserialize_from(config, KERAS_BY_NAME)
