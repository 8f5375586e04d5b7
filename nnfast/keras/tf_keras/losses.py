"""``tf.keras.losses``: nnfast.keras.losses with TensorFlow's Keras 2 aliases (``mse``, ``MAE``, ...)."""
from .legacy import LOSS_ALIASES, follow

follow(globals(), "nnfast.keras.losses", LOSS_ALIASES)
