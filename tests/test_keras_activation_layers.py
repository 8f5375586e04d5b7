"""Every Keras activation that keeps the shape, in Dense(activation=...), Activation(...) and the
ReLU / LeakyReLU / ELU layers: the gradients against torch's autograd of keras.activations itself
(kinks included), and models against Keras 3 (torch backend) with the issue's bounds: equal initial
weights, shuffle=False, 5 epochs, loss history within 1e-5 relative, weights within 1e-4."""
import functools
import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")
torch = pytest.importorskip("torch")
import nnfast.keras as nk  # noqa: E402
from nnfast import activations  # noqa: E402
from nnfast.activation_gradients import GRADIENTS, numpy_activation  # noqa: E402
from nnfast.models.native_step import layer_chain  # noqa: E402

from test_keras_parity_models import OPTIMIZERS, assert_same_training, data, train_both  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")


# every point where some activation changes its formula, and both sides of the tails
KINKS = [0.0, -0.0, 1.0, -1.0, 3.0, -3.0, 6.0, -6.0, 0.5, -0.5, 0.7, 2.5, 5.0, 20.0, 21.0, -20.0, -90.0, 90.0]

CASES = [(name, {}) for name in sorted(GRADIENTS) if name != "threshold"] + [
    ("relu", {"max_value": 5.0}), ("relu", {"max_value": 6.0}), ("relu", {"threshold": 0.5}),
    ("relu", {"negative_slope": 0.1}), ("relu", {"negative_slope": 0.1, "threshold": 0.5, "max_value": 2.5}),
    ("relu", {"negative_slope": 0.3, "max_value": 6.0}), ("relu", {"threshold": -0.5, "max_value": 1.0}),
    ("elu", {"alpha": 0.5}), ("celu", {"alpha": 2.0}), ("gelu", {"approximate": True}),
    ("leaky_relu", {"negative_slope": 0.01}), ("hard_shrink", {"threshold": 0.7}), ("soft_shrink", {"threshold": 1.0}),
    ("threshold", {"threshold": 0.5, "default_value": -1.0}), ("squareplus", {"b": 2})]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name, keywords", CASES, ids=[f"{n}-{k}" if k else n for n, k in CASES])
def test_gradient_is_torchs_autograd_of_keras_activation(name, keywords, dtype):
    rng = np.random.default_rng(len(name))
    x = np.concatenate([rng.standard_normal(198) * 4, KINKS]).astype(dtype).reshape(-1, 6)
    dy = rng.standard_normal(x.shape).astype(dtype)
    t = torch.tensor(x, requires_grad=True)
    getattr(keras.activations, name)(t, **keywords).backward(torch.tensor(dy))
    rule = numpy_activation(functools.partial(getattr(activations, name), **keywords) if keywords else name)
    y = rule.forward(x, np.empty_like(x))
    dx = rule.backward(x, y, dy, np.full_like(x, np.nan))
    assert dx.dtype == dtype
    tol = 2e-6 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(dx, t.grad.numpy(), rtol=tol, atol=tol)


def test_activations_that_change_the_shape_or_are_foreign_have_no_numpy_rule():
    assert numpy_activation("glu") is None and numpy_activation("sparsemax") is None
    assert numpy_activation(functools.partial(activations.softmax, axis=0)) is None
    assert numpy_activation(lambda x: x) is None
    for identifier in ("glu", "sparsemax", lambda x: 2 * x):
        with pytest.raises(NotImplementedError, match="activation=.* is not supported by nnfast's layers"):
            nk.layers.Dense(3, activation=identifier)
        with pytest.raises(NotImplementedError, match="not supported by nnfast's layers"):
            nk.layers.Activation(identifier)


def dense_activations(name):
    def build(K):
        return K.Sequential([K.Input(shape=(12,)), K.layers.Dense(16, activation=name),
                             K.layers.Dense(8), K.layers.Activation(name), K.layers.Dense(3, activation="softmax")])
    return build


# the ones real programs use most, and one of each family (kinks, exponentials, erf, composites);
# "exponential" as a hidden activation overflows within these 5 epochs in either library
MODEL_ACTIVATIONS = ["elu", "selu", "gelu", "swish", "softplus", "relu6", "hard_sigmoid", "mish", "softsign",
                     "log_sigmoid"]


