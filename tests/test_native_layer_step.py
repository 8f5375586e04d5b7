"""The one-call native step over chains of Dense, Activation, Dropout, BatchNormalization and
LayerNormalization layers, with and without per-sample weights: the same bits as the Python loop
(model.fast_step = False) through fit's native runs and train_on_batch - weights, moving
statistics, loss histories and Dropout counters - and the records' checks."""
from dataclasses import replace

import numpy as np
import pytest

import nnfast as nf
from nnfast import _core
from nnfast.layers import (
    Activation,
    BatchNormalization,
    Dense,
    Dropout,
    InputLayer,
    LayerNormalization,
    LeakyReLU,
    ReLU,
    Softmax,
)
from nnfast.losses import get as get_loss
from nnfast.models import Sequential
from nnfast.models.native_step import NativeStep

from conftest import num_threads

pytestmark = pytest.mark.filterwarnings("error")

FEATURES = 6


def data(n, outputs, sparse, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, FEATURES))
    if sparse:
        return x, (x[:, :outputs] + 0.5 * rng.standard_normal((n, outputs))).argmax(axis=1)
    return x, (x[:, :outputs] + 0.3 * rng.standard_normal((n, outputs)) > 0).astype(float)


# name -> the hidden layers between Input(6) and the output layer
HIDDEN = {
    "activation": lambda: [Dense(8), Activation("tanh"), Dense(7), ReLU(), Dense(5), LeakyReLU(negative_slope=0.2)],
    "softmax_layer": lambda: [Dense(8), Softmax(), Dense(6)],
    "dropout": lambda: [Dense(9, activation="relu"), Dropout(0.4), Dense(7, activation="relu"), Dropout(0.2)],
    "dropout_first": lambda: [Dropout(0.3), Dense(8, activation="relu")],
    "batch_norm": lambda: [Dense(8), BatchNormalization(momentum=0.9), Activation("relu")],
    "batch_norm_first": lambda: [BatchNormalization(), Dense(8, activation="sigmoid")],
    "batch_norm_frozen": lambda: [Dense(8), BatchNormalization(trainable=False), ReLU()],
    "batch_norm_plain": lambda: [Dense(8), BatchNormalization(center=False, scale=False), ReLU()],
    "layer_norm": lambda: [Dense(8), LayerNormalization(), ReLU(), Dense(7), LayerNormalization(scale=False)],
    "combined": lambda: [Dense(10), BatchNormalization(), ReLU(), Dropout(0.3), Dense(8), LayerNormalization(),
                         Activation("leaky_relu"), Dropout(0.1)],
    # batch normalization fused with the element-wise layers after it (batch_norm_tail_*): every
    # tail (activation, dropout, both; relu, leaky_relu, linear), a frozen normalization, one first
    # in the model, and tails that do not fuse (tanh, a softmax layer)
    "batch_norm_tails": lambda: [Dense(17), BatchNormalization(), Dropout(0.3), Dense(9), BatchNormalization(),
                                 LeakyReLU(negative_slope=0.2), Dropout(0.2), Dense(65), BatchNormalization(),
                                 Activation("linear"), Dense(7), BatchNormalization(scale=False), ReLU()],
    "batch_norm_first_tail": lambda: [BatchNormalization(), ReLU(), Dropout(0.25), Dense(8)],
    "batch_norm_frozen_tail": lambda: [Dense(8), BatchNormalization(trainable=False), ReLU(), Dropout(0.3)],
    "batch_norm_unfused": lambda: [Dense(8), BatchNormalization(), Activation("tanh"), Dropout(0.3), Dense(6),
                                   BatchNormalization(), Softmax(), Dropout(0.1)],
}

# loss -> (output activation, outputs, sparse targets)
LOSSES = {"binary_crossentropy": ("sigmoid", 1, False), "sparse_categorical_crossentropy": ("softmax", 3, True),
          "categorical_crossentropy": ("softmax", 3, False), "mse": ("linear", 2, False),
          "mae": ("tanh", 2, False)}


def build(hidden, loss, dtype, fast, optimizer=None):
    activation, outputs, _ = LOSSES[loss]
    m = Sequential([InputLayer(shape=(FEATURES,)), *HIDDEN[hidden](), Dense(outputs, activation=activation)],
                   seed=5, dtype=dtype)
    m.compile(optimizer=optimizer or nf.optimizers.Adam(0.01), loss=loss)
    m.fast_step = fast
    return m


