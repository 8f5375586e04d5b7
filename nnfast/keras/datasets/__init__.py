"""keras.datasets on nnfast: all eight of Keras 3's (mnist, fashion_mnist, boston_housing,
california_housing, cifar10, cifar100, imdb and reuters), each with its ``load_data()``, reading and
filling Keras's own cache (the shared logic is in ``cache``, the restricted unpickling of pickled
parts in ``safe_pickle``, what imdb and reuters do alike in ``word_sequences``)."""
from ..namespace import mirror
from . import (  # noqa: F401 (mirror() exports them)
    boston_housing, cache, california_housing, cifar10, cifar100, fashion_mnist, imdb, mnist, reuters)

mirror(globals(), "keras.datasets")
