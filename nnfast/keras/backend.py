"""keras.backend on nnfast: the backend questions a Keras program for a small network asks, with
Keras 3's answers, and ``clear_session``."""
import gc

from ..layers import reset_names
from .namespace import mirror


def clear_session(free_memory=True):
    """As Keras 3: forget the default layer names given so far, so that the next model's layers are
    named "dense", "dense_1", ... again; with `free_memory`, also collect garbage."""
    reset_names()
    if free_memory:
        gc.collect()


def floatx():
    """The default float type: "float32" (a model built with ``dtype="float64"`` uses float64)."""
    return "float32"


def epsilon():
    """Keras's fuzz factor, 1e-7 (nnfast's losses use it where Keras's do; it cannot be changed)."""
    return 1e-7


def image_data_format():
    """"channels_last", Keras's default (nnfast's Flatten takes only that order)."""
    return "channels_last"


mirror(globals(), "keras.backend")
