"""``tf.keras.metrics``: nnfast.keras.metrics with TensorFlow's Keras 2 aliases (``mse``, ``MAE``, ...)."""
from . import legacy

legacy.follow(globals(), "nnfast.keras.metrics", legacy.LOSS_ALIASES)
