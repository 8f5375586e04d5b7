"""keras.layers on nnfast: every layer nnfast.layers exports under a Keras layer name, and
``Input`` wherever the library keeps it (nnfast.layers, else nnfast.models)."""
from .namespace import mirror

mirror(globals(), "keras.layers", ("nnfast.layers", "nnfast.models"))