@pytest.mark.parametrize("name", MODEL_ACTIVATIONS)
def test_models_with_numpy_activations_train_as_keras(name):
    x, y = data()
    assert_same_training(*train_both(dense_activations(name), x, y, OPTIMIZERS["adam"]))


def relu_layers(K):
    return K.Sequential([K.Input(shape=(12,)), K.layers.Dense(16), K.layers.ReLU(max_value=1.0),
                         K.layers.Dense(16), K.layers.ReLU(negative_slope=0.1, threshold=0.2),
                         K.layers.Dense(8), K.layers.ELU(alpha=0.7), K.layers.Dense(8), K.layers.LeakyReLU(),
                         K.layers.Dense(3, activation="softmax")])


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_relu_with_arguments_elu_and_leaky_layers_train_as_keras(optimizer):
    x, y = data()
    assert_same_training(*train_both(relu_layers, x, y, OPTIMIZERS[optimizer]))


def test_a_functional_model_with_a_numpy_activation_trains_as_keras():
    def model(K):
        a = K.Input(shape=(12,))
        h = K.layers.Dense(8, activation="gelu")(a)
        g = K.layers.Dense(8, activation="elu")(a)
        return K.Model(a, K.layers.Dense(3, activation="softmax")(K.layers.Concatenate()([h, g])))
    x, y = data()
    assert_same_training(*train_both(model, x, y, OPTIMIZERS["sgd"]))


def test_relu_layer_arguments_follow_keras():
    for K in (nk, keras):
        for bad in ({"max_value": -1.0}, {"negative_slope": -0.1}, {"threshold": -1.0}):
            with pytest.raises(ValueError, match="cannot be|must be >= 0"):
                K.layers.ReLU(**bad)
    ours = nk.layers.ReLU(max_value=6.0, negative_slope=0.1, threshold=0.5, name="r")
    theirs = keras.layers.ReLU(max_value=6.0, negative_slope=0.1, threshold=0.5, name="r")
    for key in ("max_value", "negative_slope", "threshold"):
        assert ours.get_config()[key] == theirs.get_config()[key]
    assert nk.layers.ELU(alpha=0.5).get_config()["alpha"] == keras.layers.ELU(alpha=0.5).get_config()["alpha"]
    assert type(nk.layers.ReLU.from_config(ours.get_config())).__name__ == "ReLU"


def test_the_kernels_keep_what_they_compute_and_numpy_activations_leave_the_native_step():
    assert nk.layers.ReLU().numpy_activation is None and nk.layers.ReLU().activation == "relu"
    assert nk.layers.ReLU(negative_slope=0.2).activation == "leaky_relu"
    assert nk.layers.LeakyReLU(0.2).numpy_activation is None
    assert nk.layers.ReLU(max_value=6).numpy_activation.name == "relu"
    native = nk.Sequential([nk.Input(shape=(4,)), nk.layers.Dense(3, activation="relu"), nk.layers.ReLU()])
    numpy_one = nk.Sequential([nk.Input(shape=(4,)), nk.layers.Dense(3, activation="elu"), nk.layers.ReLU()])
    assert layer_chain(native.layers) is not None
    assert layer_chain(numpy_one.layers) is None


def test_configs_keep_the_activation_name_and_refuse_what_they_cannot_keep():
    model = nk.Sequential([nk.Input(shape=(4,)), nk.layers.Dense(3, activation="swish"),
                           nk.layers.Activation(nk.activations.gelu)])
    rebuilt = nk.models.model_from_json(model.to_json())  # before anything built `model` on its keras.Input
    assert len(rebuilt.get_weights()) == 2  # the Input's shape was kept: the rebuilt model has its weights
    assert [layer.get_config().get("activation") for layer in rebuilt.layers] == ["silu", "gelu"]
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    rebuilt.set_weights(model.get_weights())
    np.testing.assert_array_equal(rebuilt.predict(x, verbose=0), model.predict(x, verbose=0))
    layer = nk.layers.Dense(3, activation=functools.partial(activations.elu, alpha=0.3))
    with pytest.raises(TypeError, match="cannot be saved in a config"):
        layer.get_config()
