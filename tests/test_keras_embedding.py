"""Embedding and Dot against Keras 3 (torch backend): training parity (equal initial weights,
shuffle=False, 5 epochs; loss within 1e-5 relative, weights within 1e-4), Dot's gradients against
torch's autograd of Keras's own layer, the index rules (truncation, negative indices, refusal of
out-of-range ones before anything changes), Keras's input-rank adjustment, and saving."""
import os
import warnings

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")
torch = pytest.importorskip("torch")
import nnfast.keras as nk  # noqa: E402
from nnfast import backends  # noqa: E402

from test_keras_parity_models import (  # noqa: E402
    OPTIMIZERS, assert_continues_after_save_and_load, assert_same_training)

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")


def train_both(build, x, y, optimizer, loss):
    ours, theirs = build(nk), build(keras)
    theirs.set_weights(ours.get_weights())
    histories = []
    for model, K in ((ours, nk), (theirs, keras)):
        model.compile(optimizer=optimizer(K), loss=loss, metrics=["accuracy"])
        histories.append(model.fit(x, y, batch_size=16, epochs=5, shuffle=False, verbose=0).history)
    return ours, theirs, histories


def recommender(normalize, flattened):
    """User and item embeddings joined by Dot: over axis 1 of flattened vectors, or axis 2 of the
    (batch, 1, k) embeddings themselves, then a Dense on the score."""
    def build(K):
        users, items = K.Input(shape=(1,)), K.Input(shape=(1,))
        u, i = K.layers.Embedding(20, 6)(users), K.layers.Embedding(30, 6)(items)
        if flattened:
            score = K.layers.Dot(axes=1, normalize=normalize)([K.layers.Flatten()(u), K.layers.Flatten()(i)])
        else:
            score = K.layers.Flatten()(K.layers.Dot(axes=2, normalize=normalize)([u, i]))
        return K.Model([users, items], K.layers.Dense(1)(score))
    return build


def ratings(n=96, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 20, n), rng.integers(0, 30, n)], rng.standard_normal(n).astype(np.float32)


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
@pytest.mark.parametrize("normalize", [False, True])
@pytest.mark.parametrize("flattened", [True, False])
def test_a_dot_recommender_trains_as_keras(normalize, flattened, optimizer):
    x, y = ratings()  # 1-D id arrays for Input(shape=(1,)): Keras adds the missing axis, and so must we
    ours, theirs, histories = train_both(recommender(normalize, flattened), x, y, OPTIMIZERS[optimizer], "mse")
    assert_same_training(ours, theirs, histories)


def categorical_mlp(K):
    """An embedded sequence of 3 categorical codes, flattened beside numeric features; the embeddings
    with an L2 penalty and a max-norm constraint."""
    codes, numeric = K.Input(shape=(3,)), K.Input(shape=(4,))
    embedded = K.layers.Embedding(15, 4, embeddings_regularizer=K.regularizers.L2(0.01),
                                  embeddings_constraint=K.constraints.MaxNorm(0.2))(codes)
    joined = K.layers.Concatenate()([K.layers.Flatten()(embedded), numeric])
    hidden = K.layers.Dense(10, activation="relu")(joined)
    return K.Model([codes, numeric], K.layers.Dense(3, activation="softmax")(hidden))


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_embedded_categories_beside_numeric_features_train_as_keras(optimizer):
    rng = np.random.default_rng(1)
    x = [rng.integers(0, 15, (96, 3)), rng.standard_normal((96, 4)).astype(np.float32)]
    y = rng.integers(0, 3, 96)
    ours, theirs, histories = train_both(categorical_mlp, x, y, OPTIMIZERS[optimizer],
                                         "sparse_categorical_crossentropy")
    assert_same_training(ours, theirs, histories)
    norms = np.linalg.norm(ours.get_weights()[0], axis=0)
    assert norms.max() <= 0.2 + 1e-6  # MaxNorm held the embeddings (axis 0, Keras's default)


@pytest.mark.parametrize("shapes, axes", [
    (((5,), (5,)), 1), (((5,), (5,)), -1), (((3, 4), (2, 4)), 2), (((3, 4), (3, 2)), 1), (((3, 4), (4,)), (2, 1)),
    (((4,), (2, 4)), (1, 2)), (((2, 3), (3, 2)), (2, 1))])
@pytest.mark.parametrize("normalize", [False, True])
def test_dot_gradients_are_torchs(shapes, axes, normalize):
    rng = np.random.default_rng(4)
    xs = [rng.standard_normal((6,) + s).astype(np.float32) for s in shapes]
    if normalize:
        xs[0][0] = 0.0  # a zero vector: normalize's bound 1/epsilon takes over
    theirs = keras.layers.Dot(axes=axes, normalize=normalize)
    ts = [torch.tensor(x, requires_grad=True) for x in xs]
    out = theirs(ts)
    dy = rng.standard_normal(tuple(out.shape)).astype(np.float32)
    out.backward(torch.tensor(dy))
    ours = nk.layers.Dot(axes=axes, normalize=normalize)
    assert ours.build(list(shapes)) == tuple(out.shape[1:])
    y = ours.forward(backends.get("native"), xs, True)
    grads = ours.backward(backends.get("native"), dy, True)
    np.testing.assert_allclose(y, out.detach().numpy(), rtol=1e-5, atol=1e-6)
    for g, t in zip(grads, ts):
        np.testing.assert_allclose(g, t.grad.numpy(), rtol=1e-4, atol=1e-5 * max(1.0, float(t.grad.abs().max())))


