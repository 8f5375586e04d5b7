"""nnfast.sklearn against scikit-learn's own MLPClassifier / MLPRegressor: the same initial weights,
shuffles and steps (coefs_ after 5 epochs within 1e-6 relative in float64, the same predictions),
the same fitted attributes, warnings and errors; float32 training; pickling; the ecosystem
(Pipeline, GridSearchCV, cross_val_score, clone)."""
import pickle
import re
import warnings

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")
from scipy import sparse  # noqa: E402
from sklearn import datasets  # noqa: E402
from sklearn import neural_network as sk  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import GridSearchCV, cross_val_score  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from nnfast import sklearn as nf  # noqa: E402

from conftest import assert_same_bits, run_python  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

RTOL = 1e-6  # the bound on coefs_ after 5 epochs in float64


def problem(name):
    if name == "iris":
        X, y = datasets.load_iris(return_X_y=True)
    elif name == "breast_cancer":
        X, y = datasets.load_breast_cancer(return_X_y=True)
        X = StandardScaler().fit_transform(X)
    elif name == "digits":
        X, y = datasets.load_digits(return_X_y=True)
        X = X / 16.0
    else:
        X, y = datasets.make_regression(n_samples=300, n_features=12, n_targets=1, noise=5.0, random_state=0)
        y = y / 100.0
    return np.asarray(X, np.float64), y


def pair(name, **params):
    """(scikit-learn's estimator, nnfast's) for a problem, with the same parameters."""
    kind = "Regressor" if name == "regression" else "Classifier"
    params = dict(dict(hidden_layer_sizes=(17, 9), max_iter=5, random_state=0), **params)
    return getattr(sk, f"MLP{kind}")(**params), getattr(nf, f"MLP{kind}")(**params)


def assert_parity(a, b, rtol=RTOL):
    """The fitted parameters agree within rtol of each array's largest magnitude (elementwise, so
    that near-zero entries are held to the same absolute bound), and so do the bookkeeping ones."""
    assert len(a.coefs_) == len(b.coefs_)
    for want, got in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * np.abs(want).max())
    assert a.n_iter_ == b.n_iter_ and a.out_activation_ == b.out_activation_ and a.n_layers_ == b.n_layers_
    assert a.n_outputs_ == b.n_outputs_ and a.n_features_in_ == b.n_features_in_
    if hasattr(a, "t_"):
        assert a.t_ == b.t_
    if a.solver != "lbfgs":
        np.testing.assert_allclose(b.loss_curve_, a.loss_curve_, rtol=rtol)
        assert (a.best_loss_ is None) == (b.best_loss_ is None)
        assert (a.validation_scores_ is None) == (b.validation_scores_ is None)


@pytest.mark.parametrize("solver", ["adam", "sgd"])
@pytest.mark.parametrize("name", ["iris", "breast_cancer", "digits", "regression"])
def test_five_epochs_follow_scikit_learn(name, solver):
    X, y = problem(name)
    a, b = pair(name, solver=solver, learning_rate_init=0.01)
    a.fit(X, y)
    b.fit(X, y)
    assert_parity(a, b)
    if name == "regression":
        np.testing.assert_allclose(b.predict(X), a.predict(X), rtol=RTOL, atol=RTOL * np.abs(a.predict(X)).max())
        assert b.score(X, y) == pytest.approx(a.score(X, y), rel=RTOL)
    else:
        assert np.array_equal(b.predict(X), a.predict(X))
        np.testing.assert_allclose(b.predict_proba(X), a.predict_proba(X), rtol=RTOL, atol=1e-9)
        np.testing.assert_allclose(b.predict_log_proba(X), a.predict_log_proba(X), rtol=RTOL, atol=1e-9)
        np.testing.assert_array_equal(b.classes_, a.classes_)


OPTIONS = [
    dict(solver="sgd", learning_rate="invscaling", power_t=0.3, learning_rate_init=0.1),
    dict(solver="sgd", learning_rate="adaptive", momentum=0.5, nesterovs_momentum=False, tol=10.0,
         n_iter_no_change=1, max_iter=8),
    dict(solver="sgd", momentum=0.0, batch_size=23, shuffle=False),
    dict(solver="adam", activation="tanh", alpha=0.01, beta_1=0.8, beta_2=0.99, epsilon=1e-6, batch_size=64),
    dict(solver="adam", activation="logistic", early_stopping=True, validation_fraction=0.2, max_iter=8),
    dict(solver="adam", activation="identity", hidden_layer_sizes=5, tol=10.0, n_iter_no_change=2, max_iter=20),
]


