"""Keras 2's optimizer arguments, as the lecture notes spell them: ``lr`` (an alias of learning_rate,
deprecated) and ``decay`` (Keras 2's time-based decay), accepted by every optimizer.

Keras 2 (optimizer_v2 ``_decayed_lr``) computed the learning rate of each step as

    lr_t = lr / (1 + decay * iterations)

with ``iterations`` the 0-based count of steps already applied. Keras 3 rejects ``lr`` and ignores
``decay``; nnfast does what the notes' code meant.
"""
import inspect
import warnings

import keras
import numpy as np
import pytest

from nnfast import optimizers as O
from nnfast.layers import Dense
from nnfast.models import Sequential
from nnfast.optimizers import schedules as S

pytestmark = pytest.mark.filterwarnings("error")

ALL = [cls for cls in (getattr(O, name) for name in O.__all__)
       if isinstance(cls, type) and issubclass(cls, O.Optimizer) and cls is not O.Optimizer]


def keras2_rate(lr, decay, iterations):
    """Keras 2's decayed learning rate of the step taken after `iterations` steps."""
    return lr / (1.0 + decay * iterations)


def test_the_notes_sgd_as_written():
    with pytest.warns(DeprecationWarning, match="lr is deprecated.*use learning_rate"):
        opt = O.SGD(lr=0.01, momentum=0.0, decay=0.0, nesterov=False)
    assert (opt.learning_rate, opt.momentum, opt.nesterov, opt.decay) == (0.01, 0.0, False, 0.0)
    assert opt.get_config() == O.SGD(learning_rate=0.01).get_config()  # decay 0 is not listed


def test_the_notes_adam_as_written():
    with pytest.warns(DeprecationWarning, match="learning_rate"):
        opt = O.Adam(lr=0.001, beta_1=0.9, beta_2=0.999, epsilon=None, decay=0.0, amsgrad=False)
    # Keras 2's epsilon=None meant the backend epsilon, 1e-7: nnfast's keras default
    assert opt.epsilon == 1e-7 == keras.config.epsilon()
    assert opt.get_config() == O.Adam(learning_rate=0.001, epsilon=1e-7).get_config()


def test_keras3_itself_rejects_lr_and_ignores_decay():
    with pytest.raises(ValueError, match="lr"):
        keras.optimizers.SGD(lr=0.01)
    with pytest.warns(UserWarning, match="decay.* will be ignored"):
        keras.optimizers.SGD(decay=0.5)


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_every_optimizer_takes_lr_and_decay(cls):
    with pytest.warns(DeprecationWarning, match="use learning_rate"):
        opt = cls(lr=0.02, decay=0.5)
    assert opt.learning_rate == 0.02 and opt.decay == 0.5
    params = inspect.signature(cls).parameters
    assert params["lr"].kind is params["decay"].kind is inspect.Parameter.KEYWORD_ONLY
    assert list(params)[0] == "learning_rate"  # the class's own signature comes first, unchanged


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_decayed_run_follows_keras2_formula_step_by_step(cls, rng):
    lr, decay = 0.05, 0.3
    opt = cls(learning_rate=lr, decay=decay)
    by_hand = cls(learning_rate=lr)  # the same optimizer, given each step's rate by hand
    p = [rng.standard_normal((3, 4)), rng.standard_normal(4)]
    q = [a.copy() for a in p]
    for t in range(15):
        g = [rng.standard_normal(a.shape) for a in p]
        by_hand.learning_rate = keras2_rate(lr, decay, t)
        opt.apply(p, g)
        by_hand.apply(q, [a.copy() for a in g])
        for a, b in zip(p, q):
            np.testing.assert_array_equal(a, b)
    assert opt.learning_rate == lr  # the rate given, not the decayed one
    assert opt.iterations == 15


