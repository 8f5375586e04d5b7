"""keras.optimizers.schedules on nnfast: the learning-rate schedules nnfast.optimizers.schedules
exports under Keras names (none while the library has no schedules; a plain callable
``schedule(iterations) -> float`` works as a learning rate meanwhile)."""
from ..namespace import mirror

mirror(globals(), "keras.optimizers.schedules", ("nnfast.optimizers.schedules",))
