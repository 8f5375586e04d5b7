"""keras.regularizers on nnfast: the regularizers nnfast.regularizers exports (L1, L2, L1L2, ...)."""
from .namespace import mirror

mirror(globals(), "keras.regularizers", ("nnfast.regularizers",))
