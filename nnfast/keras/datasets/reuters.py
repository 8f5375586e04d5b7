"""keras.datasets.reuters on nnfast: the Reuters newswires as lists of word indices with their topic
(46 of them), the word index and the topic names, from Keras's cache (downloaded there if missing);
shuffled, shifted, filtered, cut and split exactly as Keras 3 does."""
import json

import numpy as np

from ...utils import checks
from ..namespace import mirror
from .cache import get_file
from .safe_pickle import load_npz
from .word_sequences import checked_arguments, marked, shorter_than, within_vocabulary

ORIGIN_FOLDER = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
FILE_HASH = "d6586e694ee56d7a4e65172e12b3e987c03096cb01eab99753921ef915959916"
WORD_INDEX_HASH = "4d44cc38712099c9e383dc6e5f11a921"  # Keras's: an md5
LABEL_NAMES = (
    "cocoa", "grain", "veg-oil", "earn", "acq", "wheat", "copper", "housing", "money-supply", "coffee", "sugar",
    "trade", "reserves", "ship", "cotton", "carcass", "crude", "nat-gas", "cpi", "money-fx", "interest", "gnp",
    "meal-feed", "alum", "oilseed", "gold", "tin", "strategic-metal", "livestock", "retail", "ipi", "iron-steel",
    "rubber", "heat", "jobs", "lei", "bop", "zinc", "orange", "pet-chem", "dlr", "gas", "silver", "wpi", "hog",
    "lead")


def load_data(path="reuters.npz", num_words=None, skip_top=0, maxlen=None, test_split=0.2, seed=113, start_char=1,
              oov_char=2, index_from=3):
    """``(x_train, y_train), (x_test, y_test)``: object arrays of word-index lists and their topics.

    As Keras 3: the 11228 newswires shuffled together by ``numpy.random.RandomState(seed)``,
    every word index shifted by `index_from` and each newswire started with `start_char` (unless
    None); with `maxlen`, only those shorter than it kept; words outside ``[skip_top, num_words)``
    replaced by `oov_char` (or dropped when it is None); then the first
    ``int(n * (1 - test_split))`` form the training set."""
    num_words, skip_top, maxlen, index_from = checked_arguments("reuters.load_data", num_words, skip_top, maxlen,
                                                                index_from, {})
    test_split = checks.real("test_split", test_split, 0.0, 1.0)
    path = get_file(fname=path, origin=f"{ORIGIN_FOLDER}reuters.npz", file_hash=FILE_HASH)
    f = load_npz(path)
    order = np.arange(len(f["x"]))
    np.random.RandomState(seed).shuffle(order)
    xs, labels = marked(f["x"][order], start_char, index_from), f["y"][order]
    if maxlen:
        xs, labels = shorter_than(maxlen, xs, labels)
    xs = within_vocabulary(xs, num_words, skip_top, oov_char, maxlen)
    n = int(len(xs) * (1 - test_split))
    return ((np.array(xs[:n], dtype="object"), np.array(labels[:n])),
            (np.array(xs[n:], dtype="object"), np.array(labels[n:])))


def get_word_index(path="reuters_word_index.json"):
    """{word: its index} (before load_data's `index_from` shift), from Keras's cache."""
    path = get_file(fname=path, origin=f"{ORIGIN_FOLDER}reuters_word_index.json", file_hash=WORD_INDEX_HASH)
    with open(path) as f:
        return json.load(f)


def get_label_names():
    """The 46 topic names, indexed by the labels load_data returns (Keras 3's tuple)."""
    return LABEL_NAMES


mirror(globals(), "keras.datasets.reuters")
