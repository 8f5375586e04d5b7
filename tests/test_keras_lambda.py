"""keras.layers.Lambda on nnfast against Keras 3 (torch backend): a Lambda before the trained layers
(scaling, slicing, `arguments`, a list of inputs) trains as Keras does (equal initial weights,
shuffle=False, 5 epochs); its output shape is inferred or taken from `output_shape` as Keras's;
one after a trained layer predicts and evaluates, but training is refused before any step, since
nnfast cannot differentiate an arbitrary function; saving one is refused; bad arguments are
refused."""
import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")
pytest.importorskip("torch")
import nnfast.keras as nk  # noqa: E402

from test_keras_parity_models import OPTIMIZERS, assert_same_training  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")


def data(n=96, features=12):
    rng = np.random.default_rng(11)
    x = rng.uniform(0, 255, (n, features)).astype(np.float32)
    return x, ((x[:, 0] + x[:, 3] - x[:, 7]) > 128).astype(np.float32)


def scaled(K):
    return K.Sequential([K.Input(shape=(12,)), K.layers.Lambda(lambda t: t / 255.0),
                         K.layers.Dense(8, activation="relu"), K.layers.Dense(1, activation="sigmoid")])


def sliced_with_arguments(K):
    inputs = K.Input(shape=(12,))
    head = K.layers.Lambda(lambda t, scale: t[:, :6] * scale, arguments={"scale": 1 / 255})(inputs)
    tail = K.layers.Lambda(lambda t: t[:, 6:] / 255.0 - 0.5, output_shape=(6,))(inputs)
    hidden = K.layers.Concatenate()([K.layers.Dense(4, activation="tanh")(head), tail])
    return K.Model(inputs, K.layers.Dense(1, activation="sigmoid")(hidden))


def two_inputs(K):
    a, b = K.Input(shape=(12,)), K.Input(shape=(12,))
    difference = K.layers.Lambda(lambda pair: (pair[0] - pair[1]) / 255.0)([a, b])
    return K.Model([a, b], K.layers.Dense(1, activation="sigmoid")(K.layers.Dense(6, activation="relu")(difference)))


MODELS = {"scaled": scaled, "sliced_with_arguments": sliced_with_arguments, "two_inputs": two_inputs}


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
@pytest.mark.parametrize("name", sorted(MODELS))
def test_a_lambda_before_the_trained_layers_trains_as_keras(name, optimizer):
    x, y = data()
    inputs = [x, x[::-1].copy()] if name == "two_inputs" else x
    ours, theirs = MODELS[name](nk), MODELS[name](keras)
    theirs.set_weights(ours.get_weights())
    histories = []
    for model, K in ((ours, nk), (theirs, keras)):
        model.compile(optimizer=OPTIMIZERS[optimizer](K), loss="binary_crossentropy", metrics=["accuracy"])
        history = model.fit(inputs, y, batch_size=16, epochs=5, shuffle=False, verbose=0).history
        histories.append({key: [float(v) for v in values] for key, values in history.items()})  # Keras: 0-d tensors
    assert_same_training(ours, theirs, histories)
    np.testing.assert_allclose(ours.predict(inputs, verbose=0), theirs.predict(inputs, verbose=0), rtol=1e-5,
                               atol=1e-6)


@pytest.mark.parametrize(("function", "output_shape", "expected"), [
    (lambda t: t[:, :3], None, (None, 3)),
    (lambda t: t.reshape(len(t), 2, 6), None, (None, 2, 6)),
    (lambda t: t.sum(axis=1, keepdims=True), None, (None, 1)),
    (lambda t: t[:, :3], (3,), (None, 3)),
    (lambda t: t[:, :3], lambda shape: (shape[0], 3), (None, 3)),
])
def test_the_output_shape_is_inferred_or_given_as_keras(function, output_shape, expected):
    for K in (nk, keras):
        inputs = K.Input(shape=(12,))
        out = K.layers.Lambda(function, output_shape=output_shape)(inputs)
        assert tuple(out.shape) == expected, K.__name__
        assert tuple(K.Model(inputs, out).output_shape) == expected, K.__name__


def test_a_lambda_after_a_trained_layer_predicts_but_training_is_refused_touching_nothing():
    x, y = data()
    model = nk.Sequential([nk.Input(shape=(12,)), nk.layers.Dense(4), nk.layers.Lambda(lambda t: t * 2.0),
                           nk.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    dense, _, last = model.layers
    want = (x @ dense.get_weights()[0] + dense.get_weights()[1]) * 2 @ last.get_weights()[0] + last.get_weights()[1]
    np.testing.assert_allclose(model.predict(x, verbose=0), want, rtol=1e-5, atol=1e-4)
    assert np.isfinite(model.evaluate(x, y, verbose=0))
    before = model.get_weights()
    for train in (lambda: model.fit(x, y, epochs=1, verbose=0), lambda: model.train_on_batch(x, y)):
        with pytest.raises(NotImplementedError, match="Lambda layer 'lambda.*' sits after a trained layer.*no "
                                                      "automatic differentiation"):
            train()
        for a, b in zip(before, model.get_weights()):
            np.testing.assert_array_equal(a, b)
    # with the layers before it frozen, no gradient is needed through it: training runs
    frozen = nk.Sequential([nk.Input(shape=(12,)), nk.layers.Dense(4, trainable=False),
                            nk.layers.Lambda(lambda t: t * 2.0), nk.layers.Dense(1)])
    frozen.compile(optimizer="sgd", loss="mse")
    start = frozen.get_weights()
    frozen.fit(x / 255, y, epochs=1, verbose=0)
    np.testing.assert_array_equal(frozen.get_weights()[0], start[0])
    assert not np.array_equal(frozen.get_weights()[2], start[2])


def test_saving_a_lambda_and_bad_arguments_are_refused(tmp_path):
    model = scaled(nk)
    with pytest.raises(NotImplementedError, match="Lambda layer 'lambda.*': its function is Python code"):
        model.to_json()
    with pytest.raises(NotImplementedError, match="Python code"):
        model.save(tmp_path / "model.keras")
    with pytest.raises(TypeError, match="function must be callable"):
        nk.layers.Lambda(3)
    with pytest.raises(TypeError, match="arguments must be a dict"):
        nk.layers.Lambda(lambda t: t, arguments=[1])
    with pytest.raises(NotImplementedError, match="mask"):
        nk.layers.Lambda(lambda t: t, mask=lambda t, m: m)
    with pytest.raises(ValueError, match="one row per sample"):
        nk.layers.Lambda(lambda t: t.sum())(nk.Input(shape=(12,)))
    assert not (tmp_path / "model.keras").exists()
