"""nnfast.metrics against Keras 3 (torch): every metric's result after several update_state calls
(with and without sample_weight), after reset_state and more updates, equals Keras's on identical
predictions. Counts and accuracies agree exactly up to float32 rounding (Keras accumulates in
float32 variables, nnfast in double): rtol 1e-6; AUC within 1e-6 absolute. Plus the names compile
accepts and the model-facing update/add/reset/result."""
import os
import re

import numpy as np
import pytest

import nnfast as nf
from nnfast import metrics as M

from conftest import to_numpy

os.environ.setdefault("KERAS_BACKEND", "torch")

B, C = 17, 6


def batch(kind, rng):
    """(y_true, y_pred) of one batch, float32."""
    if kind == "binary":  # one output column, 0/1 labels, probabilities
        return (rng.uniform(size=(B, 1)) < 0.4).astype(np.float32), rng.uniform(size=(B, 1)).astype(np.float32)
    if kind == "multilabel":
        return (rng.uniform(size=(B, C)) < 0.4).astype(np.float32), rng.uniform(size=(B, C)).astype(np.float32)
    if kind == "onehot":
        p = rng.uniform(size=(B, C))
        return np.eye(C, dtype=np.float32)[rng.integers(0, C, B)], (p / p.sum(1, keepdims=True)).astype(np.float32)
    if kind == "sparse":
        p = rng.uniform(size=(B, C))
        return rng.integers(0, C, B), (p / p.sum(1, keepdims=True)).astype(np.float32)
    if kind == "exact":  # Accuracy compares values exactly: small integers
        return rng.integers(0, 3, (B, C)).astype(np.float32), rng.integers(0, 3, (B, C)).astype(np.float32)
    if kind == "regression":
        t = rng.normal(size=(B, C)).astype(np.float32)
        return t, (t + rng.normal(0, 0.5, (B, C))).astype(np.float32)
    raise AssertionError(kind)


CASES = [
    ("Accuracy", {}, "exact"), ("BinaryAccuracy", {}, "binary"), ("BinaryAccuracy", {"threshold": 0.7}, "multilabel"),
    ("CategoricalAccuracy", {}, "onehot"), ("SparseCategoricalAccuracy", {}, "sparse"),
    ("TopKCategoricalAccuracy", {}, "onehot"), ("TopKCategoricalAccuracy", {"k": 2}, "onehot"),
    ("SparseTopKCategoricalAccuracy", {}, "sparse"), ("SparseTopKCategoricalAccuracy", {"k": 3}, "sparse"),
    ("Precision", {}, "binary"), ("Precision", {"thresholds": [0.2, 0.55, 0.9]}, "multilabel"),
    ("Precision", {"top_k": 2}, "multilabel"), ("Precision", {"class_id": 1}, "multilabel"),
    ("Recall", {}, "binary"), ("Recall", {"thresholds": 0.3}, "multilabel"), ("Recall", {"top_k": 3}, "multilabel"),
    ("Recall", {"class_id": 4, "thresholds": [0.1, 0.6]}, "multilabel"),
    ("AUC", {}, "binary"), ("AUC", {}, "multilabel"), ("AUC", {"num_thresholds": 17}, "binary"),
    ("AUC", {"curve": "PR"}, "binary"), ("AUC", {"curve": "PR", "summation_method": "minoring"}, "multilabel"),
    ("AUC", {"summation_method": "majoring"}, "binary"), ("AUC", {"curve": "PRGAIN"}, "binary"),
    ("AUC", {"thresholds": [0.1, 0.35, 0.5, 0.8]}, "binary"),
    ("MeanSquaredError", {}, "regression"), ("RootMeanSquaredError", {}, "regression"),
    ("MeanAbsoluteError", {}, "regression"), ("MeanAbsolutePercentageError", {}, "regression"),
    ("R2Score", {}, "regression"), ("R2Score", {"class_aggregation": "variance_weighted_average"}, "regression"),
    ("R2Score", {"class_aggregation": None}, "regression"), ("R2Score", {"num_regressors": 3}, "regression"),
    ("F1Score", {}, "onehot"), ("F1Score", {"average": "macro"}, "onehot"),
    ("F1Score", {"average": "micro", "threshold": 0.5}, "multilabel"), ("F1Score", {"average": "weighted"}, "onehot"),
    ("FBetaScore", {"beta": 2.0, "average": "weighted", "threshold": 0.4}, "multilabel"),
    ("FBetaScore", {"beta": 0.5}, "multilabel"),
]


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("name, kwargs, kind", CASES, ids=[f"{n}-{kw}-{k}" for n, kw, k in CASES])
def test_every_metric_equals_keras(keras, name, kwargs, kind, weighted):
    ours, theirs = getattr(M, name)(**kwargs), getattr(keras.metrics, name)(**kwargs)
    assert re.sub(r"_\d+$", "", ours.name) == re.sub(r"_\d+$", "", theirs.name)  # both number repeated auto names
    rng = np.random.default_rng(7)
    for updates in (3, 2):  # several updates, a reset, more updates
        for _ in range(updates):
            y_true, y_pred = batch(kind, rng)
            weights = rng.uniform(0, 2, B).astype(np.float32) if weighted else None
            ours.update_state(y_true, y_pred, sample_weight=weights)
            theirs.update_state(y_true, y_pred, sample_weight=weights)
        expected, got = to_numpy(theirs.result()), ours.result()
        if name == "AUC":
            np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6)
        else:
            np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-7)
        if np.ndim(expected) == 0:
            assert isinstance(got, float) and got.numpy().shape == ()  # a float with Keras's numpy()
        ours.reset_state()
        theirs.reset_state()
        assert name == "R2Score" or np.all(np.asarray(ours.result()) == 0)


