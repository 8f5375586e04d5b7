"""``tensorflow.keras`` under ``python -m nnfast.keras``. TensorFlow 2.16 and newer map ``tf.keras`` to
Keras 3's ``keras._tf_keras.keras``: Keras 3, plus the Keras 2 aliases TensorFlow kept in its losses
and metrics (``tf.keras.losses.mse``, ``tf.keras.metrics.mae``, ...). So is this: nnfast.keras, whose
losses and metrics here also carry those aliases (``legacy``); every other name is nnfast.keras's."""
from . import legacy, losses, metrics  # noqa: F401 (submodules with the aliases)

legacy.follow(globals(), "nnfast.keras")