def dropout_calls(m):
    return [layer.get_state()["calls"] for layer in m.layers if isinstance(layer, Dropout)]


def assert_same(a, b):
    """Same weights (moving statistics included) and Dropout counters, bit for bit."""
    wa, wb = a.get_weights(), b.get_weights()
    assert len(wa) == len(wb)
    for u, v in zip(wa, wb):
        np.testing.assert_array_equal(u, v)
    assert dropout_calls(a) == dropout_calls(b)
    assert a.optimizer.iterations == b.optimizer.iterations


def weights_for(kind, y, n):
    if kind == "class_weight":
        return dict(class_weight={0: 0.25, 1: 2.0, 2: 1.5})
    if kind == "sample_weight":
        return dict(sample_weight=np.random.default_rng(1).uniform(0.0, 3.0, n))
    return {}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("hidden", list(HIDDEN))
def test_fit_runs_natively_with_the_python_loops_bits(hidden, dtype):
    x, y = data(90, 1, False)
    models, histories = [], []
    for fast in (True, False):
        m = build(hidden, "binary_crossentropy", dtype, fast)
        histories.append(m.fit(x, y, batch_size=16, epochs=2, verbose=0, shuffle=True).history["loss"])
        models.append(m)
    native, python = models
    assert native.native_planner is not None and native.native_planner.batch_sizes == [16]  # it ran, the last 10 too
    assert python.native_planner is None
    assert histories[0] == histories[1]
    assert_same(native, python)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("loss", list(LOSSES))
@pytest.mark.parametrize("weighting", ["class_weight", "sample_weight"])
def test_weighted_fit_runs_natively_with_the_python_loops_bits(loss, weighting, dtype):
    _, outputs, sparse = LOSSES[loss]
    x, y = data(70, outputs, sparse)
    if loss == "mse" or loss == "mae":
        weighting = "sample_weight"  # classes of real-valued rows: not Keras's use of class_weight
    models, histories = [], []
    for fast in (True, False):
        m = build("combined", loss, dtype, fast)
        histories.append(m.fit(x, y, batch_size=8, epochs=2, verbose=0, **weights_for(weighting, y, len(x)))
                         .history["loss"])
        models.append(m)
    assert models[0].native_planner.batch_sizes == [8]  # the last 6 in the batch-8 step's calls
    assert histories[0] == histories[1]
    assert_same(*models)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("hidden", ["combined", "batch_norm_frozen", "dropout_first"])
def test_train_on_batch_runs_natively_with_the_python_loops_bits(hidden, dtype):
    x, y = data(48, 3, True)
    w = np.random.default_rng(2).uniform(0.5, 2.0, len(x))
    models, values = [], []
    for fast in (True, False):
        m = build(hidden, "sparse_categorical_crossentropy", dtype, fast, nf.optimizers.SGD(0.1, momentum=0.9))
        values.append([m.train_on_batch(x[i:i + 12], y[i:i + 12], sample_weight=w[i:i + 12] if i % 24 else None)
                       for i in range(0, 48, 12)])
        models.append(m)
    assert models[0].native_planner.batch_sizes == [12]
    assert values[0] == values[1]
    assert_same(*models)


@pytest.mark.parametrize("dtype, rtol", [("float32", 1e-4), ("float64", 1e-10)])
@pytest.mark.parametrize("hidden", ["combined", "batch_norm_tails", "batch_norm_first_tail", "batch_norm_frozen_tail"])
def test_fused_batch_norm_tails_follow_the_reference_backend(hidden, dtype, rtol):
    """The fused batch_norm_tail kernels (one-call native step) against nnfast.reference's NumPy
    twins (the reference backend runs the layers one by one): same trajectory, same Dropout masks."""
    x, y = data(90, 1, False)
    histories, weights = [], []
    for backend in ("native", "reference"):
        activation, outputs, _ = LOSSES["binary_crossentropy"]
        m = Sequential([InputLayer(shape=(FEATURES,)), *HIDDEN[hidden](), Dense(outputs, activation=activation)],
                       seed=5, dtype=dtype, backend=backend)
        m.compile(optimizer=nf.optimizers.Adam(0.01), loss="binary_crossentropy")
        histories.append(m.fit(x, y, batch_size=16, epochs=3, verbose=0, shuffle=True).history["loss"])
        weights.append(m.get_weights())
        if backend == "native":
            assert m.native_planner is not None and m.native_planner.batch_sizes == [16]  # it ran, the last 10 too
    np.testing.assert_allclose(histories[0], histories[1], rtol=rtol)
    for a, b in zip(*weights):
        np.testing.assert_allclose(a, b, rtol=100 * rtol, atol=100 * rtol)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("width", [256, 65, 1000])