@pytest.mark.parametrize("name", ["binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy",
                                  "top_k_categorical_accuracy", "sparse_top_k_categorical_accuracy"])
def test_accuracy_functions_return_keras_per_sample_values(keras, name):
    kind = {"binary_accuracy": "multilabel"}.get(name, "sparse" if name.startswith("sparse") else "onehot")
    y_true, y_pred = batch(kind, np.random.default_rng(3))
    expected = to_numpy(getattr(keras.metrics, name)(y_true, y_pred))
    np.testing.assert_array_equal(getattr(M, name)(y_true, y_pred), expected)


def test_keras_names_resolve_for_compile(keras):
    for name in ("mse", "MAE", "mape", "msle", "AUC", "auc", "precision", "Recall", "top_k_categorical_accuracy",
                 "sparse_top_k_categorical_accuracy", "root_mean_squared_error", "r2_score", "RootMeanSquaredError",
                 "binary_accuracy", "categorical_accuracy", "mean_absolute_error", "f1_score", "f_beta_score"):
        metric = M.get(name, 3, False)
        assert metric.name == name
        assert type(metric).__name__ == type(keras.metrics.get(name)).__name__, name
    assert type(M.get("accuracy", 1, False)) is M.BinaryAccuracy
    assert type(M.get("acc", 3, True)) is M.SparseCategoricalAccuracy
    assert type(M.get("accuracy", 3, False)) is M.CategoricalAccuracy
    with pytest.raises(ValueError, match="metric must be a Metric or one of 'accuracy', 'acc'"):
        M.get("nope", 3, False)
    auc = M.AUC(num_thresholds=50, curve="PR")
    again = M.deserialize(M.serialize(auc))
    assert type(again) is M.AUC and again.get_config() == auc.get_config()


def test_model_face_update_add_reset_result():
    rng = np.random.default_rng(0)
    y_true, y_pred = batch("sparse", rng)
    metric = M.SparseCategoricalAccuracy()
    metric.update(y_pred, y_true)
    assert metric.result() == pytest.approx(np.mean(y_pred.argmax(1) == y_true))
    metric.reset()
    metric.add(5, 10)
    metric.add(1, 10)
    assert metric.result() == 0.3
    mse = M.get("mse", C, True)  # class-index targets count as one-hot rows for the model
    mse.update(y_pred, y_true)
    assert mse.result() == pytest.approx(np.mean((y_pred - np.eye(C)[y_true]) ** 2), rel=1e-6)


def test_a_model_compiles_and_reports_keras_metrics():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(64, 4))
    y = (x[:, 0] + 0.3 * rng.normal(size=64) > 0).astype(float)
    model = nf.Sequential([nf.layers.Dense(1, activation="sigmoid", input_dim=4)], dtype="float64", seed=0)
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy", "AUC", "precision", "recall"])
    history = model.fit(x, y, batch_size=16, epochs=3, verbose=0).history
    assert set(history) == {"loss", "accuracy", "AUC", "precision", "recall"}
    result = model.evaluate(x, y, return_dict=True)
    auc = M.AUC()
    auc.update_state(y, model.predict(x))
    assert result["AUC"] == pytest.approx(auc.result())


