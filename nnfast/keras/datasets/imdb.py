"""keras.datasets.imdb on nnfast: the IMDB movie reviews as lists of word indices with their 0/1
sentiment, and the word index, from Keras's cache (downloaded there if missing); shuffled, shifted,
filtered and cut exactly as Keras 3 does."""
import json

import numpy as np

from ..namespace import mirror
from .cache import get_file
from .safe_pickle import load_npz
from .word_sequences import checked_arguments, marked, shorter_than, within_vocabulary

ORIGIN_FOLDER = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
FILE_HASH = "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f"
WORD_INDEX_HASH = "bfafd718b763782e994055a2d397834f"  # Keras's: an md5


def load_data(path="imdb.npz", num_words=None, skip_top=0, maxlen=None, seed=113, start_char=1, oov_char=2,
              index_from=3, **kwargs):
    """``(x_train, y_train), (x_test, y_test)``: object arrays of word-index lists and their labels.

    As Keras 3: each set shuffled by ``numpy.random.RandomState(seed)`` (the training set first),
    every word index shifted by `index_from` and each review started with `start_char` (unless
    None); with `maxlen`, only the reviews shorter than it kept; words outside
    ``[skip_top, num_words)`` replaced by `oov_char` (or dropped when it is None). Keras 3 ignores
    other keyword arguments (Keras 2's ``nb_words``, ...); so does this, with a warning."""
    num_words, skip_top, maxlen, index_from = checked_arguments("imdb.load_data", num_words, skip_top, maxlen,
                                                                index_from, kwargs)
    path = get_file(fname=path, origin=f"{ORIGIN_FOLDER}imdb.npz", file_hash=FILE_HASH)
    f = load_npz(path)
    rng = np.random.RandomState(seed)
    sets = []
    for x_key, y_key in (("x_train", "y_train"), ("x_test", "y_test")):
        order = np.arange(len(f[x_key]))
        rng.shuffle(order)
        sets.append((f[x_key][order], f[y_key][order]))
    (x_train, labels_train), (x_test, labels_test) = sets
    x_train, x_test = marked(x_train, start_char, index_from), marked(x_test, start_char, index_from)
    if maxlen:
        x_train, labels_train = shorter_than(maxlen, x_train, labels_train)
        x_test, labels_test = shorter_than(maxlen, x_test, labels_test)
        if not x_train or not x_test:
            raise ValueError(f"After filtering for sequences shorter than maxlen={maxlen}, no sequence was kept. "
                             "Increase maxlen.")
    xs = within_vocabulary(x_train + x_test, num_words, skip_top, oov_char, maxlen)
    labels = np.concatenate([labels_train, labels_test])
    n = len(x_train)
    return (np.array(xs[:n], dtype="object"), labels[:n]), (np.array(xs[n:], dtype="object"), labels[n:])


def get_word_index(path="imdb_word_index.json"):
    """{word: its index} (before load_data's `index_from` shift), from Keras's cache."""
    path = get_file(fname=path, origin=f"{ORIGIN_FOLDER}imdb_word_index.json", file_hash=WORD_INDEX_HASH)
    with open(path) as f:
        return json.load(f)


mirror(globals(), "keras.datasets.imdb")