def test_the_tabular_model_with_class_weight_batch_256(width, dtype):
    """The issue's tabular model: Input(64), 3 blocks of Dense 256 / BatchNormalization / ReLU /
    Dropout 0.3 (each normalization fused with its tail), then Dense 1 sigmoid, class_weight, batch
    256; also at widths that are not a multiple of the vector. The Python loop's bits, natively on 1
    and 2 threads."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((700, 64)).astype(dtype)
    y = (x[:, :3].sum(axis=1) + 0.5 * rng.standard_normal(700) > 1.0).astype(dtype)

    def tabular(fast):
        blocks = [layer for _ in range(3) for layer in (Dense(width), BatchNormalization(), ReLU(), Dropout(0.3))]
        m = Sequential([InputLayer(shape=(64,)), *blocks, Dense(1, activation="sigmoid")], seed=11, dtype=dtype)
        m.compile(optimizer="adam", loss="binary_crossentropy")
        m.fast_step = fast
        return m

    models, histories = [], []
    for fast, threads in ((True, 1), (True, 2), (False, 2)):
        m = tabular(fast)
        with num_threads(threads):
            histories.append(m.fit(x, y, batch_size=256, epochs=2, verbose=0,
                                   class_weight={0: 0.6, 1: 3.0}).history)
        models.append(m)
    assert models[0].native_planner.batch_sizes == [256]  # the last 188 in the batch-256 step's calls
    assert histories[0] == histories[1] == histories[2]
    assert_same(models[0], models[2])
    assert_same(models[1], models[2])


@pytest.mark.skipif(not nf.config()["openmp"], reason="built without OpenMP: one thread only")
@pytest.mark.parametrize("batch, width", [(512, 300), (64, 1000), (256, 256), (9, 17)])
def test_the_step_team_gives_every_gemm_driver_the_bits_of_one_thread(batch, width):
    """A native step runs in one team of threads, its parallel parts handed to the team as jobs
    (parallel/team.h). Tall layers (rows split over a shared packed B, with barriers), wide ones
    (the team packing each A block, with barriers), owned column panels and parts too small to split
    give the bits of one thread and of the Python loop, through fit and train_on_batch."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2 * batch + 3, 40)).astype("float32")
    y = (x[:, :3].sum(axis=1) > 0).astype("float32")

    def model(fast):
        m = Sequential([InputLayer(shape=(40,)), Dense(width), BatchNormalization(), ReLU(), Dropout(0.2),
                        Dense(width, activation="relu"), Dense(1, activation="sigmoid")], seed=3, dtype="float32")
        m.compile(optimizer="adam", loss="binary_crossentropy")
        m.fast_step = fast
        return m

    models, histories, batch_losses = [], [], []
    for fast, threads in ((True, 2), (True, 1), (False, 1)):
        m = model(fast)
        with num_threads(threads):
            histories.append(m.fit(x, y, batch_size=batch, epochs=2, verbose=0).history)
            batch_losses.append([m.train_on_batch(x[i:i + batch], y[i:i + batch]) for i in (0, batch)])
        models.append(m)
    assert histories[0] == histories[1] == histories[2]
    assert batch_losses[0] == batch_losses[1] == batch_losses[2]
    assert_same(models[0], models[2])
    assert_same(models[1], models[2])


@pytest.mark.skipif(not nf.config()["openmp"] or nf.config()["max_threads"] < 2,
                    reason="needs OpenMP and a second thread")
