"""nnfast.optimizers.schedules against Keras 3's own schedules, and schedules in training.

1. Every schedule (each option) for steps 0..9999 against Keras's values. nnfast evaluates in double;
   Keras evaluates in its float type. With floatx float64 Keras computes the same formulas in
   double: the values agree to 1e-12 relative. With Keras's default float32 (the torch backend) they
   agree within float32 rounding: 1e-6 of the schedule's scale (its largest rate) absolute. (A
   pointwise 1e-6 *relative* bound does not hold for float32: float32 ``pow`` and ``cos`` near a
   zero of the rate lose relative accuracy, up to 5e-6 and 10% where the rate is ~1e-8.) At a
   CosineDecayRestarts period boundary float32's ``log`` can put Keras in the previous period; those
   steps are compared with the float64 Keras only and listed.
2. Configs equal to Keras's, serialize/deserialize both ways, bad arguments.
3. A schedule as an optimizer's learning rate: step by step, in get_config, and through ``fit``.
"""
import math

import keras
import numpy as np
import pytest
import torch

from nnfast import optimizers as O
from nnfast.keras.optimizers import schedules as keras_namespace_schedules
from nnfast.layers import Dense
from nnfast.models import Sequential
from nnfast.optimizers import schedules as S

pytestmark = pytest.mark.filterwarnings("error")

STEPS = np.arange(10000)

CASES = {
    "exponential": ("ExponentialDecay", (0.1, 100, 0.96), {}),
    "exponential-staircase": ("ExponentialDecay", (0.1, 1000, 0.5), {"staircase": True}),
    "inverse-time": ("InverseTimeDecay", (0.1, 10, 0.5), {}),
    "inverse-time-staircase": ("InverseTimeDecay", (0.1, 7, 0.5), {"staircase": True}),
    "piecewise": ("PiecewiseConstantDecay", ([100, 2000, 5000], [1.0, 0.5, 0.1, 0.01]), {}),
    "polynomial": ("PolynomialDecay", (0.1, 3000, 0.01), {"power": 0.5}),
    "polynomial-cycle": ("PolynomialDecay", (0.1, 3000, 0.001), {"power": 2.0, "cycle": True}),
    "cosine": ("CosineDecay", (0.1, 5000), {}),
    "cosine-alpha": ("CosineDecay", (0.1, 8000), {"alpha": 0.1}),
    "cosine-warmup": ("CosineDecay", (0.0, 5000), {"warmup_target": 0.1, "warmup_steps": 1000}),
    "restarts": ("CosineDecayRestarts", (0.1, 1000), {}),
    "restarts-t1": ("CosineDecayRestarts", (0.1, 300), {"t_mul": 1.0, "m_mul": 0.9, "alpha": 0.05}),
    "restarts-t1.5": ("CosineDecayRestarts", (0.1, 700), {"t_mul": 1.5, "m_mul": 0.8}),
}


def keras_values(schedule):
    """Keras's schedule at STEPS, one call per step. Under float32 one vectorized call where the
    schedule allows it, checked against per-step calls at every 101st step (under float64 Keras's
    vectorized calls mix in float32 constants, so they are not used)."""
    scalar = [float(schedule(int(s))) for s in STEPS[::101]]
    if keras.config.floatx() == "float32":
        try:
            values = schedule(torch.arange(len(STEPS), dtype=torch.float32))
        except Exception:  # a cond on the step (CosineDecay's warmup) or a scalar accumulator
            values = None
        if values is not None and tuple(values.shape) == (len(STEPS),):
            values = np.asarray(values.cpu(), np.float64)
            if list(values[::101]) == scalar:
                return values
    return np.array([float(schedule(int(s))) for s in STEPS])


@pytest.fixture
def keras_float64():
    floatx = keras.config.floatx()
    keras.config.set_floatx("float64")
    try:
        yield
    finally:
        keras.config.set_floatx(floatx)


def both(case):
    name, args, kwargs = CASES[case]
    return getattr(S, name)(*args, **kwargs), getattr(keras.optimizers.schedules, name)(*args, **kwargs)


@pytest.mark.parametrize("case", CASES)
def test_schedule_equals_keras_in_double(case, keras_float64):
    ours, theirs = both(case)
    expected = keras_values(theirs)
    got = np.array([ours(int(s)) for s in STEPS])
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=0)


