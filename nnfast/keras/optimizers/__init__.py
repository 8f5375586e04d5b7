"""keras.optimizers on nnfast: the optimizers nnfast.optimizers exports under Keras names (SGD,
Adagrad, RMSprop, Adam, AdamW, Optimizer, get), and the schedules submodule."""
from ..namespace import mirror
from . import schedules  # noqa: F401 (mirror() exports the Keras submodule)

mirror(globals(), "keras.optimizers", ("nnfast.optimizers",))
