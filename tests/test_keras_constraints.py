"""keras.constraints on nnfast: MaxNorm, MinMaxNorm, NonNeg and UnitNorm against Keras 3's own
objects on the same weights, and Dense(kernel_constraint=..., bias_constraint=...) and Dense's
kernel and bias regularizers trained against Keras 3 (torch backend) from equal weights (loss
within 1e-5 relative, weights within 1e-4)."""
import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")
import nnfast.keras as nk  # noqa: E402

from test_keras_parity_models import OPTIMIZERS, assert_same_training, data, train_both  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")

CONSTRAINTS = [("MaxNorm", {}), ("MaxNorm", {"max_value": 0.5, "axis": 1}), ("MinMaxNorm", {}),
               ("MinMaxNorm", {"min_value": 0.5, "max_value": 0.8, "rate": 0.7}), ("NonNeg", {}),
               ("UnitNorm", {}), ("UnitNorm", {"axis": 1})]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name, kwargs", CONSTRAINTS, ids=[f"{n}-{k}" for n, k in CONSTRAINTS])
def test_constraints_project_as_keras(name, kwargs, dtype):
    w = np.random.default_rng(1).standard_normal((9, 5)).astype(dtype)
    w[:, 0] *= 0.01  # a column well inside the ball, others outside
    ours = getattr(nk.constraints, name)(**kwargs)(w)
    theirs = keras.ops.convert_to_numpy(getattr(keras.constraints, name)(**kwargs)(keras.ops.convert_to_tensor(w)))
    assert ours.dtype == dtype
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-7)
    assert nk.constraints.get(name).get_config() == getattr(keras.constraints, name)().get_config()
    snake = {"MaxNorm": "max_norm", "MinMaxNorm": "min_max_norm", "NonNeg": "non_neg", "UnitNorm": "unit_norm"}[name]
    assert type(nk.constraints.get(snake)).__name__ == name


def constrained(K):
    return K.Sequential([K.Input(shape=(12,)),
                         K.layers.Dense(16, activation="relu", kernel_constraint=K.constraints.MaxNorm(0.6),
                                        bias_constraint="non_neg"),
                         K.layers.Dense(8, activation="tanh", kernel_constraint=K.constraints.UnitNorm()),
                         K.layers.Dense(3, activation="softmax",
                                        kernel_constraint=K.constraints.MinMaxNorm(0.2, 0.9, rate=0.5))])


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_constrained_dense_layers_train_as_keras(optimizer):
    x, y = data()
    ours, theirs, histories = train_both(constrained, x, y, OPTIMIZERS[optimizer])
    assert_same_training(ours, theirs, histories)
    kernel, bias = ours.layers[0].get_weights()
    assert np.sqrt((kernel**2).sum(axis=0)).max() <= 0.6 + 1e-6 and bias.min() >= 0.0
    np.testing.assert_allclose(np.sqrt((ours.layers[1].get_weights()[0] ** 2).sum(axis=0)), 1.0, rtol=1e-5)


def test_train_on_batch_applies_constraints_and_configs_keep_them():
    x, y = data()
    model = constrained(nk)
    model.compile(optimizer=nk.optimizers.SGD(5.0), loss="sparse_categorical_crossentropy")
    model.train_on_batch(x, y)  # a large step: the projection must bring the norms back
    assert np.sqrt((model.layers[0].get_weights()[0] ** 2).sum(axis=0)).max() <= 0.6 + 1e-6
    rebuilt = nk.models.model_from_json(model.to_json())
    config = rebuilt.layers[0].get_config()
    assert config["kernel_constraint"] == {"class_name": "MaxNorm", "config": {"max_value": 0.6, "axis": 0}}
    assert config["bias_constraint"] == {"class_name": "NonNeg", "config": {}}


def regularized(K):
    return K.Sequential([K.Input(shape=(12,)),
                         K.layers.Dense(16, activation="relu", kernel_regularizer=K.regularizers.L2(0.01),
                                        bias_regularizer=K.regularizers.L1(0.02)),
                         K.layers.Dense(3, activation="softmax", bias_regularizer="l2")])


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_kernel_and_bias_regularizers_train_as_keras(optimizer):
    x, y = data()
    ours, theirs, histories = train_both(regularized, x, y, OPTIMIZERS[optimizer])
    assert_same_training(ours, theirs, histories)  # the losses include the penalties in both
    assert ours.layers[0].get_config()["bias_regularizer"] == {"class_name": "L1", "config": {"l1": 0.02}}


def activity_regularized(K):
    return K.Sequential([K.Input(shape=(12,)),
                         K.layers.Dense(16, activation="relu", activity_regularizer=K.regularizers.L1(0.01)),
                         K.layers.ActivityRegularization(l1=0.001, l2=0.01),
                         K.layers.Dense(8, activation="tanh", activity_regularizer="l2", trainable=False),
                         K.layers.Dense(3, activation="softmax")])


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_activity_regularizers_train_and_evaluate_as_keras(optimizer):
    x, y = data()
    ours, theirs, histories = train_both(activity_regularized, x, y, OPTIMIZERS[optimizer])
    assert_same_training(ours, theirs, histories)  # each penalty divided by the batch size, as Keras 3
    np.testing.assert_allclose(ours.evaluate(x, y, verbose=0), theirs.evaluate(x, y, verbose=0), rtol=1e-5)
    assert ours.layers[1].get_config()["l2"] == theirs.layers[1].get_config()["l2"] == 0.01
    assert ours.layers[0].get_config()["activity_regularizer"] == {"class_name": "L1", "config": {"l1": 0.01}}


def test_a_constraint_axis_the_weight_lacks_is_refused_when_the_layer_is_made():
    for bad in (nk.constraints.MaxNorm(axis=2), nk.constraints.UnitNorm(axis=(0, 3)), nk.constraints.MaxNorm(axis="0")):
        with pytest.raises((ValueError, TypeError), match="kernel_constraint.axis"):
            nk.layers.Dense(3, kernel_constraint=bad)
    with pytest.raises(ValueError, match="bias_constraint.axis must be <= 0"):
        nk.layers.Dense(3, bias_constraint=nk.constraints.MaxNorm(axis=1))
    assert nk.layers.Dense(3, kernel_constraint=nk.constraints.MaxNorm(axis=-1)).kernel_constraint.axis == -1


def test_a_regularizer_without_a_gradient_is_refused_when_the_layer_is_made():
    def penalty(w):
        return 0.1 * np.sum(w**2)
    for argument in ("kernel_regularizer", "bias_regularizer", "activity_regularizer"):
        with pytest.raises(TypeError, match=f"{argument} must be an nnfast regularizer"):
            nk.layers.Dense(3, **{argument: penalty})
    assert nk.layers.Dense(3, kernel_regularizer=nk.regularizers.L2(0.1)).kernel_regularizer.l2 == 0.1