def test_bad_arguments_name_themselves():
    with pytest.raises(ValueError, match="curve must be one of"):
        M.AUC(curve="XY")
    with pytest.raises(ValueError, match="num_thresholds must be >= 2"):
        M.AUC(num_thresholds=1)
    with pytest.raises(ValueError, match=r"thresholds must be in \[0.0, 1.0\], got 1.5"):
        M.Precision(thresholds=[0.5, 1.5])
    with pytest.raises(ValueError, match="class_aggregation must be one of"):
        M.R2Score(class_aggregation="median")
    with pytest.raises(ValueError, match="k must be >= 1"):
        M.TopKCategoricalAccuracy(k=0)
    with pytest.raises(ValueError, match="average must be one of"):
        M.F1Score(average="samples")
    with pytest.raises(TypeError, match="beta must be a Python float"):
        M.FBetaScore(beta=2)
    with pytest.raises(ValueError, match=r"threshold must be in \(0, 1\]"):
        M.F1Score(threshold=1.5)
    with pytest.raises(ValueError, match="2-D y_true and y_pred"):
        M.F1Score().update_state(np.array([0, 1]), np.array([0.2, 0.8]))


@pytest.mark.parametrize("cls, y_true, y_pred, pattern", [
    (M.SparseTopKCategoricalAccuracy, [0, 3], np.eye(2, 3),
     r"class indices must lie in \[0, 3\) for top-k accuracy, got 0 \.\. 3"),
    (M.SparseTopKCategoricalAccuracy, [-1, 0], np.eye(2, 3), r"lie in \[0, 3\) for top-k accuracy, got -1 \.\. 0"),
    (M.SparseTopKCategoricalAccuracy, [np.nan, 0], np.eye(2, 3), "class indices must lie in"),
    (M.SparseTopKCategoricalAccuracy, [0, 1, 2], np.eye(2, 3),
     "one class per row of y_pred for top-k accuracy: 3 targets for 2 rows"),
    (M.SparseTopKCategoricalAccuracy, 1, np.float32(0.5), "y_pred must have a class axis"),
    (M.TopKCategoricalAccuracy, np.eye(3), np.eye(2, 3), "3 targets for 2 rows"),
    (M.TopKCategoricalAccuracy, np.eye(2, 3), np.zeros((2, 0)), "class axis of at least one class"),
])
def test_top_k_accuracy_names_targets_that_are_not_classes(cls, y_true, y_pred, pattern):
    """Keras's torch backend stops in torch's indexing on these; nnfast names the argument, and the
    metric keeps its state."""
    metric = cls(k=2)
    metric.update_state(np.array([1]), np.array([[0.1, 0.9]])) if cls is M.SparseTopKCategoricalAccuracy else \
        metric.update_state(np.array([[0, 1]]), np.array([[0.1, 0.9]]))
    before = float(metric.result())
    with pytest.raises(ValueError, match=pattern):
        metric.update_state(np.asarray(y_true), np.asarray(y_pred))
    assert float(metric.result()) == before == 1.0


def test_sparse_top_k_from_sorted_ids_names_a_shape_mismatch():
    metric = M.SparseTopKCategoricalAccuracy(k=2, from_sorted_ids=True)
    with pytest.raises(ValueError, match="a row of class ids for each of y_true's 3 targets"):
        metric.update_state(np.array([0, 1, 2]), np.array([[0, 1], [1, 0]]))
    metric.update_state(np.zeros(0, np.int64), np.zeros((0, 2), np.int64))  # an empty batch is fine
    metric.update_state(np.array([1, 2]), np.array([[0, 1], [1, 0]]))
    assert float(metric.result()) == 0.5


