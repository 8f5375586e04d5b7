"""scikit-learn's MLPClassifier and MLPRegressor on nnfast's kernels: drop-in replacements with
scikit-learn 1.9's parameters, defaults, methods, fitted attributes and errors (docs/sklearn.md).

Needs scikit-learn (>= 1.6) and SciPy: ``pip install 'nnfast[sklearn]'``."""
try:
    import scipy.optimize  # noqa: F401
    import sklearn  # noqa: F401
except ImportError as err:
    raise ImportError("nnfast.sklearn needs scikit-learn and SciPy: pip install 'nnfast[sklearn]' "
                      f"({err})") from err

from .classifier import MLPClassifier
from .params import InvalidParameterError
from .regressor import MLPRegressor

__all__ = ["MLPClassifier", "MLPRegressor", "InvalidParameterError"]
