"""keras.activations on nnfast: the activation functions nnfast.activations exports under Keras
names (none while the library has no nnfast.activations)."""
from .namespace import mirror

mirror(globals(), "keras.activations", ("nnfast.activations",))
