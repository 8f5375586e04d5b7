"""The one rule every nnfast.keras module follows to mirror a Keras 3 module.

A namespace module calls :func:`mirror` last, with the Keras module it stands for and the nnfast
modules that supply its objects. Every name a source exports (its ``__all__``, else the public
objects it defines) that the Keras module also has is re-exported under that name, so a name the
library gains appears in nnfast.keras without an edit here. Looking up any other name:

- a name the Keras module has raises :class:`UnsupportedFeatureError` (a ``NotImplementedError``,
  so that ``from nnfast.keras.layers import Conv2D`` keeps the message instead of Python's generic
  ImportError), naming the Keras feature and pointing to docs/keras.md;
- a name Keras does not have either, and every underscore name (Python's import machinery probes
  some), raises the usual AttributeError.
"""
import importlib
import types

from .keras_names import KERAS_NAMES

__all__ = ["UnsupportedFeatureError", "unsupported", "exported_names", "mirror"]

GUIDE = "docs/keras.md"


class UnsupportedFeatureError(NotImplementedError):
    """A feature of Keras 3 that nnfast does not have (docs/keras.md lists what it has)."""

    __module__ = "nnfast.keras"  # where users meet it (the package exports it)


class UnsupportedAttributeError(UnsupportedFeatureError, AttributeError):
    """An UnsupportedFeatureError that is also an AttributeError: for the TensorFlow stand-in's
    names, so that a program's feature test (``hasattr(tf, "config")``) answers as for an absent
    name. Keras's own modules raise the plain error, which ``from keras.layers import Conv2D`` keeps
    (an AttributeError there would become Python's generic ImportError)."""

    __module__ = "nnfast.keras"


def unsupported(feature, offered_by=None, supported=(), note="", error=UnsupportedFeatureError):
    """The UnsupportedFeatureError (or `error`, a subclass) for `feature` (a Keras name such as
    ``"keras.layers.Conv2D"``); `supported` lists what the nnfast.keras module `offered_by` has
    instead."""
    offer = f" ({offered_by} has: {', '.join(supported)})" if supported else ""
    return error(f"{feature} is not supported by nnfast{offer}{note}; "
                 f"see {GUIDE} in the nnfast repository for what nnfast.keras supports")


def exported_names(module):
    """The names `module` exports: its ``__all__``, else the public objects it (or one of its
    submodules) defines itself, so that names it merely imported are not taken for its own."""
    names = getattr(module, "__all__", None)
    if names is not None:
        return list(names)
    prefix = module.__name__ + "."
    return [name for name, value in vars(module).items()
            if not name.startswith("_") and not isinstance(value, types.ModuleType)
            and (getattr(value, "__module__", None) == module.__name__
                 or str(getattr(value, "__module__", "")).startswith(prefix))]


def _import_source(name):
    """The module `name`, or None while the library does not have it yet."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as e:
        if e.name is not None and (name == e.name or name.startswith(e.name + ".")):
            return None
        raise


def mirror(namespace, keras_module, sources=()):
    """Make the module whose globals are `namespace` stand for `keras_module` (``"keras.layers"``).

    Re-exports the Keras names the `sources` (module names, first wins) export, keeps the Keras
    names the module defines or imported itself (submodules, local functions), and installs
    ``__all__`` (the supported Keras names), ``__getattr__`` and ``__dir__``. Returns ``__all__``.
    """
    keras_names = frozenset(KERAS_NAMES[keras_module])
    module_name = namespace["__name__"]
    for source in sources:
        module = _import_source(source)
        if module is None:
            continue
        for name in exported_names(module):
            if name in keras_names and name not in namespace:
                namespace[name] = getattr(module, name)
    supported = sorted(name for name in namespace if name in keras_names)

    def __getattr__(name):
        if name.startswith("_") or name not in keras_names:
            raise AttributeError(f"module {module_name!r} has no attribute {name!r}")
        raise unsupported(f"{keras_module}.{name}", module_name, supported)

    def __dir__():
        return sorted(namespace)

    namespace.update(__all__=supported, __getattr__=__getattr__, __dir__=__dir__)
    return supported
