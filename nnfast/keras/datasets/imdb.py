"""keras.datasets.imdb on nnfast: the IMDB movie reviews as lists of word indices with their 0/1
sentiment, and the word index, from Keras's cache (downloaded there if missing); shuffled, shifted,
filtered and cut exactly as Keras 3 does."""
import json
import warnings

import numpy as np

from ...utils import checks
from ..namespace import mirror
from .cache import get_file
from .safe_pickle import load_npz

ORIGIN_FOLDER = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
FILE_HASH = "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f"
WORD_INDEX_HASH = "bfafd718b763782e994055a2d397834f"  # Keras's: an md5


def shorter_than(maxlen, sequences, labels):
    """The sequences shorter than maxlen and their labels (Keras's remove_long_seq)."""
    kept = [(x, y) for x, y in zip(sequences, labels) if len(x) < maxlen]
    return [x for x, _ in kept], [y for _, y in kept]


def load_data(path="imdb.npz", num_words=None, skip_top=0, maxlen=None, seed=113, start_char=1, oov_char=2,
              index_from=3, **kwargs):
    """``(x_train, y_train), (x_test, y_test)``: object arrays of word-index lists and their labels.

    As Keras 3: each set shuffled by ``numpy.random.RandomState(seed)`` (the training set first),
    every word index shifted by `index_from` and each review started with `start_char` (unless
    None); with `maxlen`, only the reviews shorter than it kept; words outside
    ``[skip_top, num_words)`` replaced by `oov_char` (or dropped when it is None). Keras 3 ignores
    other keyword arguments (Keras 2's ``nb_words``, ...); so does this, with a warning."""
    if kwargs:
        warnings.warn(f"imdb.load_data ignores {sorted(kwargs)}, as Keras 3 does", stacklevel=2)
    num_words = checks.optional_integer("num_words", num_words, lo=0)
    maxlen = checks.optional_integer("maxlen", maxlen, lo=0)
    skip_top, index_from = checks.integer("skip_top", skip_top, lo=0), checks.integer("index_from", index_from, lo=0)
    path = get_file(fname=path, origin=f"{ORIGIN_FOLDER}imdb.npz", file_hash=FILE_HASH)
    f = load_npz(path)
    rng = np.random.RandomState(seed)
    sets = []
    for x_key, y_key in (("x_train", "y_train"), ("x_test", "y_test")):
        order = np.arange(len(f[x_key]))
        rng.shuffle(order)
        sets.append((f[x_key][order], f[y_key][order]))
    (x_train, labels_train), (x_test, labels_test) = sets
    prefix = [] if start_char is None else [start_char]
    x_train = [prefix + [w + index_from for w in x] for x in x_train]
    x_test = [prefix + [w + index_from for w in x] for x in x_test]
    if maxlen:
        x_train, labels_train = shorter_than(maxlen, x_train, labels_train)
        x_test, labels_test = shorter_than(maxlen, x_test, labels_test)
        if not x_train or not x_test:
            raise ValueError(f"After filtering for sequences shorter than maxlen={maxlen}, no sequence was kept. "
                             "Increase maxlen.")
    xs = x_train + x_test
    labels = np.concatenate([labels_train, labels_test])
    if not num_words:
        num_words = max(max(x) for x in xs)
    if oov_char is not None:
        xs = [[w if skip_top <= w < num_words else oov_char for w in x] for x in xs]
    else:
        xs = [[w for w in x if skip_top <= w < num_words] for x in xs]
    n = len(x_train)
    return (np.array(xs[:n], dtype="object"), labels[:n]), (np.array(xs[n:], dtype="object"), labels[n:])


def get_word_index(path="imdb_word_index.json"):
    """{word: its index} (before load_data's `index_from` shift), from Keras's cache."""
    path = get_file(fname=path, origin=f"{ORIGIN_FOLDER}imdb_word_index.json", file_hash=WORD_INDEX_HASH)
    with open(path) as f:
        return json.load(f)


mirror(globals(), "keras.datasets.imdb")
