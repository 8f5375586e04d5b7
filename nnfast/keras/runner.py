"""``python -m nnfast.keras SCRIPT.py [ARGS...]``: run an unmodified Keras program on nnfast.

``keras`` and ``tensorflow.keras`` (and every submodule under them: ``keras.layers``,
``tensorflow.keras.utils``, ...) resolve to nnfast.keras; ``tensorflow.keras`` to its ``tf_keras``
flavour, whose losses and metrics keep TensorFlow's Keras 2 aliases (``tf.keras.losses.mse``), as
TensorFlow 2.16+ maps tf.keras to Keras 3's ``keras._tf_keras.keras``. ``tensorflow`` itself is a stand-in whose
only feature is ``keras``: anything else on it, and any Keras module nnfast.keras lacks
(``keras.applications``), raises UnsupportedFeatureError when the program imports or touches it.
The script then runs as ``python SCRIPT.py ARGS...`` would: as ``__main__``, with
``sys.argv == [SCRIPT.py, ARGS...]`` and its own folder first on ``sys.path``.
"""
import importlib
import importlib.abc
import importlib.util
import os
import runpy
import sys
import types

from .keras_names import KERAS_NAMES
from .namespace import UnsupportedAttributeError, unsupported

__all__ = ["ALIASES", "KerasAliasFinder", "TensorflowStandIn", "install_aliases", "run", "main"]

# module name prefix -> the nnfast modules it stands for, the first that has the submodule asked for
ALIASES = {"keras": ("nnfast.keras",), "tensorflow.keras": ("nnfast.keras.tf_keras", "nnfast.keras")}
USAGE = "usage: python -m nnfast.keras SCRIPT.py [ARGS...]"


class TensorflowStandIn(types.ModuleType):
    """``tensorflow`` for a Keras program: ``tensorflow.keras`` is nnfast.keras (its tf_keras
    flavour), every other public name raises UnsupportedFeatureError."""

    # The first TensorFlow whose tf.keras is Keras 3, the API nnfast.keras follows: what a program
    # that prints or compares tf.__version__ should see.
    __version__ = "2.16.1"

    def __init__(self, keras):
        super().__init__("tensorflow", "A stand-in for TensorFlow: only tensorflow.keras (nnfast.keras) exists.")
        self.keras = keras
        self.__path__ = []  # a package, so that `import tensorflow.X` reaches KerasAliasFinder

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(f"module 'tensorflow' has no attribute {name!r}")
        raise unsupported(f"tensorflow.{name}", note=" (nnfast stands in for tensorflow.keras only)",
                          error=UnsupportedAttributeError)


def module_exists(name):
    """Whether the module `name` can be imported (its parents included), without importing it."""
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


class AliasLoader(importlib.abc.Loader):
    """Loads a module name as an alias of a module that is already imported."""

    def __init__(self, module):
        self.module = module

    def create_module(self, spec):
        return self.module

    def exec_module(self, module):
        pass  # already executed under its own name


class KerasAliasFinder(importlib.abc.MetaPathFinder):
    """Resolves ``keras.X`` and ``tensorflow.keras.X`` to ``nnfast.keras.X`` (the same module
    object, never a second copy); a Keras module nnfast lacks, or ``tensorflow.X``, raises
    UnsupportedFeatureError."""

    def find_spec(self, fullname, path=None, target=None):
        for alias, reals in ALIASES.items():
            if fullname.startswith(alias + "."):
                rest = fullname[len(alias):]
                # tf_keras's own submodules (losses, metrics), else nnfast.keras's
                real = next((r for r in reals[:-1] if module_exists(r + rest)), reals[-1])
                return self.alias_spec(fullname, real + rest, "keras" + rest)
        if fullname.startswith("tensorflow."):
            raise unsupported(fullname, note=" (nnfast stands in for tensorflow.keras only)")
        return None

    @staticmethod
    def alias_spec(fullname, real, keras_name):
        try:
            module = importlib.import_module(real)
        except ModuleNotFoundError as e:
            if e.name is None or not (real == e.name or real.startswith(e.name + ".")):  # missing inside nnfast
                raise
            if keras_name in KERAS_NAMES:
                raise unsupported(keras_name) from None
            return None  # not a Keras module either: Python's ModuleNotFoundError
        return importlib.util.spec_from_loader(fullname, AliasLoader(module))


def install_aliases():
    """Make ``keras``, ``tensorflow`` and ``tensorflow.keras`` (and their submodules) resolve to
    nnfast.keras in this interpreter."""
    keras, tf_keras = importlib.import_module("nnfast.keras"), importlib.import_module("nnfast.keras.tf_keras")
    sys.modules["keras"] = keras
    sys.modules["tensorflow"] = TensorflowStandIn(tf_keras)
    sys.modules["tensorflow.keras"] = tf_keras
    if not any(isinstance(finder, KerasAliasFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, KerasAliasFinder())  # before the path finder, which would load copies


def run(script, args=()):
    """Run the Keras program `script` with `args` as ``python script args...`` would, on nnfast."""
    install_aliases()
    sys.argv = [script, *args]
    sys.path[0:1] = [os.path.dirname(os.path.abspath(script))]
    runpy.run_path(script, run_name="__main__")


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE, file=sys.stderr if not argv else sys.stdout)
        return 2 if not argv else 0
    if not os.path.isfile(argv[0]):
        print(f"{USAGE}\nnnfast.keras: can't open file {argv[0]!r}", file=sys.stderr)
        return 2
    run(argv[0], argv[1:])
    return 0
