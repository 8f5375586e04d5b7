"""nnfast.losses against Keras 3 (torch backend): every loss class on random inputs, with and
without sample_weight, every reduction and the from_logits / label_smoothing variants, equals
Keras's value within 1e-6 relative in float32 and 1e-12 in float64 (dtype="float64" on both sides);
the functional forms return Keras's per-sample values. Every NumPy gradient is checked against
central finite differences in float64, and the model-facing value_and_grad against the kernels."""
import os

import numpy as np
import pytest

import nnfast as nf
from nnfast import _core, backends
from nnfast import losses as L

from conftest import to_numpy

os.environ.setdefault("KERAS_BACKEND", "torch")

B, C = 13, 5


def data(kind, dtype, seed=0):
    """(y_true, y_pred) of a kind of problem."""
    rng = np.random.default_rng(seed)
    if kind == "regression":
        return rng.normal(size=(B, C)).astype(dtype), rng.normal(size=(B, C)).astype(dtype)
    if kind == "positive":
        return rng.uniform(0, 3, (B, C)).astype(dtype), rng.uniform(0.1, 3, (B, C)).astype(dtype)
    if kind == "binary":
        return (rng.uniform(size=(B, C)) < 0.4).astype(dtype), rng.uniform(0.01, 0.99, (B, C)).astype(dtype)
    if kind == "logits":
        return (rng.uniform(size=(B, C)) < 0.4).astype(dtype), rng.normal(0, 3, (B, C)).astype(dtype)
    if kind == "onehot":
        p = rng.uniform(0.05, 1, (B, C))
        return np.eye(C)[rng.integers(0, C, B)].astype(dtype), (p / p.sum(1, keepdims=True)).astype(dtype)
    if kind == "onehot_logits":
        return np.eye(C)[rng.integers(0, C, B)].astype(dtype), rng.normal(0, 2, (B, C)).astype(dtype)
    if kind == "sparse":
        p = rng.uniform(0.05, 1, (B, C))
        return rng.integers(0, C, B), (p / p.sum(1, keepdims=True)).astype(dtype)
    if kind == "sparse_logits":
        return rng.integers(0, C, B), rng.normal(0, 2, (B, C)).astype(dtype)
    if kind == "distribution":
        t, p = rng.uniform(0.01, 1, (B, C)), rng.uniform(0.01, 1, (B, C))
        return (t / t.sum(1, keepdims=True)).astype(dtype), (p / p.sum(1, keepdims=True)).astype(dtype)
    raise AssertionError(kind)


# (class name, constructor kwargs, kind of data)
CASES = [
    ("MeanSquaredError", {}, "regression"), ("MeanAbsoluteError", {}, "regression"),
    ("MeanAbsolutePercentageError", {}, "regression"), ("MeanSquaredLogarithmicError", {}, "positive"),
    ("Huber", {}, "regression"), ("Huber", {"delta": 0.3}, "regression"), ("LogCosh", {}, "regression"),
    ("BinaryCrossentropy", {}, "binary"), ("BinaryCrossentropy", {"label_smoothing": 0.2}, "binary"),
    ("BinaryCrossentropy", {"from_logits": True}, "logits"),
    ("BinaryCrossentropy", {"from_logits": True, "label_smoothing": 0.1}, "logits"),
    ("BinaryCrossentropy", {"axis": 0}, "binary"),
    ("CategoricalCrossentropy", {}, "onehot"), ("CategoricalCrossentropy", {"label_smoothing": 0.2}, "onehot"),
    ("CategoricalCrossentropy", {"from_logits": True}, "onehot_logits"),
    ("CategoricalCrossentropy", {"from_logits": True, "label_smoothing": 0.1}, "onehot_logits"),
    ("CategoricalCrossentropy", {}, "positive"),  # unnormalized predictions: Keras divides by the sum
    ("SparseCategoricalCrossentropy", {}, "sparse"),
    ("SparseCategoricalCrossentropy", {"from_logits": True}, "sparse_logits"),
    ("KLDivergence", {}, "distribution"), ("Hinge", {}, "binary"), ("Hinge", {}, "regression"),
    ("SquaredHinge", {}, "logits"), ("SquaredHinge", {}, "regression"), ("CategoricalHinge", {}, "onehot"),
    ("Poisson", {}, "positive"), ("CosineSimilarity", {}, "regression"),
    ("CosineSimilarity", {"axis": 0}, "regression"),
]
IDS = [f"{name}-{kw}-{kind}" for name, kw, kind in CASES]
# Keras on torch computes in float32 even with dtype="float64" (checked: its result is a float32
# tensor), so float64 inputs are held to float32 rounding too. atol covers means near 0 of O(1)
# terms (CosineSimilarity of random vectors).
RTOL = {np.float32: 1e-6, np.float64: 1e-6}
ATOL = 1e-6  # a sum of 13 O(1) values rounded in another order


