"""A grid search of nnfast.sklearn estimators on a Dask cluster through joblib: a 2-worker
distributed.LocalCluster (separate processes) gives the same results as a serial run, and each worker
keeps nnfast at one thread (Dask's nanny starts workers with OMP_NUM_THREADS=1, which nnfast's
default follows)."""
import numpy as np
import pytest

pytest.importorskip("sklearn")
dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")
joblib = pytest.importorskip("joblib")
from sklearn.datasets import load_iris  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402

import nnfast  # noqa: E402
from nnfast.sklearn import MLPClassifier  # noqa: E402

from conftest import assert_same_bits  # noqa: E402

# 8 candidates x 3 folds, small and quick
GRID = {"alpha": [1e-4, 1e-2], "hidden_layer_sizes": [(8,), (16,)], "solver": ["adam", "sgd"]}
COMPARED = ["params", "mean_test_score", "std_test_score", "rank_test_score"] + [f"split{i}_test_score"
                                                                                 for i in range(3)]


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
# distributed's nanny warns when creating its scratch directory is slow (a busy disk), in this process
@pytest.mark.filterwarnings("ignore:Creating scratch directories is taking a surprisingly long time:UserWarning")
def test_grid_search_on_a_dask_cluster_equals_the_serial_run():
    X, y = load_iris(return_X_y=True)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    estimator = MLPClassifier(max_iter=40, random_state=0)
    serial = GridSearchCV(estimator, GRID, cv=3).fit(X, y)
    # generous timeouts: worker processes start slowly on a busy machine
    with dask.config.set({"distributed.comm.timeouts.connect": "120s"}), \
            distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) \
            as cluster, distributed.Client(cluster, timeout="120s") as client:
        threads = client.run(nnfast.get_num_threads)
        assert len(threads) == 2 and set(threads.values()) == {1}
        with distributed.get_task_stream(client) as tasks, joblib.parallel_backend("dask"):
            on_dask = GridSearchCV(estimator, GRID, cv=3, n_jobs=-1).fit(X, y)
        assert tasks.data, "nothing ran on the cluster"
    for key in COMPARED:
        assert list(on_dask.cv_results_[key]) == list(serial.cv_results_[key]), key
    assert on_dask.best_params_ == serial.best_params_
    for got, want in zip(on_dask.best_estimator_.coefs_, serial.best_estimator_.coefs_):
        assert_same_bits(got, want)
    assert np.array_equal(on_dask.predict(X), serial.predict(X))
