"""keras.datasets on nnfast: mnist, fashion_mnist, boston_housing, cifar10 and imdb, each with Keras
3's ``load_data()``, reading and filling Keras's own cache (the shared logic is in ``cache``, the
restricted unpickling of pickled parts in ``safe_pickle``)."""
from ..namespace import mirror
from . import boston_housing, cache, cifar10, fashion_mnist, imdb, mnist  # noqa: F401 (mirror() exports them)

mirror(globals(), "keras.datasets")
