"""``keras.initializers`` on nnfast: Keras 3's initializer classes, lowercase aliases and
get/serialize/deserialize, with Keras' defaults throughout.

These are nnfast's initializer classes, except RandomNormal (also ``random_normal``, and what the
names "random_normal", "RandomNormal" and "normal" give): Keras' default stddev is 0.05 where
``nnfast.initializers.RandomNormal`` has the lecture notes' 1.0, so this is a subclass of it that
differs only in that default. Values come from NumPy's generator, not Keras': the same
distributions, not the same bits.

By the namespace rule: the Keras names ``nnfast.initializers.keras_defaults`` exports (RandomNormal,
random_normal, get, deserialize) come first, then those of ``nnfast.initializers``.
"""
from .namespace import mirror

mirror(globals(), "keras.initializers", ("nnfast.initializers.keras_defaults", "nnfast.initializers"))
