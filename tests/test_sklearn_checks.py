"""scikit-learn's own estimator checks (sklearn.utils.estimator_checks) on nnfast.sklearn's
estimators: the API contract every scikit-learn estimator meets (cloning, parameters, fitted
attributes, input validation, dtypes, sparse input, sample weights, pickling, ...)."""
import pytest

pytest.importorskip("sklearn")
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from nnfast.sklearn import MLPClassifier, MLPRegressor  # noqa: E402

# As scikit-learn's own test suite checks its MLPs: max_iter=100 keeps the checks quick; their
# small problems do not converge in it, so ConvergenceWarnings are expected (and ignored there too).
ESTIMATORS = [MLPClassifier(max_iter=100), MLPRegressor(max_iter=100)]


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@parametrize_with_checks(ESTIMATORS)
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)
