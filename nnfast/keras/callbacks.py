"""keras.callbacks on nnfast: the callbacks nnfast.callbacks exports under Keras names."""
from .namespace import mirror

mirror(globals(), "keras.callbacks", ("nnfast.callbacks",))
