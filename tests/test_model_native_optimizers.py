"""Every optimizer, every learning-rate schedule and Keras 2's decay inside the one-call native
training step and its multi-step runs: fit through the native runs, through native single steps
(a per-batch callback makes fit take one step per Python iteration) and through the Python loop
gives the same bits. The schedules' native formulas equal their Python __call__ bit for bit."""
import math

import numpy as np
import pytest

import nnfast as nf
from nnfast import _core
from nnfast.callbacks import Callback
from nnfast.layers import Dense
from nnfast.models import Sequential
from nnfast.optimizers import schedules

from conftest import case_id

pytestmark = pytest.mark.filterwarnings("error")


class PerBatch(Callback):
    """A per-batch hook: fit then runs one step per Python iteration."""

    def on_train_batch_end(self, batch, logs=None):
        pass


def data(n, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 6))
    return x, (x[:, :3] + 0.5 * rng.standard_normal((n, 3))).argmax(axis=1)


def three_ways(make_optimizer, native_calls, dtype="float64", n=301, epochs=2):
    """(history, weights, iterations) of fit through native runs, native single steps and the
    Python loop; asserts the first took native runs for every batch after the first step (the partial
    last batch of each epoch included)."""
    x, labels = data(n)
    runs = []
    for mode in ("native runs", "native steps", "python loop"):
        m = Sequential([Dense(7, activation="relu", input_dim=6), Dense(3, activation="softmax")], seed=2,
                       dtype=dtype)
        m.compile(optimizer=make_optimizer(), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        m.fast_step = mode != "python loop"
        h = m.fit(x, labels, batch_size=2, epochs=epochs, verbose=0,
                  callbacks=[PerBatch()] if mode == "native steps" else None)
        runs.append((h.history, m.get_weights(), m.optimizer.iterations))
        if mode == "native runs":  # the first step makes the optimizer state; the rest run natively
            assert sum(native_calls) == epochs * -(-n // 2) - 1, native_calls
        native_calls.clear()
    for history, weights, iterations in runs[1:]:
        assert history == runs[0][0]
        assert iterations == runs[0][2] == epochs * -(-n // 2)
        for a, b in zip(weights, runs[0][1]):
            np.testing.assert_array_equal(a, b)
    return runs[0]


# ---- every optimizer, both conventions where they exist ----------------------------------------------

OPTIMIZERS = [
    ("SGD", dict(learning_rate=0.05, momentum=0.9, nesterov=True, weight_decay=0.01)),
    ("SGD", dict(learning_rate=0.05, momentum=0.9, dampening=0.1, weight_decay=0.01, convention="torch")),
    ("SGD", dict(learning_rate=1e-3, momentum=0.5, maximize=True, convention="torch")),
    ("Adagrad", dict(learning_rate=0.05, weight_decay=0.01)),
    ("Adagrad", dict(learning_rate=0.05, lr_decay=0.01, convention="torch")),
    ("RMSprop", dict(learning_rate=0.01, centered=True, momentum=0.5, weight_decay=0.01)),
    ("RMSprop", dict(learning_rate=0.01, centered=True, convention="torch")),
    ("Adam", dict(learning_rate=0.01, amsgrad=True)),
    ("Adam", dict(learning_rate=0.01, weight_decay=0.01, convention="torch")),
    ("AdamW", dict(learning_rate=0.01)),
    ("AdamW", dict(learning_rate=0.01, amsgrad=True, convention="torch")),
    ("Adamax", dict(learning_rate=0.01, weight_decay=0.01)),
    ("Adamax", dict(learning_rate=0.01, weight_decay=0.01, convention="torch")),
    ("Nadam", dict(learning_rate=0.01, weight_decay=0.01)),
    ("Nadam", dict(learning_rate=0.01, weight_decay=0.01, decoupled_weight_decay=True, convention="torch")),
    ("RAdam", dict(learning_rate=0.01)),
    ("RAdam", dict(learning_rate=0.01, weight_decay=0.01, decoupled_weight_decay=True)),
    ("Adadelta", dict(learning_rate=0.5, weight_decay=0.01)),
    ("Adadelta", dict(learning_rate=1.0, convention="torch")),
    ("Lion", dict(learning_rate=1e-3, weight_decay=0.01)),
    ("Ftrl", dict(learning_rate=0.05, l1_regularization_strength=0.001, l2_regularization_strength=0.002,
                  l2_shrinkage_regularization_strength=0.003, beta=0.1)),
    ("Ftrl", dict(learning_rate=0.05, learning_rate_power=-0.3)),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", OPTIMIZERS, ids=[case_id(c) for c in OPTIMIZERS])
def test_every_optimizer_trains_natively_with_the_python_loops_bits(case, dtype, native_calls):
    name, kwargs = case
    three_ways(lambda: getattr(nf.optimizers, name)(**kwargs), native_calls, dtype)


@pytest.mark.parametrize("case", OPTIMIZERS, ids=[case_id(c) for c in OPTIMIZERS])
def test_every_optimizer_has_a_native_update(case):
    name, kwargs = case
    opt = getattr(nf.optimizers, name)(**kwargs)
    opt.apply([np.ones(3)], [np.ones(3)])
    update = opt.native_update()
    assert update is not None and update.kernel == opt.UPDATE_KERNEL


def test_train_on_batch_runs_every_optimizer_natively():
    x, labels = data(40)
    for name, kwargs in OPTIMIZERS:
        weights = []
        for fast in (True, False):
            m = Sequential([Dense(5, activation="tanh", input_dim=6), Dense(3, activation="softmax")], seed=1)
            m.compile(optimizer=getattr(nf.optimizers, name)(**kwargs), loss="sparse_categorical_crossentropy")
            m.fast_step = fast
            for i in range(5):
                m.train_on_batch(x[i * 8:(i + 1) * 8], labels[i * 8:(i + 1) * 8])
            assert (m.native_planner is not None) == fast
            weights.append(m.get_weights())
        for a, b in zip(*weights):
            np.testing.assert_array_equal(a, b, err_msg=f"{name} {kwargs}")


# ---- learning-rate schedules and Keras 2's decay ------------------------------------------------------

S = schedules
SCHEDULES = [
    S.ExponentialDecay(0.05, 20, 0.5),
    S.ExponentialDecay(0.05, 7, 0.9, staircase=True),
    S.InverseTimeDecay(0.05, 10, 0.5),
    S.InverseTimeDecay(0.05, 3, 2, staircase=True),
    S.PiecewiseConstantDecay([50, 120, 200.5], [0.05, 0.02, 0.01, 0.005]),
    S.PolynomialDecay(0.05, 100, 0.001, power=2.0),
    S.PolynomialDecay(0.05, 70, 0.001, power=0.5, cycle=True),
    S.CosineDecay(0.05, 200, alpha=0.1),
    S.CosineDecay(0.01, 150, alpha=0.1, warmup_target=0.05, warmup_steps=50),
    S.CosineDecayRestarts(0.05, 40, t_mul=2.0, m_mul=0.8, alpha=0.05),
    S.CosineDecayRestarts(0.05, 30, t_mul=1.0),
    S.CosineDecayRestarts(0.05, 120, t_mul=0.7, m_mul=0.9),  # NaN after 400 steps (the runs take 300)
]
SCHEDULE_IDS = [f"{type(s).__name__}-{i}" for i, s in enumerate(SCHEDULES)]


@pytest.mark.parametrize("schedule", SCHEDULES, ids=SCHEDULE_IDS)
def test_native_schedules_equal_the_python_schedules_bit_for_bit(schedule):
    kind, params = schedule.native_parameters()
    native = _core.learning_rates((kind, params), 0, 10000)
    python = np.array([schedule(t) for t in range(10000)])
    np.testing.assert_array_equal(native.view(np.uint64), python.view(np.uint64))
    assert len(set(python.tolist())) > 1


@pytest.mark.parametrize("schedule", SCHEDULES, ids=SCHEDULE_IDS)
@pytest.mark.parametrize("optimizer", ["Adam", "SGD"])
def test_a_schedule_keeps_fit_on_the_native_runs_with_the_python_loops_bits(schedule, optimizer, native_calls):
    three_ways(lambda: getattr(nf.optimizers, optimizer)(learning_rate=schedule), native_calls)


@pytest.mark.parametrize("case", [("SGD", dict(momentum=0.9)), ("Adam", {}), ("RMSprop", dict(convention="torch")),
                                  ("Nadam", {})], ids=case_id)
def test_keras2_decay_keeps_fit_on_the_native_runs_with_the_python_loops_bits(case, native_calls):
    name, kwargs = case
    three_ways(lambda: getattr(nf.optimizers, name)(learning_rate=0.05, decay=0.01, **kwargs), native_calls)


def test_keras2_decay_is_inverse_time_decay_with_one_step_periods():
    opt = nf.optimizers.SGD(learning_rate=0.05, decay=0.01)
    opt.apply([np.ones(3)], [np.ones(3)])
    kind, params = opt.native_update().schedule()
    rates = _core.learning_rates((kind, params), 0, 1000)
    np.testing.assert_array_equal(rates, [0.05 / (1.0 + 0.01 * t) for t in range(1000)])


class Halved(S.ExponentialDecay):
    """A user subclass: it may compute anything, so it stays on the per-step path."""

    def __call__(self, step):
        return 0.5 * super().__call__(step)


@pytest.mark.parametrize("learning_rate", [Halved(0.05, 20, 0.5), lambda t: 0.05 / (1 + t)],
                         ids=["schedule-subclass", "callable"])
def test_python_callables_train_through_the_per_step_path(learning_rate, native_calls):
    assert getattr(learning_rate, "native_parameters", lambda: None)() is None
    x, labels = data(101)
    runs = []
    for fast in (True, False):
        m = Sequential([Dense(4, activation="relu", input_dim=6), Dense(3, activation="softmax")], seed=3)
        m.compile(optimizer=nf.optimizers.Adam(learning_rate), loss="sparse_categorical_crossentropy")
        m.fast_step = fast
        m.fit(x, labels, batch_size=4, epochs=2, verbose=0)
        runs.append(m.get_weights())
    assert sum(native_calls) == 0 and len(native_calls) > 0  # asked every batch, declined every time
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)


def test_a_nan_learning_rate_stops_the_native_run_where_the_python_loop_stops():
    # shrinking restart periods (t_mul < 1) end after 50 / 0.5 = 100 steps: the rate is NaN there
    schedule = S.CosineDecayRestarts(0.05, 50, t_mul=0.5)
    assert math.isnan(schedule(100)) and not math.isnan(schedule(99))
    x, labels = data(500)
    runs = []
    for fast in (True, False):
        m = Sequential([Dense(3, activation="softmax", input_dim=6)], seed=4)
        m.compile(optimizer=nf.optimizers.SGD(schedule), loss="sparse_categorical_crossentropy")
        m.fast_step = fast
        with pytest.raises(ValueError, match=r"learning_rate must be in \[0.0, inf\], got nan"):
            m.fit(x, labels, batch_size=2, epochs=1, verbose=0)
        runs.append((m.optimizer.iterations, m.get_weights()))
    assert runs[0][0] == runs[1][0] == 100
    for a, b in zip(runs[0][1], runs[1][1]):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("bad, error, words", [
    (("linear", (0.1,)), ValueError, "learning_rate schedule kind must be one of"),
    (("exponential_decay", (0.1, 10.0, 0.5)), ValueError, "takes 4 parameters, got 3"),
    (("piecewise_constant", (1.0, 0.1)), ValueError, r"takes 2n \+ 1 parameters, got 2"),
    (("exponential_decay", (0.1, 0.0, 0.5, 0.0)), ValueError, "decay steps must be > 0"),
    (("cosine_decay_restarts", (0.1, 10.0, -1.0, 1.0, 0.0)), ValueError, "t_mul must be > 0"),
    (("constant", ("0.1",)), TypeError, "must be a real number"),
    (("constant", (float("nan"),)), ValueError, "must be in"),
    (("constant", 0.1), TypeError, r"a schedule \(kind, params\)"),
    ((0.1,), TypeError, r"a schedule \(kind, params\)"),
    (-0.1, ValueError, r"learning_rate must be in \[0.0, inf\]"),
])
def test_bad_schedules_are_refused(bad, error, words):
    with pytest.raises(error, match=words):
        _core.learning_rates(bad, 0, 3)
