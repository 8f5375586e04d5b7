"""keras.datasets.cifar10 on nnfast: CIFAR-10's pickled batches, from the archive in Keras's cache
(downloaded there if missing and extracted beside it)."""
import os

import numpy as np

from ..namespace import mirror
from .cache import get_file
from .safe_pickle import ArrayUnpickler

ORIGIN = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
FILE_HASH = "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"
FOLDER = "cifar-10-batches-py-target"  # Keras's name: the archive is FOLDER_archive beside it
TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))


def load_batch(path, label_key="labels"):
    """(data uint8 (n, 3, 32, 32), labels) of one pickled CIFAR batch."""
    with open(path, "rb") as f:
        # written by Python 2, so their str are bytes; nothing but NumPy arrays may be rebuilt
        batch = {key.decode("utf8"): value for key, value in ArrayUnpickler(f, encoding="bytes").load().items()}
    data = batch["data"]
    return data.reshape(data.shape[0], 3, 32, 32), batch[label_key]


def load_data():
    """``(x_train, y_train), (x_test, y_test)``: uint8 images (50000, 32, 32, 3) and
    (10000, 32, 32, 3) (channels last, Keras's default image format), uint8 labels (50000, 1) and
    (10000, 1), as Keras 3 returns them."""
    folder = os.path.join(get_file(fname=FOLDER, origin=ORIGIN, extract=True, file_hash=FILE_HASH),
                          "cifar-10-batches-py")
    batches = [load_batch(os.path.join(folder, name)) for name in TRAIN_BATCHES]
    x_train = np.concatenate([data for data, _ in batches]).astype(np.uint8, copy=False)
    y_train = np.concatenate([np.asarray(labels) for _, labels in batches]).astype(np.uint8)
    x_test, y_test = load_batch(os.path.join(folder, "test_batch"))
    return ((x_train.transpose(0, 2, 3, 1), y_train.reshape(-1, 1)),
            (x_test.transpose(0, 2, 3, 1).astype(np.uint8, copy=False), np.asarray(y_test, np.uint8).reshape(-1, 1)))


mirror(globals(), "keras.datasets.cifar10")
