"""scikit-learn's parameter validation of the MLP estimators, with scikit-learn's messages: the
constraints of sklearn.neural_network's MLPClassifier and MLPRegressor 1.9, checked when fit (or
the first partial_fit) starts, unless ``sklearn.set_config(skip_parameter_validation=True)``.

scikit-learn keeps its validation machinery private (sklearn.utils._param_validation), so it is
written again here, small: the constraint kinds the MLPs use, each with scikit-learn's wording."""
import functools
from numbers import Integral, Real

import numpy as np
import sklearn


class InvalidParameterError(ValueError, TypeError):
    """A constructor parameter has an invalid type or value (scikit-learn's InvalidParameterError
    is a ValueError and a TypeError in the same way)."""


class Interval:
    def __init__(self, kind, left, right, closed):
        self.kind, self.left, self.right, self.closed = kind, left, right, closed

    def accepts(self, value):
        if not isinstance(value, self.kind):
            return False
        if not isinstance(value, Integral) and np.isnan(value):
            return False
        left = -np.inf if self.left is None else self.left
        right = np.inf if self.right is None else self.right
        above = value >= left if self.closed in ("left", "both") else value > left
        below = value <= right if self.closed in ("right", "both") else value < right
        return bool(above and below)

    def __str__(self):
        left = "-inf" if self.left is None else self.left
        right = "inf" if self.right is None else self.right
        if self.kind is not Integral:
            left, right = (float(b) if isinstance(b, Real) else b for b in (left, right))
        return (f"{'an int' if self.kind is Integral else 'a float'} in the range "
                f"{'[' if self.closed in ('left', 'both') else '('}{left}, "
                f"{right}{']' if self.closed in ('right', 'both') else ')'}")


class Options:
    def __init__(self, kind, options):
        self.kind, self.options = kind, options

    def accepts(self, value):
        return isinstance(value, self.kind) and value in self.options

    def __str__(self):
        name = {str: "str", Real: "float"}[self.kind]
        # scikit-learn lists a set's items in the set's (hash-dependent) order; sorted here
        return f"a {name} among {{{', '.join(sorted(repr(o) for o in self.options))}}}"


class InstanceOf:
    def __init__(self, kind, name):
        self.kind, self.name = kind, name

    def accepts(self, value):
        return isinstance(value, self.kind)

    def __str__(self):
        return f"an instance of {self.name!r}"


class Constant:
    def __init__(self, value, name):
        self.value, self.name = value, name

    def accepts(self, value):
        return value is self.value

    def __str__(self):
        return self.name


class ArrayLike:
    def accepts(self, value):
        if hasattr(value, "tocsr") or np.isscalar(value):  # sparse matrices and scalars are not
            return False
        return hasattr(value, "__len__") or hasattr(value, "shape") or hasattr(value, "__array__")

    def __str__(self):
        return "an array-like"


BOOLEAN = [InstanceOf(bool, "bool"), InstanceOf(np.bool_, "numpy.bool")]

# scikit-learn's BaseMultilayerPerceptron._parameter_constraints
CONSTRAINTS = {
    "hidden_layer_sizes": [ArrayLike(), Interval(Integral, 1, None, "left")],
    "activation": [Options(str, {"identity", "logistic", "tanh", "relu"})],
    "solver": [Options(str, {"lbfgs", "sgd", "adam"})],
    "alpha": [Interval(Real, 0, None, "left")],
    "batch_size": [Options(str, {"auto"}), Interval(Integral, 1, None, "left")],
    "learning_rate": [Options(str, {"constant", "invscaling", "adaptive"})],
    "learning_rate_init": [Interval(Real, 0, None, "neither")],
    "power_t": [Interval(Real, 0, None, "left")],
    "max_iter": [Interval(Integral, 1, None, "left")],
    "shuffle": BOOLEAN,
    "random_state": [Interval(Integral, 0, 2**32 - 1, "both"),
                     InstanceOf(np.random.RandomState, "numpy.random.mtrand.RandomState"), Constant(None, "None")],
    "tol": [Interval(Real, 0, None, "left")],
    "verbose": [Interval(Integral, 0, None, "left")] + BOOLEAN,
    "warm_start": BOOLEAN,
    "momentum": [Interval(Real, 0, 1, "both")],
    "nesterovs_momentum": BOOLEAN,
    "early_stopping": BOOLEAN,
    "validation_fraction": [Interval(Real, 0, 1, "left")],
    "beta_1": [Interval(Real, 0, 1, "left")],
    "beta_2": [Interval(Real, 0, 1, "left")],
    "epsilon": [Interval(Real, 0, None, "neither")],
    "n_iter_no_change": [Interval(Integral, 1, None, "left"), Options(Real, {np.inf})],
    "max_fun": [Interval(Integral, 1, None, "left")],
    "loss": [Options(str, {"squared_error", "poisson"})],  # MLPRegressor's (MLPClassifier's is fixed)
}


def joined(constraints):
    texts = [str(c) for c in constraints]
    return texts[0] if len(texts) == 1 else f"{', '.join(texts[:-1])} or {texts[-1]}"


def validate(estimator):
    """Raises InvalidParameterError, in scikit-learn's words, for the first parameter of
    `estimator` that meets none of its constraints."""
    for name, value in estimator.get_params(deep=False).items():
        options = CONSTRAINTS.get(name)
        if options is not None and not any(c.accepts(value) for c in options):
            raise InvalidParameterError(f"The {name!r} parameter of {type(estimator).__name__} must be "
                                        f"{joined(options)}. Got {value!r} instead.")


def fit_context(method):
    """What scikit-learn's fit decorator does: validate the parameters (not again on a partial_fit
    of a fitted estimator, nor when the configuration skips validation), then run the method with
    nested validation skipped."""
    @functools.wraps(method)
    def wrapper(estimator, *args, **kwargs):
        skip = sklearn.get_config()["skip_parameter_validation"]
        if not skip and not (method.__name__ == "partial_fit" and hasattr(estimator, "coefs_")):
            validate(estimator)
        with sklearn.config_context(skip_parameter_validation=True):
            return method(estimator, *args, **kwargs)
    return wrapper
