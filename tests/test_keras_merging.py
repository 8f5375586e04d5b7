"""The merging layers (Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate) and their
functional forms (add, subtract, ...) against Keras 3 (torch backend): functional models trained
5 epochs from equal weights (loss history within 1e-5 relative, weights within 1e-4), and the
gradients of each merge against torch's autograd of Keras's layer, ties of Maximum / Minimum
included (torch splits a tie's gradient in halves)."""
import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")
torch = pytest.importorskip("torch")
import nnfast.keras as nk  # noqa: E402
from nnfast import backends  # noqa: E402

from test_keras_parity_models import OPTIMIZERS, assert_same_training, data, train_both  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")

MERGES = ["Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum"]


@pytest.mark.parametrize("inputs", [2, 3])
@pytest.mark.parametrize("name", MERGES)
def test_merge_forward_and_gradients_are_keras_and_torchs(name, inputs):
    if name == "Subtract" and inputs == 3:
        for K in (nk, keras):
            a = [K.Input(shape=(4,)) for _ in range(3)]
            with pytest.raises(ValueError, match="exactly 2 inputs"):
                K.layers.Subtract()(a)
        return
    rng = np.random.default_rng(inputs)
    xs = [rng.standard_normal((9, 5)).astype(np.float32) for _ in range(inputs)]
    xs[1][:, :2] = xs[0][:, :2]  # ties: a column pair equal, and zeros on every input
    for x in xs:
        x[0] = 0.0
    dy = rng.standard_normal((9, 5)).astype(np.float32)
    tensors = [torch.tensor(x, requires_grad=True) for x in xs]
    expected = getattr(keras.layers, name)()(tensors)
    expected.backward(torch.tensor(dy))
    layer = getattr(nk.layers, name)()
    layer.build([(5,)] * inputs)
    got = layer.forward(backends.get("native"), xs, True)
    np.testing.assert_allclose(got, expected.detach().numpy(), rtol=1e-6, atol=1e-7)
    grads = layer.backward(backends.get("native"), dy, True)
    for g, t in zip(grads, tensors):
        np.testing.assert_allclose(g, t.grad.numpy(), rtol=1e-6, atol=1e-7)


def merged(name, functional=False):
    def build(K):
        a, b = K.Input(shape=(7,), name="a"), K.Input(shape=(5,), name="b")
        ha = K.layers.Dense(8, activation="relu")(a)  # relu outputs tie at 0 in Maximum / Minimum
        hb = K.layers.Dense(8, activation="relu")(b)
        hc = K.layers.Dense(8, activation="tanh")(a)
        parts = [ha, hb] if name == "Subtract" else [ha, hb, hc]
        if functional:
            joined = getattr(K.layers, name.lower())(parts)
        else:
            joined = getattr(K.layers, name)()(parts)
        return K.Model([a, b], K.layers.Dense(3, activation="softmax")(joined))
    return build


@pytest.mark.parametrize("name", MERGES)
def test_models_with_merges_train_as_keras(name):
    x, y = data()
    assert_same_training(*train_both(merged(name), [x[:, :7], x[:, 7:]], y, OPTIMIZERS["adam"]))


@pytest.mark.parametrize("name", MERGES + ["Concatenate"])
def test_functional_forms_build_the_layer_as_keras(name):
    x, y = data()
    ours, theirs, histories = train_both(merged(name, functional=True), [x[:, :7], x[:, 7:]], y,
                                         OPTIMIZERS["sgd"])
    assert_same_training(ours, theirs, histories)
    assert [type(layer).__name__ for layer in ours.layers] == [type(layer).__name__ for layer in theirs.layers]
    assert nk.models.model_from_json(ours.to_json()).count_params() == ours.count_params()


def test_merges_need_inputs_of_one_shape():
    a, b = nk.Input(shape=(4,)), nk.Input(shape=(3,))
    for name in MERGES:
        with pytest.raises(ValueError, match="needs inputs of one shape|exactly 2 inputs"):
            getattr(nk.layers, name)()([a, b])
