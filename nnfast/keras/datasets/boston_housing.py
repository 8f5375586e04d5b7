"""keras.datasets.boston_housing on nnfast: the Boston housing prices from Keras's cache
(downloaded there if missing), split as Keras splits them."""
import numpy as np

from ...utils import checks
from ..namespace import mirror
from .cache import get_file
from .shuffled_split import shuffled_split

ORIGIN_FOLDER = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
FILE_HASH = "f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5"


def load_data(path="boston_housing.npz", test_split=0.2, seed=113):
    """``(x_train, y_train), (x_test, y_test)``: float64 features (n, 13) and prices (n,) in k$.

    As Keras 3: the 506 samples are shuffled by ``numpy.random.RandomState(seed)`` and the first
    ``int(n * (1 - test_split))`` of them form the training set."""
    test_split = checks.real("test_split", test_split, 0.0, 1.0, hi_open=True)
    path = get_file(path, origin=f"{ORIGIN_FOLDER}boston_housing.npz", file_hash=FILE_HASH)
    with np.load(path, allow_pickle=False) as f:
        x, y = f["x"], f["y"]
    return shuffled_split(x, y, test_split, seed)


mirror(globals(), "keras.datasets.boston_housing")
