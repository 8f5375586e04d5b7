"""keras.initializers on nnfast: the initializer classes and names nnfast.initializers exports."""
from .namespace import mirror

mirror(globals(), "keras.initializers", ("nnfast.initializers",))
