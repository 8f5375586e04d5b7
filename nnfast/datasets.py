"""Small data sets: the seed notes' study-hours data, scikit-learn's digits, and an IDX reader.

Nothing here downloads anything. ``load_idx`` and ``load_fashion_mnist`` read (Fashion-)MNIST files
already on disk; ``load_digits`` uses the copy bundled with scikit-learn (``pip install
'nnfast[datasets]'``).
"""

import gzip
import math
import os
import zlib

import numpy as np

from .utils import checks

__all__ = ["study_hours", "make_samples", "load_digits", "load_idx", "load_fashion_mnist", "load_mnist"]


# --------------------------------------------------------------------------------------------------
# the seed notes' data
# --------------------------------------------------------------------------------------------------

def study_hours(dtype="float64"):
    """The seed notes' three samples: x = (study hours, sleep hours), y = 5 study + 2 sleep.

    Both are divided by their column maximum, as in the notes: x (3, 2) is
    ``[[1, 1], [0.25, 0.625], [0.875, 0.75]]`` and y (3, 1) is ``[[1], [0.357...], [0.839...]]``.
    """
    dtype = checks.float_dtype("dtype", dtype)
    x = np.array([[8, 8], [2, 5], [7, 6]], dtype=np.float64)
    y = (5 * x[:, 0] + 2 * x[:, 1]).reshape(3, 1)
    return (x / x.max(axis=0)).astype(dtype), (y / y.max(axis=0)).astype(dtype)


def make_samples(n=1000, seed=None, dtype="float64"):
    """The seed notes' regression data: n samples of y = 5 study + 2 sleep + 40.

    study and sleep are drawn from U(1, 8) by ``numpy.random.default_rng(seed)`` (study for every
    sample first, then sleep). As in the notes, x (n, 2) is divided by its column maximum and y (n, 1)
    by 100.
    """
    n = checks.integer("n", n, lo=1)
    dtype = checks.float_dtype("dtype", dtype)
    rng = np.random.default_rng(seed)
    study = rng.uniform(1, 8, (n, 1))
    sleep = rng.uniform(1, 8, (n, 1))
    y = 5 * study + 2 * sleep + 40
    x = np.hstack([study, sleep])
    return (x / x.max(axis=0)).astype(dtype), (y / 100).astype(dtype)


# --------------------------------------------------------------------------------------------------
# scikit-learn's digits
# --------------------------------------------------------------------------------------------------

def load_digits(test_size=0.2, seed=0, dtype="float32"):
    """scikit-learn's 8x8 digits: ((x_train, y_train), (x_test, y_test)).

    x is (n, 64) pixels / 16 in ``dtype``; y holds int64 class indices 0-9. The 1797 samples are
    shuffled by ``numpy.random.default_rng(seed)`` (no stratification) and the last
    ``ceil(test_size * 1797)`` of them form the test set. Needs scikit-learn.
    """
    # float() first keeps accepting what it always accepted (a numeric string too)
    test_size = checks.real("test_size", float(test_size), 0.0, 1.0, lo_open=True, hi_open=True)
    dtype = checks.float_dtype("dtype", dtype)
    try:
        from sklearn.datasets import load_digits as sklearn_load_digits
    except ImportError as e:
        raise ImportError("load_digits needs scikit-learn: pip install 'nnfast[datasets]'") from e
    digits = sklearn_load_digits()
    x = (np.asarray(digits.data, dtype=np.float64) / 16.0).astype(dtype)
    y = np.asarray(digits.target, dtype=np.int64)
    order = np.random.default_rng(seed).permutation(len(x))
    n_test = math.ceil(test_size * len(x))
    train, test = order[:-n_test], order[-n_test:]
    return (x[train], y[train]), (x[test], y[test])


# --------------------------------------------------------------------------------------------------
# IDX files ((Fashion-)MNIST)
# --------------------------------------------------------------------------------------------------

# IDX type code -> big-endian element type
_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_GZIP_MAGIC = b"\x1f\x8b"


def _read_bytes(path):
    """The file's bytes, gunzipped when it starts with the gzip magic (whatever its name)."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] != _GZIP_MAGIC:
        return data
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as e:
        raise ValueError(f"{path}: corrupt gzip data ({e})") from None


def load_idx(path):
    """Read an IDX file (the (Fashion-)MNIST format), raw or gzip-compressed, as a numpy array.

    Header: two zero bytes, a type code (0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32,
    0x0E float64), the number of dimensions, then each dimension as a big-endian uint32. The data
    follow in big-endian order; the result has native byte order and owns its memory. A bad magic,
    a short file or bytes after the data raise ValueError naming the path.
    """
    path = os.fspath(path)
    data = _read_bytes(path)
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _IDX_TYPES:
        raise ValueError(f"{path}: not an IDX file (the magic number {data[:4].hex() or 'is missing'} "
                         f"is not 0000 + a type code in {', '.join(f'{t:02x}' for t in _IDX_TYPES)} + ndim)")
    element = np.dtype(_IDX_TYPES[data[2]])
    ndim = data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"{path}: truncated IDX header ({len(data)} bytes, {header} needed for "
                         f"{ndim} dimensions)")
    shape = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    expected = header + math.prod(shape) * element.itemsize
    if len(data) != expected:
        problem = "truncated" if len(data) < expected else "trailing bytes after the data"
        raise ValueError(f"{path}: {problem}: shape {shape} of {element.newbyteorder('=').name} needs "
                         f"{expected} bytes, the file has {len(data)}")
    values = np.frombuffer(data, dtype=element, count=math.prod(shape), offset=header)
    return values.astype(element.newbyteorder("="), copy=True).reshape(shape)


_MNIST_FILES = {"x_train": "train-images-idx3-ubyte", "y_train": "train-labels-idx1-ubyte",
                "x_test": "t10k-images-idx3-ubyte", "y_test": "t10k-labels-idx1-ubyte"}


def load_fashion_mnist(directory):
    """((x_train, y_train), (x_test, y_test)) from the four standard IDX files in ``directory``.

    The files are ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``
    and ``t10k-labels-idx1-ubyte``, each raw or with a ``.gz`` suffix (the plain name wins if both
    exist). x is uint8 (n, rows, cols) and y uint8 (n,), as in Keras. MNIST uses the same names, so
    this reads MNIST too (``load_mnist`` is the same function). Nothing is downloaded.
    """
    directory = os.fspath(directory)
    found, missing = {}, []
    for key, name in _MNIST_FILES.items():
        candidates = [os.path.join(directory, name + suffix) for suffix in ("", ".gz")]
        found[key] = next((p for p in candidates if os.path.isfile(p)), None)
        if found[key] is None:
            missing.append(name)
    if missing:
        expected = ", ".join(_MNIST_FILES.values())
        raise FileNotFoundError(f"{directory}: missing {', '.join(missing)}; the folder must hold "
                                f"{expected}, each raw or .gz (nothing is downloaded)")
    arrays = {key: load_idx(path) for key, path in found.items()}
    for split in ("train", "test"):
        x, y = arrays["x_" + split], arrays["y_" + split]
        if x.dtype != np.uint8 or x.ndim != 3 or y.dtype != np.uint8 or y.ndim != 1 or len(x) != len(y):
            raise ValueError(f"{directory}: {split} files do not hold uint8 images (n, rows, cols) and "
                             f"uint8 labels (n,): got {x.dtype} {x.shape} and {y.dtype} {y.shape}")
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


load_mnist = load_fashion_mnist