@pytest.mark.parametrize("params", OPTIONS, ids=lambda p: "-".join(f"{k}={v}" for k, v in p.items()))
@pytest.mark.parametrize("name", ["breast_cancer", "digits", "regression"])
def test_options_follow_scikit_learn(name, params):
    X, y = problem(name)
    a, b = pair(name, **params)
    a.fit(X, y)
    b.fit(X, y)
    assert_parity(a, b)
    if a.validation_scores_ is not None:
        np.testing.assert_allclose(b.validation_scores_, a.validation_scores_, rtol=RTOL)
        assert b.best_validation_score_ == pytest.approx(a.best_validation_score_, rel=RTOL)


def test_sample_weight_sparse_input_and_partial_fit_follow_scikit_learn():
    X, y = problem("digits")
    w = np.random.default_rng(0).uniform(0.1, 2.0, len(y))
    a, b = pair("digits", solver="sgd")
    assert_parity(a.fit(X, y, sample_weight=w), b.fit(X, y, sample_weight=w))
    a, b = pair("digits")
    assert_parity(a.fit(sparse.csr_matrix(X), y), b.fit(sparse.csr_matrix(X), y))
    np.testing.assert_allclose(b.predict_proba(sparse.csc_matrix(X)), a.predict_proba(X), rtol=RTOL, atol=1e-9)
    a, b = pair("digits")
    for part in np.array_split(np.arange(len(y)), 3):
        a.partial_fit(X[part], y[part], classes=np.unique(y))
        b.partial_fit(X[part], y[part], classes=np.unique(y))
    assert_parity(a, b)
    a, b = pair("regression", warm_start=True)
    X, y = problem("regression")
    for _ in range(2):
        a.fit(X, y)
        b.fit(X, y)
    assert_parity(a, b)


@pytest.mark.parametrize("name", ["iris", "regression"])
def test_lbfgs_follows_scikit_learn(name):
    X, y = problem(name)
    a, b = pair(name, solver="lbfgs", max_iter=5)
    with pytest.warns(ConvergenceWarning, match="lbfgs failed to converge after 5 iteration"):
        b.fit(X, y)
    a.fit(X, y)
    assert_parity(a, b)
    assert b.loss_ == pytest.approx(a.loss_, rel=RTOL)


def test_multilabel_multioutput_and_poisson_follow_scikit_learn():
    X, Y = datasets.make_multilabel_classification(n_samples=120, n_features=8, n_classes=4, random_state=0)
    a, b = pair("multilabel")
    a.fit(X, Y)
    b.fit(X, Y)
    assert_parity(a, b)
    assert np.array_equal(b.predict(X), a.predict(X))
    X, Y = datasets.make_regression(n_samples=100, n_features=6, n_targets=3, random_state=1)
    a, b = pair("regression")
    assert_parity(a.fit(X, Y / 100), b.fit(X, Y / 100))
    a, b = pair("regression", loss="poisson")
    counts = np.random.default_rng(2).poisson(np.exp(X[:, 0] / 3))
    assert_parity(a.fit(X, counts), b.fit(X, counts))


def test_float32_trains_in_float32():
    X, y = problem("digits")
    a, b = pair("digits")
    a.fit(X.astype(np.float32), y)
    b.fit(X.astype(np.float32), y)
    for got, want in zip(b.coefs_ + b.intercepts_, a.coefs_ + a.intercepts_):
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-3 * np.abs(want).max())
    assert b.predict_proba(X.astype(np.float32)).dtype == np.float32
    assert b.predict_proba(X).dtype == np.float64  # X @ W promotes, as in scikit-learn
    assert np.mean(b.predict(X) == a.predict(X)) > 0.99


@pytest.mark.parametrize("name", ["digits", "regression"])
def test_pickle_round_trip_predicts_the_same_bits_and_continues(name):
    X, y = problem(name)
    est = pair(name)[1].fit(X, y)
    clone_ = pickle.loads(pickle.dumps(est))
    assert_same_bits(clone_.predict(X) if name == "regression" else clone_.predict_proba(X),
                     est.predict(X) if name == "regression" else est.predict_proba(X))
    # the optimizer state travels too: partial_fit continues identically
    est.partial_fit(X, y)
    clone_.partial_fit(X, y)
    for got, want in zip(clone_.coefs_, est.coefs_):
        assert_same_bits(got, want)