def test_f1_score_in_fit_reports_what_keras_reports(keras):
    import nnfast.keras as nk
    rng = np.random.default_rng(4)
    x = rng.normal(size=(96, 5)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[(x[:, 0] > 0).astype(int) + (x[:, 1] > 0.5).astype(int)]
    models = [K.Sequential([K.Input(shape=(5,)), K.layers.Dense(3, activation="softmax")]) for K in (nk, keras)]
    models[1].set_weights(models[0].get_weights())
    histories = []
    for K, model in zip((nk, keras), models):
        model.compile(optimizer=K.optimizers.SGD(0.1), loss="categorical_crossentropy",
                      metrics=[K.metrics.F1Score(average="macro"), K.metrics.F1Score(name="per_class")])
        histories.append(model.fit(x, y, batch_size=32, epochs=3, shuffle=False, verbose=0).history)
    ours, theirs = histories
    np.testing.assert_allclose(ours["loss"], theirs["loss"], rtol=1e-5)
    np.testing.assert_allclose(ours["f1_score"], [float(v) for v in theirs["f1_score"]], rtol=1e-5)
    np.testing.assert_allclose(np.stack(ours["per_class"]), np.stack([to_numpy(v) for v in theirs["per_class"]]),
                               rtol=1e-5, atol=1e-7)


def test_the_keras_namespace_re_exports_the_metrics():
    import nnfast.keras as nk
    assert nk.metrics.AUC is M.AUC and nk.metrics.MeanSquaredError is M.MeanSquaredError
    assert nk.metrics.mean_squared_error is nf.losses.mean_squared_error  # Keras exports the function here too
    assert type(nk.metrics.get("accuracy")) is M.Accuracy
    with pytest.raises(NotImplementedError, match="keras.metrics.Hinge is not supported"):
        getattr(nk.metrics, "Hinge")  # noqa: B009 (a loss class of that name is not a metric)


@pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")
def test_repeated_metric_names_are_numbered_as_keras_numbers_them(keras):
    """Two metrics of one name each keep their value ("accuracy", "accuracy_1"), and a metric
    object made without a name takes Keras's numbered default ("recall_1" in a second model)."""
    import nnfast.keras as nk
    rng = np.random.default_rng(5)
    x = rng.standard_normal((40, 3)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.float32)
    results = {}
    for K in (nk, keras):
        K.backend.clear_session()
        runs = []
        for _ in range(2):
            np.random.seed(1)
            model = K.Sequential([K.Input((3,)), K.layers.Dense(1, activation="sigmoid")])
            if K is keras:
                model.set_weights(results[nk][len(runs)]["initial"])
            initial = model.get_weights()
            model.compile("sgd", "binary_crossentropy",
                          metrics=["accuracy", "accuracy", K.metrics.Precision(thresholds=0.3), K.metrics.Precision(),
                                   K.metrics.Recall(), "auc"])
            history = model.fit(x, y, epochs=1, batch_size=8, shuffle=False, verbose=0, validation_data=(x, y))
            runs.append({"initial": initial, "history": history.history,
                         "evaluate": model.evaluate(x, y, verbose=0),
                         "names": sorted(model.evaluate(x, y, verbose=0, return_dict=True))})
        results[K] = runs
    for mine, theirs in zip(results[nk], results[keras]):
        assert sorted(mine["history"]) == sorted(theirs["history"])
        assert mine["names"] == theirs["names"]
        # Keras's list: loss, then each metric's name looked up (the repeated "accuracy" twice), then
        # the numbered "accuracy_1": 8 values for 6 metrics
        assert len(theirs["evaluate"]) == 8
        np.testing.assert_allclose(mine["evaluate"], theirs["evaluate"], rtol=1e-5, atol=1e-7)
        for key, values in theirs["history"].items():
            np.testing.assert_allclose(mine["history"][key], values, rtol=1e-5, atol=1e-7, err_msg=key)
    assert "recall_1" in results[nk][1]["history"] and "precision_1" in results[nk][0]["history"]


@pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")
def test_results_and_loss_values_have_numpy_as_keras_tensors_do(keras):
    """metric.result().numpy() and loss(y, p).numpy(), as Keras programs read them; the history
    keeps plain floats."""
    import nnfast.keras as nk
    y, p = np.array([0.0, 1.0, 1.0, 0.0]), np.array([0.2, 0.7, 0.4, 0.1])
    for make in (lambda K: K.metrics.AUC(), lambda K: K.metrics.Precision(), lambda K: K.metrics.BinaryAccuracy(),
                 lambda K: K.metrics.RootMeanSquaredError(), lambda K: K.metrics.R2Score()):
        ours, theirs = make(nk), make(keras)
        ours.update_state(y.reshape(-1, 1), p.reshape(-1, 1))
        theirs.update_state(y.reshape(-1, 1), p.reshape(-1, 1))
        got, expected = ours.result().numpy(), keras.ops.convert_to_numpy(theirs.result())
        assert got.dtype == expected.dtype == np.float32 and got.shape == expected.shape == ()
        np.testing.assert_allclose(got, expected, rtol=1e-6)
    got = nk.losses.BinaryCrossentropy()(y, p).numpy()
    np.testing.assert_allclose(got, keras.ops.convert_to_numpy(keras.losses.BinaryCrossentropy()(y, p)), rtol=1e-6)
    model = nk.Sequential([nk.Input((1,)), nk.layers.Dense(1, activation="sigmoid")])
    model.compile("sgd", "binary_crossentropy", metrics=[nk.metrics.AUC(name="auc")])
    history = model.fit(p.reshape(-1, 1), y, epochs=1, verbose=0).history
    assert type(history["auc"][0]) is float and type(history["loss"][0]) is float
