"""The split Keras 3's tabular loaders (boston_housing, california_housing) make: shuffled by a
seeded ``numpy.random.RandomState``, the first ``int(n * (1 - test_split))`` samples for training."""
import numpy as np


def shuffled_split(x, y, test_split, seed):
    """``(x_train, y_train), (x_test, y_test)`` of the samples x (n, ...) and targets y (n, ...)."""
    indices = np.arange(len(x))
    np.random.RandomState(seed).shuffle(indices)
    x, y = x[indices], y[indices]
    n_train = int(len(x) * (1 - test_split))
    return (x[:n_train], y[:n_train]), (x[n_train:], y[n_train:])
