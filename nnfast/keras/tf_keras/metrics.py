"""``tf.keras.metrics``: nnfast.keras.metrics with TensorFlow's Keras 2 aliases (``mse``, ``MAE``, ...)."""
from .legacy import LOSS_ALIASES, follow

follow(globals(), "nnfast.keras.metrics", LOSS_ALIASES)