@pytest.mark.parametrize("name, kwargs, kind", CASES, ids=IDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "mean_with_sample_weight", None])
def test_every_loss_class_equals_keras(keras, name, kwargs, kind, dtype, reduction):
    y_true, y_pred = data(kind, dtype)
    weights = np.random.default_rng(1).uniform(0, 2, B).astype(dtype)
    dtype_name = np.dtype(dtype).name
    ours = getattr(L, name)(reduction=reduction, dtype=dtype_name, **kwargs)
    theirs = getattr(keras.losses, name)(reduction=reduction, dtype=dtype_name, **kwargs)
    for sample_weight in (None, weights, weights[:, None]):
        if kwargs.get("axis") == 0 and sample_weight is not None:
            continue  # per-class values: Keras would weight classes by sample weights of another length
        expected = to_numpy(theirs(y_true, y_pred, sample_weight=sample_weight))
        got = ours(y_true, y_pred, sample_weight=sample_weight)
        np.testing.assert_allclose(got, expected, rtol=RTOL[dtype], atol=ATOL)
        if reduction is not None:
            assert isinstance(got, float) and got.numpy().dtype == np.float32  # a float with Keras's numpy()


FUNCTIONS = ["mean_squared_error", "mean_absolute_error", "mean_absolute_percentage_error",
             "mean_squared_logarithmic_error", "huber", "log_cosh", "binary_crossentropy",
             "categorical_crossentropy", "sparse_categorical_crossentropy", "kl_divergence", "hinge",
             "squared_hinge", "categorical_hinge", "poisson", "cosine_similarity"]
FUNCTION_DATA = {"mean_squared_logarithmic_error": "positive", "poisson": "positive", "binary_crossentropy": "binary",
                 "categorical_crossentropy": "onehot", "sparse_categorical_crossentropy": "sparse",
                 "kl_divergence": "distribution", "categorical_hinge": "onehot"}


@pytest.mark.parametrize("name", FUNCTIONS)
def test_functional_forms_return_keras_per_sample_values(keras, name):
    y_true, y_pred = data(FUNCTION_DATA.get(name, "regression"), np.float32, seed=3)
    expected = to_numpy(getattr(keras.losses, name)(y_true, y_pred))
    got = getattr(L, name)(y_true, y_pred)
    assert got.shape == expected.shape == (B,)
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", FUNCTIONS)
def test_a_function_form_given_to_compile_is_the_loss_of_its_name(name):
    # Keras wraps loss=keras.losses.mean_squared_error in a loss named after the function; it is not
    # a custom loss (which nnfast refuses, having no automatic differentiation)
    import nnfast.keras as nk
    loss = L.get(getattr(L, name))
    assert type(loss) is L.LOSSES[name] and loss.name == name
    kind = FUNCTION_DATA.get(name, "regression")
    y, _ = data(kind, np.float32, seed=4)
    x = np.random.default_rng(4).normal(size=(B, 6)).astype(np.float32)
    activation = {"regression": "linear", "positive": "softplus", "binary": "sigmoid"}.get(kind, "softmax")
    histories = []
    for given in (getattr(nk.losses, name), name):
        nk.utils.set_random_seed(1)
        model = nk.Sequential([nk.Input((6,)), nk.layers.Dense(C, activation=activation)])
        model.compile(optimizer="adam", loss=given)
        histories.append(model.fit(x, y, batch_size=4, epochs=3, shuffle=False, verbose=0).history)
    assert histories[0] == histories[1] and list(histories[0]) == ["loss"]