def test_only_a_step_with_a_part_that_splits_leads_a_team():
    """A step leads a team of threads (one region for all its parts) only when one of its parts
    splits over threads, learnt from its first run: a tiny network's step on 2 threads runs alone,
    as on 1, and a wide one's leads a team every step. Both give the bits of 1 thread."""
    def run(width, batch, threads):
        x = np.random.default_rng(2).standard_normal((batch, 40)).astype("float32")
        y = (x[:, 0] > 0).astype("float32")
        m = Sequential([InputLayer(shape=(40,)), Dense(width, activation="relu"), Dense(1, activation="sigmoid")],
                       seed=4, dtype="float32")
        m.compile(optimizer="adam", loss="binary_crossentropy")
        with num_threads(threads):
            before = _core.teams_led()
            losses = [m.train_on_batch(x, y) for _ in range(4)]
            history = m.fit(x, y, batch_size=batch // 2, epochs=2, verbose=0, shuffle=False).history
            led = _core.teams_led() - before
        return led, losses, history, m.get_weights()

    tiny, tiny_one = run(3, 8, 2), run(3, 8, 1)
    assert tiny[0] == 0 and tiny_one[0] == 0
    wide, wide_one = run(512, 512, 2), run(512, 512, 1)
    assert wide_one[0] == 0
    assert wide[0] >= 3  # train_on_batch after the first (alone) run, and fit's steps on 2 threads
    for two, one in ((tiny, tiny_one), (wide, wide_one)):
        assert two[1] == one[1] and two[2] == one[2]
        for u, v in zip(two[3], one[3]):
            np.testing.assert_array_equal(u, v)


@pytest.mark.skipif(not nf.config()["openmp"] or nf.config()["max_threads"] < 2,
                    reason="needs OpenMP and a second thread")
def test_steps_in_a_row_on_two_threads_share_one_team(monkeypatch):
    """fit's steps run in one team while the thread choice stays on all threads, not in a team
    each. A probe runs 3 blocks of 3 steps on 2 threads (after its first step, which learns alone
    whether a part splits), then the run keeps one count: at most 4 teams a probe and one more a
    call, where a team per step led at least 8 a probe. The bits are those of one thread."""
    probes = []
    original = NativeStep.run_steps

    def spy(self, *args):
        ran = original(self, *args)
        probes.append(self.call.probe_steps)
        return ran

    monkeypatch.setattr(NativeStep, "run_steps", spy)
    x = np.random.default_rng(3).standard_normal((60 * 256, 40)).astype("float32")
    y = (x[:, 0] > 0).astype("float32")
    runs = []
    for threads in (2, 1):
        m = Sequential([InputLayer(shape=(40,)), Dense(512, activation="relu"), Dense(1, activation="sigmoid")],
                       seed=4, dtype="float32")
        m.compile(optimizer="adam", loss="binary_crossentropy")
        probes.clear()
        with num_threads(threads):
            before = _core.teams_led()
            history = m.fit(x, y, batch_size=256, epochs=1, verbose=0).history
            runs.append((_core.teams_led() - before, history, m.get_weights(), list(probes)))
    calls, probe_runs = len(runs[0][3]), -(-runs[0][3][-1] // (2 * 3 * 3))
    assert calls >= 1 and probe_runs >= 1
    assert 1 <= runs[0][0] <= 4 * probe_runs + calls
    assert runs[1][0] == 0 and runs[0][1] == runs[1][1]
    for u, v in zip(runs[0][2], runs[1][2]):
        np.testing.assert_array_equal(u, v)


@pytest.mark.skipif(not nf.config()["openmp"] or nf.config()["max_threads"] < 2,
                    reason="needs OpenMP and a second thread")
@pytest.mark.parametrize("batch_size", [64, 61])  # 61: groups of 8 rows side by side and a ragged one
@pytest.mark.parametrize("targets", ["labels", "rows"])
def test_the_next_batch_is_gathered_while_a_step_waits(targets, batch_size):
    """On 2 threads the team's second thread gathers the next batch's rows while it waits on a
    step's serial parts (the output layer, the loss), into the other of two buffers that steps
    alternate between: the same samples in the same places, so the bits are one thread's, sample
    weights and both kinds of targets included."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((40 * 64, 300)).astype("float32")
    labels = (x[:, :3].sum(axis=1) > 0).astype(np.int64) + (x[:, 3] > 1)
    y = labels if targets == "labels" else np.eye(3, dtype="float32")[labels]
    w = rng.uniform(0.5, 2.0, len(x)).astype("float32")
    loss = "sparse_categorical_crossentropy" if targets == "labels" else "categorical_crossentropy"
    runs = []
    for threads in (2, 1):
        m = Sequential([InputLayer(shape=(300,)), Dense(512, activation="relu"), Dense(3, activation="softmax")],
                       seed=4, dtype="float32")
        m.compile(optimizer="adam", loss=loss, metrics=["accuracy"])
        with num_threads(threads):
            teams, units = _core.teams_led(), _core.idle_units_run()
            history = m.fit(x, y, batch_size=batch_size, epochs=2, sample_weight=w, verbose=0).history
            runs.append((_core.teams_led() - teams, _core.idle_units_run() - units, history, m.get_weights()))
    (teams, units, history, weights), one = runs
    assert one[0] == 0 and one[1] == 0
    if teams:  # some steps ran on 2 threads (a busy host can make the thread choice keep one)
        assert 0 < units <= 2 * len(x)
    assert history == one[2]
    for u, v in zip(weights, one[3]):
        np.testing.assert_array_equal(u, v)


def test_a_saved_model_continues_the_dropout_stream(tmp_path):
    x, y = data(64, 1, False)
    whole = build("dropout", "binary_crossentropy", "float64", True)
    whole.fit(x, y, batch_size=16, epochs=2, verbose=0, shuffle=False)
    half = build("dropout", "binary_crossentropy", "float64", True)
    half.fit(x, y, batch_size=16, epochs=1, verbose=0, shuffle=False)
    assert dropout_calls(half) == [4, 4]  # one native forward per step, counted on the layers
    half.save(tmp_path / "half.npz")
    resumed = nf.load_model(tmp_path / "half.npz")
    resumed.fit(x, y, batch_size=16, epochs=1, verbose=0, shuffle=False)
    for u, v in zip(whole.get_weights(), resumed.get_weights()):
        np.testing.assert_array_equal(u, v)
    assert dropout_calls(whole) == dropout_calls(resumed) == [8, 8]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kernel, sparse", [("mse", False), ("mae", False), ("binary_cross_entropy", False),
                                            ("softmax_cross_entropy", True), ("softmax_cross_entropy", False)])
def test_weighted_loss_is_keras_weighted_reduction(kernel, sparse, dtype):
    rng = np.random.default_rng(4)
    rows, cols = 37, 3
    pred = rng.uniform(0.01, 0.99, (rows, cols)).astype(dtype)
    w = rng.uniform(0.0, 2.0, rows).astype(dtype)
    if sparse:
        target = rng.integers(0, cols, rows)
        per_row = -np.log(np.exp(pred - pred.max(1, keepdims=True)) /
                          np.exp(pred - pred.max(1, keepdims=True)).sum(1, keepdims=True))[np.arange(rows), target]
    else:
        target = (rng.uniform(size=(rows, cols)) > 0.5).astype(dtype)
        if kernel == "softmax_cross_entropy":
            logp = pred - pred.max(1, keepdims=True)
            logp = logp - np.log(np.exp(logp).sum(1, keepdims=True))
            per_row = -(target * logp).sum(1)
        else:
            name = {"mse": "mse", "mae": "mae", "binary_cross_entropy": "binary_crossentropy"}[kernel]
            per_row = get_loss(name).call(target.astype(np.float64), pred.astype(np.float64))
    value = _core.weighted_loss(pred, target, w, kernel)
    expected = float(np.sum(w.astype(np.float64) * per_row) / rows)
    assert value == pytest.approx(expected, rel=1e-5 if dtype == "float32" else 1e-12)
    assert _core.weighted_loss(pred[:0], target[:0], w[:0], kernel) == 0.0


def test_weighted_loss_rejects_bad_arguments():
    pred, w = np.zeros((4, 2)), np.ones(4)
    bad = [((pred, np.zeros((4, 2)), w, "nope"), ValueError, "loss must be"),
           ((pred, np.zeros((4, 3)), w, "mse"), ValueError, "targets has shape"),
           ((pred, np.zeros((4, 2)), np.ones(3), "mse"), ValueError, "weights has shape"),
           ((pred, np.zeros((4, 2)), np.ones(4, np.float32), "mse"), TypeError, "weights must have the model's dtype"),
           ((pred, np.array([0, 1, 2, 0]), w, "softmax_cross_entropy"), ValueError, "class indices"),
           ((pred[0], np.zeros(2), w, "mse"), ValueError, "pred must be 2-D")]
    for args, error, message in bad:
        with pytest.raises(error, match=message):
            _core.weighted_loss(*args)


def test_records_are_checked_before_a_step_is_made():
    x, y = data(16, 1, False)
    m = build("combined", "binary_crossentropy", "float64", True)
    m.fit(x, y, batch_size=8, epochs=1, verbose=0)  # makes the optimizer state and a step
    planner = m.native_planner
    plans = planner.layer_plans(8)
    update = m.optimizer.native_update()
    dloss = m.layers[-1].buffer("dloss", (8, 1), np.float64)
    kinds = [p.kind for p in plans]
    dropout, norm = kinds.index("dropout"), kinds.index("batch_norm")

    def make(changed):
        return _core.DenseStackStep(changed, dloss, "binary_cross_entropy", update.kernel,
                                    dict(update.hyperparameters, learning_rate=0.0, step=1), planner.param_views,
                                    planner.grad_views, tuple(update.state))

    def at(i, **change):
        return plans[:i] + [replace(plans[i], **change)] + plans[i + 1:]

    class Missing:
        kind, output, input_grad = "dropout", plans[dropout].output, plans[dropout].input_grad

    bad = [(at(dropout, kind="conv"), ValueError, rf"layers\[{dropout}\].kind must be dense, activation"),
           (at(dropout, calls=np.zeros(1, np.int64)), ValueError, rf"layers\[{dropout}\].calls must be a uint64"),
           (at(dropout, calls=[0]), TypeError, rf"layers\[{dropout}\].calls must be a numpy.ndarray"),
           (at(dropout, mask=np.zeros((8, 3), np.uint8)), ValueError, rf"layers\[{dropout}\].mask must be a uint8"),
           (at(dropout, rate=1.0), ValueError, rf"layers\[{dropout}\].rate must be in"),
           (at(dropout, rate="0.5"), TypeError, rf"layers\[{dropout}\].rate must be a float"),
           (plans[:dropout] + [Missing()] + plans[dropout + 1:], TypeError, rf"layers\[{dropout}\].rate is missing"),
           (at(norm, mean=np.zeros(3)), ValueError, rf"layers\[{norm}\].mean has shape"),
           (at(norm, moving_mean=plans[norm].moving_mean.astype(np.float32)), TypeError,
            rf"layers\[{norm}\].moving_mean must have the model's dtype"),
           (at(norm, gamma_grad=None), ValueError, rf"layers\[{norm}\].gamma, .* must be arrays or None together"),
           (at(norm, momentum=1.5), ValueError, rf"layers\[{norm}\].momentum must be in"),
           (at(norm, activation="relu", kind="activation", output=np.zeros((8, 10, 1))), ValueError,
            rf"layers\[{norm}\].output must be 2-D")]
    before = m.get_weights()
    for records, error, message in bad:
        with pytest.raises(error, match=message):
            make(records)
    for u, v in zip(before, m.get_weights()):
        np.testing.assert_array_equal(u, v)
    make(plans)  # the planner's own records are accepted


def test_run_rejects_bad_weights_before_any_update():
    x, y = data(16, 1, False)
    m = build("combined", "binary_crossentropy", "float64", True)
    m.fit(x, y, batch_size=8, epochs=1, verbose=0)
    step = m.native_planner.step(m.optimizer, 8).call
    before, calls = m.get_weights(), dropout_calls(m)
    order = np.arange(16, dtype=np.int64)
    for w in (np.ones(7), np.ones(8, np.float32)):
        with pytest.raises((ValueError, TypeError), match="weights"):
            step.run(x[:8], y[:8].reshape(8, 1), 0.01, 5, False, w)
        with pytest.raises((ValueError, TypeError), match="weights"):
            step.run_steps(x, y.reshape(16, 1), order, 0, 2, 0.01, 5, np.empty(2), None, w[:7])
        assert step.last_updates == 0
    for u, v in zip(before, m.get_weights()):
        np.testing.assert_array_equal(u, v)
    assert dropout_calls(m) == calls


def test_a_leaky_relu_of_another_slope_leaves_the_model_to_the_python_loop():
    x, y = data(32, 1, False)
    m = Sequential([InputLayer(shape=(FEATURES,)), Dense(4), LeakyReLU(negative_slope=0.3),
                    Dense(1, activation="sigmoid")])
    m.compile(optimizer="adam", loss="binary_crossentropy")
    m.fit(x, y, batch_size=8, epochs=1, verbose=0)
    assert m.native_planner is None
