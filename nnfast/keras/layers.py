"""keras.layers on nnfast: every layer nnfast.layers exports under a Keras layer name."""
from .namespace import mirror

mirror(globals(), "keras.layers", ("nnfast.layers",))