def test_keras_names_and_defaults(keras):
    for name, kwargs, _ in CASES:
        ours, theirs = getattr(L, name)(**kwargs), getattr(keras.losses, name)(**kwargs)
        assert ours.name == theirs.name and ours.reduction == theirs.reduction
        config = {k: v for k, v in theirs.get_config().items() if k not in ("dtype", "fn")}
        # Keras's config of Huber and CosineSimilarity drops delta and axis; nnfast's keeps them
        assert config.items() <= ours.get_config().items()
    for name in ("mse", "MAE", "bce", "kld", "Huber", "categorical_crossentropy", "CosineSimilarity"):
        assert isinstance(L.get(name), L.Loss)
    loss = L.Huber(delta=2.5, reduction="sum")
    again = L.deserialize(L.serialize(loss))
    assert type(again) is L.Huber and again.get_config() == loss.get_config()


# ---- gradients --------------------------------------------------------------------------------

def numeric_gradient(loss, y_true, y_pred, h=1e-6):
    grad = np.empty_like(y_pred)
    for i in np.ndindex(y_pred.shape):
        up, down = y_pred.copy(), y_pred.copy()
        up[i] += h
        down[i] -= h
        grad[i] = (loss(y_true, up) - loss(y_true, down)) / (2 * h)
    return grad


@pytest.mark.parametrize("name, kwargs, kind", CASES, ids=IDS)
@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum"])
def test_numpy_gradients_match_finite_differences(name, kwargs, kind, reduction):
    y_true, y_pred = data(kind, np.float64, seed=4)
    if kind == "regression" and name in ("Hinge", "SquaredHinge"):
        y_pred = y_pred + 0.01  # keep every margin away from its kink
    loss = getattr(L, name)(reduction=reduction, dtype="float64", **kwargs)
    loss.kernel = None  # the NumPy path, even where a kernel runs this loss for the model
    out = np.empty_like(y_pred)
    value, grad = loss.value_and_grad(backends.ReferenceBackend(), y_pred, y_true, out)
    assert grad is out
    assert value == pytest.approx(loss(y_true, y_pred), rel=1e-12)
    np.testing.assert_allclose(grad, numeric_gradient(loss, y_true, y_pred), rtol=1e-6, atol=1e-8)


KERNEL_CASES = [case for case in CASES if getattr(L, case[0])(**case[1]).kernel is not None]
KERNEL_IDS = [f"{name}-{kw}-{kind}" for name, kw, kind in KERNEL_CASES]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name, kwargs, kind", KERNEL_CASES, ids=KERNEL_IDS)
def test_kernel_losses_agree_with_their_numpy_twin(name, kwargs, kind, dtype):
    """The kernel the model trains on against the NumPy functions (Keras's formulas): value and gradient."""
    y_true, y_pred = data(kind, dtype, seed=5)
    loss = getattr(L, name)(dtype=np.dtype(dtype).name, **kwargs)
    value, grad = loss.value_and_grad(backends.NativeBackend(), y_pred, y_true, np.empty_like(y_pred))
    loss.kernel = None
    twin_value, twin_grad = loss.value_and_grad(backends.NativeBackend(), y_pred, y_true, np.empty_like(y_pred))
    rtol = RTOL[dtype] * 10
    assert value == pytest.approx(twin_value, rel=rtol)
    np.testing.assert_allclose(grad, twin_grad, rtol=rtol * 10, atol=rtol * np.abs(twin_grad).max())


@pytest.mark.parametrize("name, kwargs, kind", KERNEL_CASES, ids=KERNEL_IDS)
def test_kernel_values_equal_keras_with_and_without_sample_weight(keras, name, kwargs, kind):
    """What training reports (the kernel's value; weighted_loss with sample weights) is Keras's loss."""
    y_true, y_pred = data(kind, np.float32, seed=6)
    weights = np.random.default_rng(2).uniform(0, 2, B).astype(np.float32)
    loss = getattr(L, name)(**kwargs)
    theirs = getattr(keras.losses, name)(**kwargs)
    targets = y_true.astype(np.int64) if loss.sparse else y_true
    value, _ = loss.value_and_grad(backends.NativeBackend(), y_pred, targets, np.empty_like(y_pred))
    np.testing.assert_allclose(value, to_numpy(theirs(y_true, y_pred)), rtol=RTOL[np.float32], atol=ATOL)
    param = loss.kernel_params[0] if loss.kernel_params else 0.0
    weighted = _core.weighted_loss(y_pred, targets, weights, loss.kernel, param)
    np.testing.assert_allclose(weighted, to_numpy(theirs(y_true, y_pred, sample_weight=weights)),
                               rtol=RTOL[np.float32], atol=ATOL)


