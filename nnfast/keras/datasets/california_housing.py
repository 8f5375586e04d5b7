"""keras.datasets.california_housing on nnfast: the California housing prices (1990 census block
groups, 8 features) from Keras's cache (downloaded there if missing), split as Keras splits them."""
import numpy as np

from ...utils import checks
from ..namespace import mirror
from .cache import get_file
from .shuffled_split import shuffled_split

ORIGIN_FOLDER = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
FILE_HASH = "1a2e3a52e0398de6463aebe6f4a8da34fb21fbb6b934cf88c3425e766f2a1a6f"
SMALL_SAMPLES = 600  # the "small" version: the file's first 600 samples, Keras's stand-in for boston_housing


def load_data(version="large", path="california_housing.npz", test_split=0.2, seed=113):
    """``(x_train, y_train), (x_test, y_test)``: features (n, 8) and median house values (n,) in dollars.

    As Keras 3: the 20640 samples (600 with ``version="small"``) are shuffled by
    ``numpy.random.RandomState(seed)`` and the first ``int(n * (1 - test_split))`` of them form the
    training set. The arguments are checked before the file is looked for (Keras checks `version`
    after reading it)."""
    version = checks.one_of("version", version, ("small", "large"))
    test_split = checks.real("test_split", test_split, 0.0, 1.0, hi_open=True)
    path = get_file(path, origin=f"{ORIGIN_FOLDER}california_housing.npz", file_hash=FILE_HASH)
    with np.load(path, allow_pickle=False) as f:
        x, y = f["x"], f["y"]
    if version == "small":
        x, y = x[:SMALL_SAMPLES], y[:SMALL_SAMPLES]
    return shuffled_split(x, y, test_split, seed)


mirror(globals(), "keras.datasets.california_housing")