def test_dot_refuses_what_keras_refuses():
    with pytest.raises(ValueError, match="incompatible"):
        nk.layers.Dot(axes=1)([nk.Input(shape=(3,)), nk.Input(shape=(4,))])
    with pytest.raises(ValueError, match="2 inputs"):
        nk.layers.Dot(axes=1)([nk.Input(shape=(3,))] * 3)
    with pytest.raises(ValueError, match="non-batch axis"):
        nk.layers.Dot(axes=0)([nk.Input(shape=(3,)), nk.Input(shape=(3,))])
    with pytest.raises(ValueError, match="pair"):
        nk.layers.Dot(axes=(1, 1, 1))
    a, b = nk.Input(shape=(3,)), nk.Input(shape=(3,))
    assert nk.layers.dot([a, b], axes=1).sample_shape == (1,)


def test_embedding_looks_up_rows_as_keras_with_truncated_and_negative_indices():
    table = np.arange(24, dtype=np.float32).reshape(6, 4)
    indices = np.array([[0.0, 5.0, -1.0], [2.9, -6.0, 1.2]], np.float32)  # 2.9 -> 2; -1 -> 5; -6 -> 0
    ours = nk.Sequential([nk.Input(shape=(3,)), nk.layers.Embedding(6, 4)])
    ours.set_weights([table])
    theirs = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Embedding(6, 4)])
    theirs.set_weights([table])
    np.testing.assert_array_equal(ours.predict(indices, verbose=0), theirs.predict(indices, verbose=0))
    np.testing.assert_array_equal(ours.predict(indices, verbose=0)[1, 0], table[2])


def test_an_out_of_range_index_is_refused_before_any_step():
    rng = np.random.default_rng(2)
    model = nk.Sequential([nk.Input(shape=(2,)), nk.layers.Embedding(10, 3), nk.layers.Flatten(),
                           nk.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    x, y = rng.integers(0, 10, (64, 2)), rng.standard_normal(64)
    before = model.get_weights()
    for bad in (10, -11):
        x_bad = x.copy()
        x_bad[-1, 1] = bad  # the last batch's: a check in the layer alone would come after updates
        with pytest.raises(ValueError, match=r"indices outside \[-10, 10\).*embedding"):
            model.fit(x_bad, y, batch_size=8, epochs=1, verbose=0)
        for a, b in zip(before, model.get_weights()):
            np.testing.assert_array_equal(a, b)
        with pytest.raises(ValueError, match="indices outside"):
            model.predict(x_bad, verbose=0)
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)  # in range: trains
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


def test_keras_rank_adjustment_of_inputs():
    model = nk.Sequential([nk.Input(shape=(1,)), nk.layers.Embedding(5, 2), nk.layers.Flatten(),
                           nk.layers.Dense(1)])
    ids = np.array([0, 3, 4, 1])
    np.testing.assert_array_equal(model.predict(ids, verbose=0), model.predict(ids[:, None], verbose=0))
    dense = nk.Sequential([nk.Input(shape=(3,)), nk.layers.Dense(1)])
    rows = np.ones((4, 3))
    np.testing.assert_array_equal(dense.predict(rows[:, :, None], verbose=0), dense.predict(rows, verbose=0))
    with pytest.raises(ValueError, match="2-D"):
        dense.predict(np.ones(4), verbose=0)  # Keras refuses it too: the missing axis is not of size 1


def test_embedding_arguments_follow_keras():
    table = np.random.default_rng(0).standard_normal((7, 2)).astype(np.float32)
    given = nk.Sequential([nk.Input(shape=(1,)), nk.layers.Embedding(7, 2, weights=[table], trainable=False)])
    np.testing.assert_array_equal(given.get_weights()[0], table)
    assert not given.trainable_weights and given.count_params() == 14
    with pytest.raises(ValueError, match=r"shape \(7, 3\)"):
        nk.layers.Embedding(7, 3, weights=[table])
    with pytest.raises(NotImplementedError, match="mask_zero"):
        nk.layers.Embedding(7, 2, mask_zero=True)
    with pytest.raises(NotImplementedError, match="lora_rank"):
        nk.layers.Embedding(7, 2, lora_rank=4)
    for bad in (0, 2.5, True):
        with pytest.raises((TypeError, ValueError), match="input_dim"):
            nk.layers.Embedding(bad, 2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        nk.layers.Embedding(7, 2, input_length=5)
    assert any("input_length" in str(w.message) for w in caught)
    ours = nk.layers.Embedding(7, 2, embeddings_initializer="uniform")
    model = nk.Sequential([nk.Input(shape=(4,)), ours])
    assert model.output_shape == (None, 4, 2) == keras.Sequential(
        [keras.Input(shape=(4,)), keras.layers.Embedding(7, 2)]).output_shape
    assert np.abs(model.get_weights()[0]).max() <= 0.05  # Keras's "uniform": U(-0.05, 0.05)


def test_models_with_embeddings_and_dot_save_and_continue_identically(tmp_path):
    x, y = ratings()
    model = recommender(True, True)(nk)
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, y, epochs=2, verbose=0, shuffle=False)
    assert_continues_after_save_and_load(model, x, y, tmp_path / "m.keras")
    rebuilt = nk.models.model_from_json(model.to_json())
    assert rebuilt.count_params() == model.count_params()
    assert [type(layer).__name__ for layer in rebuilt.layers] == [type(layer).__name__ for layer in model.layers]