def test_fusing_and_kernels_only_where_they_compute_exactly_this_loss():
    assert L.CategoricalCrossentropy().fuses_softmax and L.SparseCategoricalCrossentropy().fuses_softmax
    assert L.CategoricalCrossentropy(label_smoothing=0.1).fuses_softmax  # the fused kernel smooths too
    assert L.CategoricalCrossentropy(label_smoothing=0.1).kernel_params == (0.1,)
    assert not L.CategoricalCrossentropy(from_logits=True).fuses_softmax
    assert L.BinaryCrossentropy(from_logits=True, label_smoothing=0.2).kernel == "sigmoid_cross_entropy"
    assert L.Huber(delta=0.3).kernel_params == (0.3,)
    for other_axis in (L.BinaryCrossentropy(axis=0), L.CategoricalCrossentropy(axis=0), L.CosineSimilarity(axis=0)):
        assert other_axis.kernel is None and not other_axis.fuses_softmax
    assert L.MeanSquaredError(reduction="sum").kernel is None and L.KLDivergence(reduction="sum").kernel is None
    assert all(cls().kernel is not None for cls in L.CLASSES)  # every loss trains on a kernel by default
    assert L.get("mse").kernel == "mse" and L.get("mse").name == "mse"


def test_a_model_trains_on_every_loss():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 4))
    targets = {"regression": rng.normal(size=(40, 3)), "positive": rng.uniform(0.1, 2, (40, 3)),
               "binary": (rng.uniform(size=(40, 3)) < 0.5).astype(float),
               "onehot": np.eye(3)[rng.integers(0, 3, 40)], "sparse": rng.integers(0, 3, 40)}
    targets["distribution"] = targets["onehot"] * 0.8 + 0.2 / 3
    cases = [("Huber", "linear", "regression"), ("LogCosh", "linear", "regression"),
             ("Poisson", "sigmoid", "positive"), ("KLDivergence", "softmax", "distribution"),
             ("Hinge", "tanh", "binary"), ("CategoricalHinge", "linear", "onehot"),
             ("CosineSimilarity", "linear", "regression"), ("MeanSquaredLogarithmicError", "sigmoid", "positive"),
             ("SparseCategoricalCrossentropy", "softmax", "sparse")]
    for name, activation, kind in cases:
        model = nf.Sequential([nf.layers.Dense(8, activation="tanh", input_dim=4),
                               nf.layers.Dense(3, activation=activation)], dtype="float64", seed=0)
        model.compile(optimizer=nf.optimizers.Adam(learning_rate=0.01), loss=getattr(L, name)())
        history = model.fit(x, targets[kind], batch_size=8, epochs=20, verbose=0).history["loss"]
        assert history[-1] < history[0], name


def test_bad_arguments_name_themselves():
    with pytest.raises(ValueError, match="reduction must be one of"):
        L.MeanSquaredError(reduction="avg")
    with pytest.raises(ValueError, match=r"label_smoothing must be in \[0.0, 1.0\], got 1.5"):
        L.BinaryCrossentropy(label_smoothing=1.5)
    with pytest.raises(TypeError, match="from_logits must be True or False"):
        L.CategoricalCrossentropy(from_logits="yes")
    with pytest.raises(ValueError, match="ignore_class must be None"):
        L.SparseCategoricalCrossentropy(ignore_class=0)
    with pytest.raises(ValueError, match="loss must be a callable or one of 'mse'"):
        L.get("nope")


def test_the_keras_namespace_re_exports_the_losses():
    import nnfast.keras as nk
    assert nk.losses.MeanSquaredError is L.MeanSquaredError and nk.losses.huber is L.huber
    assert nk.losses.get("categorical_crossentropy").fuses_softmax
    assert {"Loss", "get", "serialize", "deserialize", "BinaryCrossentropy", "log_cosh"} <= set(nk.losses.__all__)