def test_decayed_sgd_is_the_formula(rng):
    lr, decay = 0.1, 0.5
    opt = O.SGD(learning_rate=lr, decay=decay)
    w = rng.standard_normal(6)
    expected = w.copy()
    for t in range(10):
        g = rng.standard_normal(6)
        opt.apply([w], [g])
        expected = expected - lr / (1.0 + decay * t) * g  # w -= lr_t * g, lr_t = lr / (1 + decay * t)
        np.testing.assert_allclose(w, expected, rtol=1e-15, atol=1e-15)


def test_lr_and_learning_rate_together_is_a_type_error():
    with pytest.raises(TypeError, match="learning_rate and lr are the same argument"):
        O.SGD(learning_rate=0.1, lr=0.1)
    with pytest.raises(TypeError, match="got learning_rate=0.1 and lr=0.2"):
        O.Adam(0.1, lr=0.2)


def test_other_unknown_arguments_are_still_type_errors():
    with pytest.raises(TypeError, match="unexpected keyword argument 'learnin_rate'"):
        O.SGD(learnin_rate=0.1)


@pytest.mark.parametrize("schedule", [S.ExponentialDecay(0.1, 10, 0.9), lambda t: 0.1])
def test_schedule_with_decay_is_a_value_error(schedule):
    with pytest.raises(ValueError, match="decay must be 0 when learning_rate is a schedule"):
        O.SGD(learning_rate=schedule, decay=0.1)
    O.SGD(learning_rate=schedule, decay=0.0)  # decay 0 is no decay
    opt = O.SGD(learning_rate=0.1, decay=0.1)
    with pytest.raises(ValueError, match="decay must be 0"):
        opt.learning_rate = schedule
    assert opt.learning_rate == 0.1


@pytest.mark.parametrize("decay, exc", [(-0.1, ValueError), (float("inf"), ValueError), (float("nan"), ValueError),
                                        ("0.1", TypeError), (True, TypeError)])
def test_bad_decay(decay, exc):
    with pytest.raises(exc, match="^decay must be"):
        O.Adam(decay=decay)


def test_decay_in_config_and_repr():
    opt = O.RMSprop(learning_rate=0.01, decay=1e-4)
    config = opt.get_config()
    assert config["decay"] == 1e-4
    again = O.RMSprop.from_config(config)
    assert again.decay == 1e-4 and again.get_config() == config
    assert "decay=0.0001" in repr(opt)
    assert opt.get_state()["config"]["decay"] == 1e-4


def test_lr_warning_points_at_the_caller():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        O.AdamW(lr=0.01)
    assert [w.filename for w in caught] == [__file__]


def model(optimizer):
    m = Sequential([Dense(8, activation="relu", input_dim=5), Dense(3, activation="softmax")], seed=4)
    m.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy")
    return m


def test_fit_with_decay_equals_hand_computed_rates():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 5))
    y = (x[:, :3] + 0.3 * rng.standard_normal((64, 3))).argmax(axis=1)
    lr, decay, batch_size, epochs = 0.1, 0.2, 16, 3
    trained = model(O.SGD(learning_rate=lr, momentum=0.9, decay=decay))
    trained.fit(x, y, batch_size=batch_size, epochs=epochs, shuffle=False, verbose=0)
    # the one-call native step and its runs evaluate the decay in C++, as InverseTimeDecay(lr, 1, decay)
    assert trained.optimizer.native_update().schedule() == ("inverse_time_decay", (lr, 1.0, decay, 0.0))

    by_hand = model(O.SGD(learning_rate=lr, momentum=0.9))
    for t in range(epochs * len(x) // batch_size):
        by_hand.optimizer.learning_rate = keras2_rate(lr, decay, t)
        start = (t * batch_size) % len(x)
        by_hand.fit(x[start:start + batch_size], y[start:start + batch_size], batch_size=batch_size,
                    epochs=1, shuffle=False, verbose=0)
    for a, b in zip(trained.get_weights(), by_hand.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)
