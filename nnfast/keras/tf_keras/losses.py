"""``tf.keras.losses``: nnfast.keras.losses with TensorFlow's Keras 2 aliases (``mse``, ``MAE``, ...)."""
from . import legacy

legacy.follow(globals(), "nnfast.keras.losses", legacy.LOSS_ALIASES)
