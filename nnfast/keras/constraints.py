"""keras.constraints on nnfast: the constraints nnfast.constraints exports (MaxNorm, NonNeg, ...)."""
from .namespace import mirror

mirror(globals(), "keras.constraints", ("nnfast.constraints",))
