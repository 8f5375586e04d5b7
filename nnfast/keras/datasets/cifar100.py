"""keras.datasets.cifar100 on nnfast: CIFAR-100's pickled train and test sets, from the archive in
Keras's cache (downloaded there if missing and extracted beside it), with fine (100) or coarse (20)
labels."""
import os

import numpy as np

from ...utils import checks
from ..namespace import mirror
from .cache import get_file
from .cifar10 import load_batch

ORIGIN = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
FILE_HASH = "85cd44d02ba6437773c5bbd22e183051d648de2e7d6b014e1ef29b855ba677a7"
FOLDER = "cifar-100-python-target"  # Keras's name: the archive is FOLDER_archive beside it


def load_data(label_mode="fine"):
    """``(x_train, y_train), (x_test, y_test)``: uint8 images (50000, 32, 32, 3) and
    (10000, 32, 32, 3) (channels last), and int64 labels (50000, 1) and (10000, 1): the 100 fine
    classes, or the 20 superclasses with ``label_mode="coarse"``, as Keras 3 returns them."""
    label_mode = checks.one_of("label_mode", label_mode, ("fine", "coarse"))
    folder = os.path.join(get_file(fname=FOLDER, origin=ORIGIN, extract=True, file_hash=FILE_HASH),
                          "cifar-100-python")
    sets = []
    for name in ("train", "test"):
        data, labels = load_batch(os.path.join(folder, name), label_key=f"{label_mode}_labels")
        sets.append((data.transpose(0, 2, 3, 1), np.reshape(labels, (len(labels), 1))))
    return tuple(sets)


mirror(globals(), "keras.datasets.cifar100")
