"""Every Keras loss trains on the one-call native step and its multi-step runs: fit through native
runs gives the same bits (loss history, weights) as the Python loop (model.fast_step = False),
which calls the same loss kernels through the backend, with and without sample weights."""
import numpy as np
import pytest

import nnfast as nf
from nnfast import losses as L
from nnfast.layers import Dense, Dropout, InputLayer, Softmax
from nnfast.models import Sequential

pytestmark = pytest.mark.filterwarnings("error")

FEATURES, N = 5, 70  # 8 whole batches of 8 and a partial one of 6


def targets(kind, rng, outputs):
    if kind == "regression":
        return rng.standard_normal((N, outputs)) + 2.0  # away from 0 for MAPE
    if kind == "positive":
        return rng.uniform(0.0, 3.0, (N, outputs))
    if kind == "binary":
        return (rng.uniform(size=(N, outputs)) < 0.4).astype(float)
    labels = rng.integers(0, outputs, N)
    if kind == "sparse":
        return labels
    rows = np.eye(outputs)[labels]
    return rows * 0.7 + 0.1 if kind == "distribution" else rows


# (loss, output layers after Dense(outputs): activation of that Dense and any Softmax layer, outputs, targets)
CASES = {
    "mape": (L.MeanAbsolutePercentageError(), "linear", False, 2, "regression"),
    "msle": (L.MeanSquaredLogarithmicError(), "sigmoid", False, 2, "positive"),
    "huber": (L.Huber(delta=0.5), "linear", False, 2, "regression"),
    "log_cosh": (L.LogCosh(), "linear", False, 2, "regression"),
    "hinge": (L.Hinge(), "tanh", False, 2, "binary"),
    "squared_hinge": (L.SquaredHinge(), "tanh", False, 2, "binary"),
    "poisson": (L.Poisson(), "sigmoid", False, 2, "positive"),
    "kl_divergence": (L.KLDivergence(), "linear", True, 3, "distribution"),
    "categorical_hinge": (L.CategoricalHinge(), "linear", False, 3, "onehot"),
    "cosine_similarity": (L.CosineSimilarity(), "linear", False, 3, "regression"),
    "bce_smoothed": (L.BinaryCrossentropy(label_smoothing=0.1), "sigmoid", False, 2, "binary"),
    "bce_logits": (L.BinaryCrossentropy(from_logits=True), "linear", False, 2, "binary"),
    "bce_logits_smoothed": (L.BinaryCrossentropy(from_logits=True, label_smoothing=0.2), "linear", False, 2,
                            "binary"),
    "cce_fused_smoothed": (L.CategoricalCrossentropy(label_smoothing=0.1), "softmax", False, 3, "onehot"),
    "cce_probabilities": (L.CategoricalCrossentropy(), "linear", True, 3, "onehot"),
    "cce_probabilities_smoothed": (L.CategoricalCrossentropy(label_smoothing=0.2), "linear", True, 3, "onehot"),
    "cce_logits_smoothed": (L.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1), "linear", False, 3,
                            "onehot"),
    "sparse_probabilities": (L.SparseCategoricalCrossentropy(), "linear", True, 3, "sparse"),
    "sparse_logits": (L.SparseCategoricalCrossentropy(from_logits=True), "linear", False, 3, "sparse"),
}


def build(case, dtype, fast):
    loss, activation, softmax_layer, outputs, _ = CASES[case]
    layers = [InputLayer(shape=(FEATURES,)), Dense(8, activation="relu"), Dropout(0.2),
              Dense(outputs, activation=activation)] + ([Softmax()] if softmax_layer else [])
    m = Sequential(layers, seed=3, dtype=dtype)
    m.compile(optimizer=nf.optimizers.Adam(0.01), loss=L.deserialize(L.serialize(loss)))
    m.fast_step = fast
    return m


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "sample_weight"])
@pytest.mark.parametrize("case", list(CASES))
def test_every_loss_trains_natively_with_the_python_loops_bits(case, weighted, dtype, native_calls):
    rng = np.random.default_rng(len(case))
    x = rng.standard_normal((N, FEATURES))
    y = targets(CASES[case][4], rng, CASES[case][3])
    extra = dict(sample_weight=rng.uniform(0.0, 2.0, N)) if weighted else {}
    results = []
    for fast in (True, False):
        m = build(case, dtype, fast)
        history = m.fit(x, y, batch_size=8, epochs=3, verbose=0, **extra).history["loss"]
        results.append((m, history))
        if fast:  # the first step builds the optimizer state; whole batches then run natively
            assert m.native_planner is not None and m.native_planner.batch_sizes == [8]  # the last 6 too
            assert sum(native_calls) == 3 * 9 - 1  # every batch but the first, the partial ones too
    (native, h_native), (python, h_python) = results
    assert python.native_planner is None
    assert all(np.isfinite(h_native)) and h_native == h_python
    for a, b in zip(native.get_weights(), python.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert native.optimizer.iterations == python.optimizer.iterations == 27


def test_the_losses_keras_computes_otherwise_leave_the_model_to_the_python_loop():
    for loss in (L.MeanSquaredError(reduction="sum"), L.CategoricalCrossentropy(axis=0)):
        m = Sequential([InputLayer(shape=(FEATURES,)), Dense(3, activation="sigmoid")], seed=1)
        m.compile(optimizer="adam", loss=loss)
        m.fit(np.random.default_rng(0).standard_normal((8, FEATURES)), np.eye(3)[np.arange(8) % 3], verbose=0)
        assert m.native_planner is None
