"""The scikit-learn benchmark section on tiny configurations: its rows, ratios, target verdicts and
tables are produced as documented (nothing here asserts a timing)."""
import sys

import pytest

from nnfast.apps.bench import report, sklearn_models

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

TINY = dict(digits_epochs=1, samples=300, test_samples=100, grid_epochs=1, repeats=1)


def test_sklearn_is_a_registered_section():
    assert report.SECTIONS["sklearn"] is sklearn_models
    assert sklearn_models.QUICK_SIZES["samples"] < sklearn_models.SIZES["samples"] == 60000


def test_fit_rows_ratios_and_table():
    pytest.importorskip("sklearn")
    rows = sklearn_models.run(thread_counts=(1,), sizes=TINY, parts=("digits", "large"))
    want = [(p, s) for p in ("digits", "large") for s in ("nnfast", "sklearn")]
    assert [(r["part"], r["system"]) for r in rows] == want
    for r in rows:
        assert not r["skipped"] and r["seconds"] > 0 and r["repeats"] == 1 and 0.0 <= r["accuracy"] <= 1.0
    assert rows[2]["scale"] == 200.0  # 300 rows scaled to 60000
    ratios = sklearn_models.ratios(rows)
    assert [(peer, threads) for _, threads, peer, _ in ratios] == [("sklearn", 1)] * 2
    text = sklearn_models.markdown(rows)
    assert "| run | threads | nnfast | sklearn | x sklearn (target) | nnfast accuracy | sklearn accuracy |" in text
    assert "(>= 8x, accuracy gap" in text and "(>= 2x, accuracy gap" in text
    assert "quick mode: the large set measured on fewer rows and scaled to 60000" in text


def test_the_same_estimator_on_both_systems():
    pytest.importorskip("sklearn")
    ours, _ = sklearn_models.estimator("nnfast", "digits", sklearn_models.SIZES)
    theirs, _ = sklearn_models.estimator("sklearn", "digits", sklearn_models.SIZES)
    assert type(ours).__module__.startswith("nnfast.sklearn")
    assert type(theirs).__module__.startswith("sklearn.neural_network")
    assert ours.get_params() == theirs.get_params()
    assert ours.max_iter == 50 and ours.batch_size == 32 and ours.hidden_layer_sizes == (64,)


def test_grid_rows_on_the_dask_cluster():
    pytest.importorskip("distributed")
    rows = sklearn_models.run(thread_counts=(1,), sizes=TINY, parts=("grid",))
    assert [r["system"] for r in rows] == ["serial", "dask"]
    assert all(not r["skipped"] and r["seconds"] > 0 for r in rows) and rows[1]["same"]
    assert "| search | serial, 1 thread | Dask, 2 workers x 1 thread | speed-up | same scores |" in \
        sklearn_models.markdown(rows)


def test_missing_scikit_learn_is_skipped(monkeypatch):
    pytest.importorskip("sklearn")
    import sklearn.datasets  # noqa: F401 - loaded before its estimators are hidden
    monkeypatch.setitem(sys.modules, "sklearn.neural_network", None)
    rows = sklearn_models.run(thread_counts=(1,), sizes=TINY, parts=("digits",))
    assert [r["skipped"] for r in rows] == [False, True] and rows[1]["reason"] == "scikit-learn is not installed"
    assert "Skipped: sklearn: scikit-learn is not installed." in sklearn_models.markdown(rows)
    assert sklearn_models.ratios(rows) == []
    with pytest.raises(ValueError, match="unknown part"):
        sklearn_models.run(thread_counts=(1,), parts=("nope",))
