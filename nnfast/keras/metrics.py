"""keras.metrics on nnfast. A placeholder: the Keras metric classes are being added by issue #12's
metrics work, which owns this module; until then every keras.metrics name is unsupported here (the
metric names compile() takes as strings work all the same)."""
from .namespace import mirror

mirror(globals(), "keras.metrics")
