"""keras.utils on nnfast: ``to_categorical`` and ``normalize`` (nnfast.preprocessing), ``Progbar``
(nnfast.utils.progbar), ``get_file`` (the Keras dataset cache, nnfast.keras.datasets.cache) and
``set_random_seed``."""
import random

import numpy as np

from ..utils import checks
from .namespace import mirror


def set_random_seed(seed):
    """Seed Python's ``random`` and NumPy's global RandomState, as Keras 3 does (nnfast has no
    global seed of its own: a model built with ``seed=None`` draws its seed from NumPy's global
    RandomState, so this makes such a program repeatable). `seed` is an int in [0, 2**32 - 1],
    NumPy's range; anything else is a TypeError or ValueError naming `seed`."""
    seed = checks.integer("seed", seed, lo=0, hi=2**32 - 1)
    random.seed(seed)
    np.random.seed(seed)


mirror(globals(), "keras.utils", ("nnfast.preprocessing", "nnfast.utils.progbar", "nnfast.keras.datasets.cache"))
