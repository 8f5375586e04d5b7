"""nnfast.sklearn's native epochs: the one-call step's L2 penalty (scikit-learn's alpha term) and
whole epochs run natively against the same epochs run step by step from Python over the same
kernels (re-run at every ISA level by test_isa_levels)."""
import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")
from sklearn.datasets import load_digits  # noqa: E402

from nnfast import _core  # noqa: E402
from nnfast.models.native_step import NativeLayerPlan  # noqa: E402
from nnfast.sklearn import MLPClassifier  # noqa: E402
from nnfast.sklearn.network import Network  # noqa: E402

from conftest import num_threads  # noqa: E402


def digits(dtype):
    X, y = load_digits(return_X_y=True)
    return (X / 16.0).astype(dtype), y


def fit(native, dtype, **params):
    X, y = digits(dtype)
    est = MLPClassifier(hidden_layer_sizes=(24, 11), max_iter=4, batch_size=64, random_state=0, **params)
    est.native_epochs = native
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # max_iter reached
        return est.fit(X, y)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("params", [dict(solver="adam", alpha=1e-2), dict(solver="sgd", alpha=0.0),
                                    dict(solver="sgd", momentum=0.0, activation="tanh", shuffle=False)],
                         ids=["adam", "sgd", "plain-sgd"])
def test_native_epochs_follow_the_python_loop(dtype, params):
    python, native = fit(False, dtype, **params), fit(True, dtype, **params)
    rtol = 1e-4 if dtype == np.float32 else 1e-10
    for a, b in zip(python.coefs_ + python.intercepts_, native.coefs_ + native.intercepts_):
        np.testing.assert_allclose(b, a, rtol=rtol, atol=rtol * np.abs(a).max())
    np.testing.assert_allclose(native.loss_curve_, python.loss_curve_, rtol=rtol)
    assert native.n_iter_ == python.n_iter_ and native.t_ == python.t_
    assert native._optimizer.t == python._optimizer.t == 4 * 29
    with num_threads(2):
        twice = fit(True, dtype, **params)
    for a, b in zip(native.coefs_, twice.coefs_):
        assert np.array_equal(a, b)


def step_with_l2(l2, dtype=np.float64, batch=5):
    rng = np.random.default_rng(3)
    net = Network([4, 3], "relu", "softmax", dtype)
    net.params[...] = rng.standard_normal(net.params.size)
    acts, dxs, delta = net.batch_buffers(batch)
    plan = NativeLayerPlan("dense", acts[0], None, "linear", kernel=net.coefs[0], bias=net.intercepts[0],
                           kernel_grad=net.coef_grads[0], bias_grad=net.intercept_grads[0], l2=l2)
    velocity = np.zeros_like(net.params)
    step = _core.DenseStackStep([plan], delta, "softmax_cross_entropy", "sgd_update",
                                dict(momentum=0.0, convention="keras", learning_rate=0.0, step=1), [net.params],
                                [net.grads], (None,))
    return net, step, rng.standard_normal((batch, 4)).astype(dtype), rng.integers(0, 3, batch), velocity


def test_the_one_call_step_adds_the_l2_penalty_to_loss_and_gradient():
    net, step, x, labels, _ = step_with_l2(0.0)
    before = net.params.copy()
    plain = step.run(x, labels, 0.5, 1)
    plain_grad = net.grads.copy()
    net, step, x, labels, _ = step_with_l2(0.3)
    w = net.coefs[0].copy()
    penalised = step.run(x, labels, 0.5, 1)
    assert penalised == pytest.approx(plain + 0.5 * 0.3 * np.sum(w * w), rel=1e-14)
    np.testing.assert_array_equal(net.coef_grads[0], plain_grad[:12].reshape(4, 3) + 0.3 * w)
    np.testing.assert_array_equal(net.intercept_grads[0], plain_grad[12:])  # biases carry no penalty
    np.testing.assert_array_equal(net.params, before - 0.5 * net.grads)


@pytest.mark.parametrize("bad", [-1.0, float("nan"), float("inf"), "0.1"])
def test_a_bad_l2_is_refused(bad):
    net = Network([4, 3], "relu", "softmax", np.float64)
    acts, dxs, delta = net.batch_buffers(2)
    plan = NativeLayerPlan("dense", acts[0], None, "linear", kernel=net.coefs[0], bias=net.intercepts[0],
                           kernel_grad=net.coef_grads[0], bias_grad=net.intercept_grads[0], l2=bad)
    with pytest.raises((ValueError, TypeError), match=r"layers\[0\]\.l2"):
        _core.DenseStackStep([plan], delta, "softmax_cross_entropy", "sgd_update",
                             dict(convention="keras", learning_rate=0.0, step=1),
                             [net.params], [net.grads], (None,))
