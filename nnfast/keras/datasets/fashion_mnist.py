"""keras.datasets.fashion_mnist on nnfast: Fashion-MNIST's four gzipped IDX files from Keras's
cache (``datasets/fashion-mnist``; downloaded there if missing)."""
import os

from ...datasets import load_idx
from ..namespace import mirror
from .cache import get_file

BASE = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
FOLDER = os.path.join("datasets", "fashion-mnist")
FILES = {"y_train": "train-labels-idx1-ubyte.gz", "x_train": "train-images-idx3-ubyte.gz",
         "y_test": "t10k-labels-idx1-ubyte.gz", "x_test": "t10k-images-idx3-ubyte.gz"}


def load_data():
    """``(x_train, y_train), (x_test, y_test)``: uint8 images (60000, 28, 28) and (10000, 28, 28),
    uint8 labels (60000,) and (10000,), as Keras 3 returns them. The IDX files are read by
    nnfast.datasets.load_idx, which also checks their headers and sizes."""
    arrays = {key: load_idx(get_file(name, origin=BASE + name, cache_subdir=FOLDER)) for key, name in FILES.items()}
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


mirror(globals(), "keras.datasets.fashion_mnist")
