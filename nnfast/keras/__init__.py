"""nnfast.keras: Keras 3's public layout over nnfast, so that a Keras program for a small network
runs on nnfast with one changed import (``import nnfast.keras as keras``), or unchanged with
``python -m nnfast.keras script.py``.

Each submodule mirrors the Keras module of the same name (``layers``, ``models``, ``optimizers``,
``losses``, ``metrics``, ``callbacks``, ``activations``, ``initializers``, ``regularizers``, ``constraints``,
``utils``, ``datasets``, and the part of ``backend`` a small network's program asks for) by one rule (see ``namespace``): it re-exports the nnfast library's objects
that carry a Keras name. A Keras name nnfast lacks raises :class:`UnsupportedFeatureError`, which
names the feature and points to docs/keras.md; a name Keras lacks too raises AttributeError.
"""
from . import (  # noqa: F401 (mirror() exports the Keras submodules)
    activations,
    backend,
    callbacks,
    constraints,
    datasets,
    initializers,
    layers,
    losses,
    metrics,
    models,
    optimizers,
    regularizers,
    utils,
)
from .keras_names import KERAS_VERSION as __version__  # noqa: F401 (the Keras API followed; nnfast's: nnfast.__version__)
from .namespace import UnsupportedAttributeError as UnsupportedAttributeError
from .namespace import UnsupportedFeatureError as UnsupportedFeatureError
from .namespace import mirror

# keras.Sequential, keras.Model, keras.Input, keras.Layer, ...: the submodules' objects that Keras
# also exports at the top
mirror(globals(), "keras", ("nnfast.keras.models", "nnfast.keras.layers", "nnfast.keras.optimizers",
                            "nnfast.keras.losses", "nnfast.keras.metrics", "nnfast.keras.initializers",
                            "nnfast.keras.regularizers"))