@pytest.mark.parametrize("case", CASES)
def test_schedule_equals_keras_float32_within_its_rounding(case):
    ours, theirs = both(case)
    expected = keras_values(theirs)
    got = np.array([ours(int(s)) for s in STEPS])
    scale = np.abs(got).max()
    off = np.flatnonzero(np.abs(got - expected) > 1e-6 * scale)
    if case == "restarts-t1.5":  # period starts 700 * (1 + 1.5 + 2.25 + ...) where float32's log rounds down
        assert set(off) <= {1750}, off
        assert got[1750] == pytest.approx(0.1 * 0.8 ** 2)  # the new period's first rate, as Keras in double
    else:
        assert off.size == 0, (off[:5], got[off[:5]], expected[off[:5]])


@pytest.mark.parametrize("case", CASES)
def test_config_equals_keras_and_round_trips(case):
    ours, theirs = both(case)
    assert ours.get_config() == theirs.get_config()
    again = type(ours).from_config(ours.get_config())
    assert [again(s) for s in (0, 1, 777, 9999)] == [ours(s) for s in (0, 1, 777, 9999)]
    assert S.serialize(ours) == keras.optimizers.schedules.serialize(theirs)
    # each side reads the other's serialized form
    assert type(S.deserialize(keras.optimizers.schedules.serialize(theirs))) is type(ours)
    back = keras.optimizers.schedules.deserialize(S.serialize(ours))
    assert back.get_config() == theirs.get_config()


def test_defaults_and_names_match_keras():
    assert S.ExponentialDecay(0.1, 10, 0.5).get_config() == \
        keras.optimizers.schedules.ExponentialDecay(0.1, 10, 0.5).get_config()
    for name in ("PolynomialDecay", "CosineDecay", "CosineDecayRestarts"):
        assert getattr(S, name)(0.1, 10).get_config() == \
            getattr(keras.optimizers.schedules, name)(0.1, 10).get_config()
    assert S.PiecewiseConstantDecay([1], [1.0, 0.5]).get_config()["name"] == "PiecewiseConstant"


def test_deserialize_keras2_form_and_custom_objects():
    schedule = S.deserialize({"class_name": "PolynomialDecay",
                              "config": {"initial_learning_rate": 0.1, "decay_steps": 10, "power": 0.5}})
    assert schedule(10) == pytest.approx(0.0001)

    class Halving(S.LearningRateSchedule):
        def __init__(self, rate):
            self.rate = rate

        def __call__(self, step):
            return self.rate / 2 ** step

        def get_config(self):
            return {"rate": self.rate}

    config = S.serialize(Halving(0.5))
    assert config["class_name"] == "Halving" and config["config"] == {"rate": 0.5}
    assert S.deserialize(config, custom_objects={"Halving": Halving})(2) == 0.125
    with pytest.raises(ValueError, match=r"config\['class_name'\] must be one of"):
        S.deserialize(config)
    with pytest.raises(TypeError, match="config must be a dict"):
        S.deserialize("ExponentialDecay")
    with pytest.raises(TypeError, match="learning_rate_schedule must be a LearningRateSchedule"):
        S.serialize(lambda step: 0.1)


def test_base_class_must_be_overridden():
    with pytest.raises(NotImplementedError, match="__call__"):
        S.LearningRateSchedule()(0)
    with pytest.raises(NotImplementedError, match="get_config"):
        S.LearningRateSchedule().get_config()


@pytest.mark.parametrize("make, exc, name", [
    (lambda: S.ExponentialDecay(0.1, 0, 0.5), ValueError, "decay_steps"),
    (lambda: S.ExponentialDecay(0.1, -5, 0.5), ValueError, "decay_steps"),
    (lambda: S.ExponentialDecay("0.1", 10, 0.5), TypeError, "initial_learning_rate"),
    (lambda: S.ExponentialDecay(-0.1, 10, 0.5), ValueError, "initial_learning_rate"),
    (lambda: S.ExponentialDecay(0.1, 10, math.nan), ValueError, "decay_rate"),
    (lambda: S.ExponentialDecay(0.1, 10, 0.5, staircase=1), TypeError, "staircase"),
    (lambda: S.ExponentialDecay(0.1, 10, 0.5, name=3), TypeError, "name"),
    (lambda: S.InverseTimeDecay(0.1, 0.0, 0.5), ValueError, "decay_steps"),
    (lambda: S.InverseTimeDecay(0.1, 1, None), TypeError, "decay_rate"),
    (lambda: S.PiecewiseConstantDecay([10, 20], [1.0, 0.5]), ValueError, "values"),
    (lambda: S.PiecewiseConstantDecay([20, 10], [1.0, 0.5, 0.1]), ValueError, "boundaries"),
    (lambda: S.PiecewiseConstantDecay(10, [1.0, 0.5]), TypeError, "boundaries"),
    (lambda: S.PiecewiseConstantDecay([10], [1.0, "x"]), TypeError, r"values\[1\]"),
    (lambda: S.PolynomialDecay(0.1, 0), ValueError, "decay_steps"),
    (lambda: S.PolynomialDecay(0.1, 10, end_learning_rate=-1.0), ValueError, "end_learning_rate"),
    (lambda: S.PolynomialDecay(0.1, 10, power=-1.0), ValueError, "power"),
    (lambda: S.PolynomialDecay(0.1, 10, cycle="yes"), TypeError, "cycle"),
    (lambda: S.CosineDecay(0.1, 0), ValueError, "decay_steps"),
    (lambda: S.CosineDecay(0.1, 10, alpha=-0.5), ValueError, "alpha"),
    (lambda: S.CosineDecay(0.1, 10, warmup_target="0.2"), TypeError, "warmup_target"),
    (lambda: S.CosineDecay(0.1, 10, warmup_target=0.2, warmup_steps=-1), ValueError, "warmup_steps"),
    (lambda: S.CosineDecayRestarts(0.1, 0), ValueError, "first_decay_steps"),
    (lambda: S.CosineDecayRestarts(0.1, 10, t_mul=0.0), ValueError, "t_mul"),
    (lambda: S.CosineDecayRestarts(0.1, 10, m_mul=-1.0), ValueError, "m_mul"),
])
def test_bad_arguments_name_themselves(make, exc, name):
    with pytest.raises(exc, match=f"^{name} must "):
        make()


