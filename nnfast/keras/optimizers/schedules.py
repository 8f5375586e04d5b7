"""keras.optimizers.schedules on nnfast: the learning-rate schedules nnfast.optimizers.schedules
exports under Keras names (LearningRateSchedule, ExponentialDecay, InverseTimeDecay,
PiecewiseConstantDecay, PolynomialDecay, CosineDecay, CosineDecayRestarts, serialize, deserialize);
a plain callable ``schedule(iterations) -> float`` works as a learning rate too."""
from ..namespace import mirror

mirror(globals(), "keras.optimizers.schedules", ("nnfast.optimizers.schedules",))