def test_pipeline_grid_search_cross_val_score_and_clone():
    X, y = problem("iris")
    pipe = make_pipeline(StandardScaler(), nf.MLPClassifier(hidden_layer_sizes=(8,), max_iter=30, random_state=0))
    search = GridSearchCV(pipe, {"mlpclassifier__alpha": [1e-4, 1e-2], "mlpclassifier__solver": ["adam", "sgd"]},
                          cv=3).fit(X, y)
    assert search.best_estimator_.steps[-1][1].coefs_[0].shape == (4, 8)
    scores = cross_val_score(nf.MLPRegressor(max_iter=20, random_state=0), *problem("regression"), cv=3)
    assert scores.shape == (3,) and np.all(np.isfinite(scores))
    est = nf.MLPClassifier(hidden_layer_sizes=(3, 2), alpha=0.5)
    copy = clone(est)
    assert copy.get_params() == est.get_params() and copy is not est
    sk_params = sk.MLPClassifier().get_params()
    assert nf.MLPClassifier().get_params() == sk_params
    assert nf.MLPRegressor().get_params() == sk.MLPRegressor().get_params()


BAD = [dict(alpha=-1.0), dict(activation="softmax"), dict(solver="newton"), dict(batch_size=0),
       dict(batch_size="big"), dict(learning_rate_init=0), dict(max_iter=1.5), dict(shuffle=1),
       dict(random_state=-3), dict(random_state="seed"), dict(momentum=2), dict(validation_fraction=1.0),
       dict(beta_2=1.0), dict(epsilon=0.0), dict(n_iter_no_change=0), dict(n_iter_no_change=2.5),
       dict(verbose=-1), dict(hidden_layer_sizes=0), dict(hidden_layer_sizes="8"), dict(max_fun=0),
       dict(tol=float("nan"))]


def sorted_sets(message):
    """The message with each {...} listing sorted (scikit-learn lists a set in its hash order)."""
    return re.sub(r"\{([^}]*)\}", lambda m: "{" + ", ".join(sorted(m.group(1).split(", "))) + "}", message)


@pytest.mark.parametrize("params", BAD, ids=lambda p: f"{p}")
@pytest.mark.parametrize("kind", ["Classifier", "Regressor"])
def test_bad_parameters_raise_scikit_learns_errors(kind, params):
    X, y = problem("iris")
    with pytest.raises(ValueError) as want:
        getattr(sk, f"MLP{kind}")(**params).fit(X, y)
    est = getattr(nf, f"MLP{kind}")(**params)
    with pytest.raises(ValueError) as got:
        est.fit(X, y)
    assert sorted_sets(str(got.value)) == sorted_sets(str(want.value))
    assert isinstance(got.value, TypeError) == isinstance(want.value, TypeError)
    assert not hasattr(est, "coefs_")


def test_regressor_loss_is_validated_and_errors_match():
    X, y = problem("regression")
    with pytest.raises(ValueError, match="The 'loss' parameter of MLPRegressor must be a str among"):
        nf.MLPRegressor(loss="huber").fit(X, y)
    for est in (sk.MLPClassifier(solver="lbfgs"), nf.MLPClassifier(solver="lbfgs")):
        with pytest.raises(AttributeError, match="has no attribute 'partial_fit'") as err:
            est.partial_fit(X, y > 0)
        assert "partial_fit is only available for stochastic optimizers" in str(err.value.__cause__)
    for cls in (sk.MLPClassifier, nf.MLPClassifier):
        with pytest.raises(ValueError, match="classes must be passed on the first call to partial_fit"):
            cls().partial_fit(X, y > 0)
        with pytest.raises(ValueError, match="partial_fit does not support early_stopping=True"):
            cls(early_stopping=True).partial_fit(X, y > 0, classes=[False, True])
    with pytest.raises(ValueError, match="hidden_layer_sizes must be > 0"):
        nf.MLPRegressor(hidden_layer_sizes=(3, 0)).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # NumPy's overflow in the loss, as in scikit-learn
        with pytest.raises(ValueError, match="Solver produced non-finite parameter weights"):
            nf.MLPRegressor(learning_rate_init=1e6, solver="sgd", max_iter=3, random_state=0).fit(X, y * 1e30)


def test_verbose_messages_are_scikit_learns(capsys):
    X, y = problem("breast_cancer")
    for params in (dict(tol=10.0, n_iter_no_change=1), dict(early_stopping=True, max_iter=3),
                   dict(solver="sgd", learning_rate="adaptive", tol=10.0, n_iter_no_change=1, max_iter=4)):
        a, b = pair("breast_cancer", verbose=True, **params)
        a.fit(X, y)
        want = capsys.readouterr().out
        b.fit(X, y)
        assert capsys.readouterr().out == want and want


def test_import_without_scikit_learn_names_the_extra():
    code = ("import sys\nsys.modules['sklearn'] = None\ntry:\n    import nnfast.sklearn\n"
            "except ImportError as err:\n    print(err)\n")
    out = run_python(["-c", code])
    assert "nnfast.sklearn needs scikit-learn and SciPy: pip install 'nnfast[sklearn]'" in out.stdout, out.stderr
