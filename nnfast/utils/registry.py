"""Shared plumbing of the small configurable objects (initializers, regularizers): Keras-style
get_config / from_config / repr, serialization as ``{"class_name": ..., "config": ...}`` (how
layers store them in their configs), and the `get(identifier)` lookup rule."""
from . import checks


class Configurable:
    """get_config() returns the constructor arguments; from_config and repr follow from it."""

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def serialize(obj):
    """A Configurable as ``{"class_name": its class name, "config": its get_config()}`` (None stays
    None). A plain callable has no config: TypeError naming it."""
    if obj is None:
        return None
    if not isinstance(obj, Configurable):
        raise TypeError(f"{obj!r} cannot be serialized: only nnfast's initializer and regularizer "
                        "objects have a config")
    return {"class_name": type(obj).__name__, "config": obj.get_config()}


def resolve(identifier, kind, base, by_name):
    """None -> None; a name from ``by_name`` (compared case- and underscore-insensitively) -> a
    default instance; a ``serialize()`` dict -> the instance it describes; a subclass of ``base``
    -> a default instance; an instance or other callable -> itself. An unknown name is a
    ValueError listing the valid ones; anything else a TypeError."""
    if identifier is None:
        return None
    if isinstance(identifier, dict) and set(identifier) == {"class_name", "config"}:
        cls = type(resolve(identifier["class_name"], kind, base, by_name))
        return cls.from_config(identifier["config"])
    if isinstance(identifier, str):
        key = identifier.lower().replace("_", "")
        for name, cls in by_name.items():
            if name.replace("_", "") == key:
                return cls()
        raise checks.not_one_of(kind, identifier, tuple(sorted(by_name)))
    if isinstance(identifier, type) and issubclass(identifier, base):
        return identifier()
    if callable(identifier):
        return identifier
    raise TypeError(f"{kind} must be a name, a config dict, an instance or a callable, got {identifier!r}")