def test_keras_namespace_exports_the_schedules():
    assert keras_namespace_schedules.ExponentialDecay is S.ExponentialDecay
    assert set(keras_namespace_schedules.__all__) == set(S.__all__)


@pytest.mark.parametrize("cls", [O.SGD, O.Adam, O.RMSprop, O.Adagrad])
def test_optimizer_calls_schedule_with_iterations(cls, rng):
    schedule = S.CosineDecay(0.05, 7, warmup_target=0.1, warmup_steps=3)
    ours = cls(learning_rate=schedule)
    by_hand = cls(learning_rate=0.0)
    p = rng.standard_normal(5)
    q = p.copy()
    for t in range(12):
        g = rng.standard_normal(5)
        by_hand.learning_rate = schedule(t)
        ours.apply([p], [g])
        by_hand.apply([q], [g.copy()])
        np.testing.assert_array_equal(p, q)
    assert ours.learning_rate is schedule


def test_optimizer_config_serializes_the_schedule_as_keras():
    schedule = S.ExponentialDecay(0.1, 100, 0.96, staircase=True)
    config = O.Adam(learning_rate=schedule).get_config()
    keras_config = keras.optimizers.Adam(learning_rate=keras.optimizers.schedules.ExponentialDecay(
        0.1, 100, 0.96, staircase=True)).get_config()
    assert config["learning_rate"] == keras_config["learning_rate"]
    again = O.Adam.from_config(config)
    assert isinstance(again.learning_rate, S.ExponentialDecay)
    assert again.learning_rate.get_config() == schedule.get_config()


def data(n=64, features=5, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, features))
    y = (x[:, :classes] + 0.3 * rng.standard_normal((n, classes))).argmax(axis=1)
    return x, y


def model(optimizer):
    m = Sequential([Dense(8, activation="relu", input_dim=5), Dense(3, activation="softmax")], seed=4)
    m.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy")
    return m


def fit_step_by_step(optimizer, rates, x, y, batch_size):
    """The same training, one fit per batch, with the learning rate of each step set by hand."""
    m = model(optimizer)
    for t, rate in enumerate(rates):
        optimizer.learning_rate = rate
        start = (t * batch_size) % len(x)
        m.fit(x[start:start + batch_size], y[start:start + batch_size], batch_size=batch_size, epochs=1,
              shuffle=False, verbose=0)
    return m


@pytest.mark.parametrize("cls", [O.SGD, O.Adam])
def test_fit_with_a_schedule_equals_hand_computed_rates(cls):
    x, y = data()
    batch_size, epochs = 16, 3
    schedule = S.PiecewiseConstantDecay([2, 5, 8], [0.2, 0.1, 0.05, 0.01])  # changes inside an epoch
    trained = model(cls(learning_rate=schedule))
    trained.fit(x, y, batch_size=batch_size, epochs=epochs, shuffle=False, verbose=0)
    steps = epochs * len(x) // batch_size
    assert trained.optimizer.iterations == steps
    # the rates by hand: PiecewiseConstantDecay is values[i] while boundaries[i-1] < step <= boundaries[i]
    rates = [0.2 if t <= 2 else 0.1 if t <= 5 else 0.05 if t <= 8 else 0.01 for t in range(steps)]
    by_hand = fit_step_by_step(cls(learning_rate=0.0), rates, x, y, batch_size)
    for a, b in zip(trained.get_weights(), by_hand.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)
