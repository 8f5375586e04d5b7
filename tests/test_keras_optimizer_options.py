"""The optimizer arguments and calls Keras 3 programs use beyond the hyperparameters, against Keras 3
itself (torch backend): a learning rate given as a callable of no arguments, the base options
(use_ema, loss_scale_factor, gradient_accumulation_steps, ...), keras.optimizers.get of a
serialized dict, and exclude_from_weight_decay."""
import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")
import nnfast.keras as nk  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")


def regression(n=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 5)).astype(np.float32)
    return x, (x @ rng.standard_normal((5, 1))).astype(np.float32)


def histories(make_optimizer, epochs=3):
    """Loss histories of one small regression in nnfast.keras and in Keras, from equal weights."""
    x, y = regression()
    np.random.seed(0)  # the same initial weights in every call (nnfast draws them from NumPy's global state)
    models = [K.Sequential([K.Input((5,)), K.layers.Dense(4, activation="tanh"), K.layers.Dense(1)])
              for K in (nk, keras)]
    models[1].set_weights(models[0].get_weights())
    out = []
    for K, model in zip((nk, keras), models):
        model.compile(optimizer=make_optimizer(K), loss="mse")
        out.append(model.fit(x, y, batch_size=16, epochs=epochs, shuffle=False, verbose=0).history["loss"])
    return out


def test_a_learning_rate_callable_of_no_arguments_is_called_as_keras_calls_it():
    ours, theirs = histories(lambda K: K.optimizers.SGD(learning_rate=lambda: 0.02))
    np.testing.assert_allclose(ours, theirs, rtol=1e-5)
    constant, _ = histories(lambda K: K.optimizers.SGD(learning_rate=0.02))
    assert ours == constant


def test_nnfast_schedules_of_the_step_still_get_the_step():
    seen = []
    x, y = regression()
    model = nk.Sequential([nk.Input((5,)), nk.layers.Dense(1)])
    model.compile(optimizer=nk.optimizers.SGD(learning_rate=lambda step: seen.append(step) or 0.02), loss="mse")
    model.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
    assert seen == [0, 1, 2, 3]  # 64 samples in batches of 16


@pytest.mark.parametrize("options", [dict(use_ema=False, ema_momentum=0.9, ema_overwrite_frequency=None),
                                     dict(loss_scale_factor=None, gradient_accumulation_steps=None)])
def test_keras3_base_options_at_their_defaults_change_nothing(options):
    ours, theirs = histories(lambda K: K.optimizers.Adam(0.01, **options))
    np.testing.assert_allclose(ours, theirs, rtol=1e-5)
    plain, _ = histories(lambda K: K.optimizers.Adam(0.01))
    assert ours == plain


@pytest.mark.parametrize("option, value", [("use_ema", True), ("loss_scale_factor", 128.0),
                                           ("gradient_accumulation_steps", 4)])
def test_keras3_base_options_that_would_act_are_refused_by_name(option, value):
    keras.optimizers.Adam(**{option: value})  # Keras takes it
    with pytest.raises(NotImplementedError, match=f"{option}={value!r}.*not supported by nnfast"):
        nk.optimizers.Adam(**{option: value})
    with pytest.raises(NotImplementedError, match=option):
        nk.optimizers.SGD(**{option: value})


@pytest.mark.parametrize("make", [lambda K: K.optimizers.SGD(learning_rate=0.05, momentum=0.9, nesterov=True),
                                  lambda K: K.optimizers.Adam(learning_rate=0.003, beta_1=0.8, amsgrad=True),
                                  lambda K: K.optimizers.RMSprop(learning_rate=0.002, rho=0.8)])
def test_get_of_a_keras_serialized_optimizer_builds_it(make):
    config = keras.optimizers.serialize(make(keras))
    ours = nk.optimizers.get(config)
    assert type(ours) is type(make(nk))
    theirs = keras.optimizers.get(config).get_config()
    for key, value in ours.get_config().items():
        if key in theirs and key not in ("name", "weight_decay") and not isinstance(value, str):
            assert value == pytest.approx(theirs[key]), key
    a, b = histories(lambda K: K.optimizers.get(keras.optimizers.serialize(make(keras))) if K is nk
                     else keras.optimizers.get(config))
    np.testing.assert_allclose(a, b, rtol=1e-5)


def test_exclude_from_weight_decay_is_refused_only_where_it_would_act():
    nk.optimizers.Adam().exclude_from_weight_decay(var_names=["bias"])  # no decay: nothing to exclude
    nk.optimizers.AdamW().exclude_from_weight_decay()  # nothing named
    with pytest.raises(NotImplementedError, match="exclude_from_weight_decay"):
        nk.optimizers.AdamW(weight_decay=0.01).exclude_from_weight_decay(var_names=["bias", "gamma"])


def test_iterations_reads_as_keras_variable_does():
    # a callback logging optimizer.iterations.numpy(), as custom-loop and logging code reads it
    x, y = regression()
    read = []
    for K in (nk, keras):
        model = K.Sequential([K.Input((5,)), K.layers.Dense(1)])
        model.compile(optimizer=K.optimizers.Adam(0.01), loss="mse")
        steps = []
        model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0, callbacks=[K.callbacks.LambdaCallback(
            on_epoch_end=lambda epoch, logs, steps=steps, model=model: steps.append(model.optimizer.iterations.numpy()))])
        read.append(steps)
        assert int(model.optimizer.iterations) == 8
    assert [(a.dtype, a.shape, int(a)) for a in read[0]] == [(a.dtype, a.shape, int(a)) for a in read[1]]
    assert [int(a) for a in read[0]] == [4, 8]
