"""nnfast.reference's batch and layer normalization against Keras 3 (torch backend) and finite
differences.

- float32: Keras' BatchNormalization and LayerNormalization layers themselves (default momentum
  0.99 and epsilon 1e-3; scale/center on and off): forward in training and inference, the
  moving-statistics update, and the gradients of x, gamma and beta by torch autograd through the
  layer. Keras takes the variance as E[x^2] - E[x]^2 in float32 (the reference: two passes in
  float64), so the agreement is a few float32 roundings scaled by (mean^2 + var) / var.
- float64: Keras 3 computes these layers in float32 whatever their dtype (keras.backend.result_type
  forces 32-bit types on non-TensorFlow backends), so the reference is held to the float64 ops the
  layers are made of: keras.ops.moments and keras.ops.batch_normalization (BatchNormalization), and
  torch.nn.functional.layer_norm (what LayerNormalization calls on torch), with autograd; and its
  gradients to central finite differences.
"""
import os

import numpy as np
import pytest

from nnfast import reference as ref

os.environ.setdefault("KERAS_BACKEND", "torch")

# Keras' variables warn under NumPy 2 when converted (KerasVariable.__array__ has no copy argument).
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")

SHAPES = [(1, 7), (7, 1), (9, 17), (64, 65), (1000, 9)]
SCALE_CENTER = [(True, True), (False, True), (True, False), (False, False)]


def operands(shape, dtype, scale=True, center=True, offset=1.0, seed=0):
    rng = np.random.default_rng(seed)
    rows, cols = shape
    x = (rng.standard_normal(shape) * rng.uniform(0.5, 2.0, cols) + offset * rng.uniform(-1, 1, cols)).astype(dtype)
    gamma = rng.uniform(0.5, 2.0, cols).astype(dtype) if scale else None
    beta = rng.standard_normal(cols).astype(dtype) if center else None
    moving = [rng.standard_normal(cols).astype(dtype), rng.uniform(0.5, 2.0, cols).astype(dtype)]
    return x, gamma, beta, moving, rng.standard_normal(shape).astype(dtype)


def close(got, want, tol, what, floor=0.0):
    """|got - want| <= tol * (|want| + max(mean |want|, floor)): relative, with the array's scale (or
    the scale of the terms it was computed from, where they cancel) as a floor."""
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    floor = max(np.abs(want).mean(), floor) if want.size else 0.0
    err = np.abs(got - want) / (np.abs(want) + floor + np.finfo(np.float64).tiny)
    assert got.shape == want.shape, what
    assert not want.size or err.max() <= tol, f"{what}: relative error {err.max():.3g} > {tol:.3g}"


def grad_floors(x, dy, gamma, mean, inv_std, per_row=False):
    """Floors for close() of (dx, dgamma, dbeta): the scale of the terms each is computed from, which
    cancel to (near) 0 for a single row or feature: dy * gamma * inv_std for dx, and
    sum(|dy| * (|x| + |mean|) * inv_std) over the rows for dgamma."""
    stat = (lambda v: np.abs(v)[:, None]) if per_row else np.abs
    g = np.abs(dy) * (1.0 if gamma is None else np.abs(gamma))
    xhat = (np.abs(x) + stat(mean)) * stat(inv_std)
    return float((g * stat(inv_std)).mean()), float((np.abs(dy) * xhat).sum(axis=0).mean()), 0.0


def keras_layer(keras, layer, x, dy, training, torch, params):
    """(y, gradients of x and of each named parameter) of a Keras layer called on x, by autograd of
    sum(y * dy)."""
    xt = torch.tensor(x, requires_grad=True)
    y = layer(xt, training=training) if training is not None else layer(xt)
    (y * torch.tensor(dy)).sum().backward()
    grads = [xt.grad] + [getattr(layer, p).value.grad if getattr(layer, p) is not None else None for p in params]
    return y.detach().numpy(), [None if g is None else g.numpy() for g in grads]


def keras_batch_norm(keras, torch, x, gamma, beta, moving, dy, training):
    layer = keras.layers.BatchNormalization(scale=gamma is not None, center=beta is not None, dtype="float32")
    layer.build((None, x.shape[1]))
    layer.set_weights([w for w in (gamma, beta) if w is not None] + moving)
    y, grads = keras_layer(keras, layer, x, dy, training, torch, ("gamma", "beta"))
    return y, [layer.moving_mean.numpy(), layer.moving_variance.numpy()], grads


# ---- float32: the Keras layers ---------------------------------------------------------------------

@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("scale, center", SCALE_CENTER)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_batch_norm_matches_the_keras_layer(keras, torch, shape, scale, center, training):
    x, gamma, beta, moving, dy = operands(shape, np.float32, scale, center)
    y_k, moving_k, grads_k = keras_batch_norm(keras, torch, x, gamma, beta, [m.copy() for m in moving], dy, training)
    mine = [m.copy() for m in moving]
    y, mean, inv_std = ref.batch_norm_forward(x, gamma, beta, *mine, training)
    grads = ref.batch_norm_backward(x, gamma, mean, inv_std, dy, training, scale, center)
    what = f"{shape} scale={scale} center={center} training={training}"
    close(y, y_k, 2e-6, f"{what}: y")
    for name, m, k in zip(("moving_mean", "moving_var"), mine, moving_k):
        close(m, k, 2e-7, f"{what}: {name}")
    floors = grad_floors(x, dy, gamma, mean, inv_std)
    for name, g, k, floor in zip(("dx", "dgamma", "dbeta"), grads, grads_k, floors):
        assert (g is None) == (k is None), f"{what}: {name}"
        if g is not None:
            close(g, k, 4e-6, f"{what}: {name}", floor)


def test_moving_statistics_follow_keras_over_many_steps(keras, torch):
    x, gamma, beta, moving, dy = operands((32, 17), np.float32)
    layer = keras.layers.BatchNormalization(dtype="float32")
    layer.build((None, 17))
    layer.set_weights([gamma, beta, *moving])
    rng = np.random.default_rng(3)
    for _ in range(50):
        batch = (rng.standard_normal(x.shape) * 2 + 1).astype(np.float32)
        layer(torch.tensor(batch), training=True)
        ref.batch_norm_forward(batch, gamma, beta, *moving, True)
    close(moving[0], layer.moving_mean.numpy(), 1e-6, "moving_mean after 50 steps")
    close(moving[1], layer.moving_variance.numpy(), 1e-6, "moving_var after 50 steps")


@pytest.mark.parametrize("scale, center", SCALE_CENTER)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_layer_norm_matches_the_keras_layer(keras, torch, shape, scale, center):
    x, gamma, beta, _, dy = operands(shape, np.float32, scale, center)
    layer = keras.layers.LayerNormalization(scale=scale, center=center, dtype="float32")
    layer.build((None, shape[1]))
    layer.set_weights([w for w in (gamma, beta) if w is not None])
    y_k, grads_k = keras_layer(keras, layer, x, dy, None, torch, ("gamma", "beta"))
    y, mean, inv_std = ref.layer_norm_forward(x, gamma, beta)
    grads = ref.layer_norm_backward(x, gamma, mean, inv_std, dy, scale, center)
    what = f"{shape} scale={scale} center={center}"
    close(y, y_k, 2e-6, f"{what}: y")
    floors = grad_floors(x, dy, gamma, mean, inv_std, per_row=True)
    for name, g, k, floor in zip(("dx", "dgamma", "dbeta"), grads, grads_k, floors):
        assert (g is None) == (k is None), f"{what}: {name}"
        if g is not None:
            close(g, k, 4e-6, f"{what}: {name}", floor)


def test_two_pass_statistics_are_closer_to_exact_than_keras(keras, torch):
    # A large offset: Keras' E[x^2] - E[x]^2 in float32 cancels, the reference's two passes do not.
    x, gamma, beta, moving, dy = operands((256, 33), np.float32, offset=300.0, seed=5)
    exact = ref.batch_norm_forward(x.astype(np.float64), gamma.astype(np.float64), beta.astype(np.float64),
                                   *[m.astype(np.float64) for m in moving], True)[0]
    y_k, _, _ = keras_batch_norm(keras, torch, x, gamma, beta, [m.copy() for m in moving], dy, True)
    y = ref.batch_norm_forward(x, gamma, beta, *moving, True)[0]
    err_ref, err_keras = np.abs(y - exact).max(), np.abs(y_k - exact).max()
    assert err_ref <= 1e-4 and err_ref < err_keras / 100, (err_ref, err_keras)


# ---- float64: the ops the Keras layers are made of, and finite differences ---------------------------

@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_batch_norm_float64_matches_keras_ops(keras, torch, shape, training):
    x, gamma, beta, moving, dy = operands(shape, np.float64)
    momentum, epsilon = 0.99, 1e-3  # the layer's defaults, as it calls these ops
    xt, mm, mv = torch.tensor(x, requires_grad=True), torch.tensor(moving[0]), torch.tensor(moving[1])
    gt, bt = torch.tensor(gamma, requires_grad=True), torch.tensor(beta, requires_grad=True)
    if training:
        mean, var = keras.ops.moments(xt, axes=[0])
        mm_k, mv_k = mm * momentum + mean * (1.0 - momentum), mv * momentum + var * (1.0 - momentum)
    else:
        mean, var, mm_k, mv_k = mm, mv, mm, mv
    y_k = keras.ops.batch_normalization(xt, mean, var, axis=-1, offset=bt, scale=gt, epsilon=epsilon)
    (y_k * torch.tensor(dy)).sum().backward()
    y, mean, inv_std = ref.batch_norm_forward(x, gamma, beta, *moving, training)
    grads = ref.batch_norm_backward(x, gamma, mean, inv_std, dy, training)
    what = f"{shape} training={training}"
    floors = dict(zip(("dx", "dgamma", "dbeta"), grad_floors(x, dy, gamma, mean, inv_std)))
    for name, got, want in [("y", y, y_k), ("moving_mean", moving[0], mm_k), ("moving_var", moving[1], mv_k),
                            ("dx", grads[0], xt.grad), ("dgamma", grads[1], gt.grad), ("dbeta", grads[2], bt.grad)]:
        close(got, want.detach().numpy(), 1e-12, f"{what}: {name}", floors.get(name, 0.0))


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_layer_norm_float64_matches_torch_layer_norm(torch, shape):
    x, gamma, beta, _, dy = operands(shape, np.float64)
    xt = torch.tensor(x, requires_grad=True)
    gt, bt = torch.tensor(gamma, requires_grad=True), torch.tensor(beta, requires_grad=True)
    y_t = torch.nn.functional.layer_norm(xt, (shape[1],), gt, bt, 1e-3)
    (y_t * torch.tensor(dy)).sum().backward()
    y, mean, inv_std = ref.layer_norm_forward(x, gamma, beta)
    grads = ref.layer_norm_backward(x, gamma, mean, inv_std, dy)
    floors = dict(zip(("dx", "dgamma", "dbeta"), grad_floors(x, dy, gamma, mean, inv_std, per_row=True)))
    for name, got, want in [("y", y, y_t), ("dx", grads[0], xt.grad), ("dgamma", grads[1], gt.grad),
                            ("dbeta", grads[2], bt.grad)]:
        close(got, want.detach().numpy(), 1e-12, f"{shape}: {name}", floors.get(name, 0.0))


def finite_difference(loss, arrays, h=1e-6):
    """Central differences of loss() with respect to every element of each array (changed in place)."""
    out = []
    for a in arrays:
        g = np.empty_like(a)
        for i in np.ndindex(a.shape):
            keep = a[i]
            a[i] = keep + h
            up = loss()
            a[i] = keep - h
            down = loss()
            a[i] = keep
            g[i] = (up - down) / (2 * h)
        out.append(g)
    return out


@pytest.mark.parametrize("op", ["batch_norm training", "batch_norm inference", "layer_norm"])
@pytest.mark.parametrize("shape", [(1, 3), (5, 1), (6, 4)], ids=str)
def test_gradients_match_finite_differences(op, shape):
    x, gamma, beta, moving, dy = operands(shape, np.float64, seed=11)
    training = op == "batch_norm training"
    if op == "layer_norm":
        def forward():
            return ref.layer_norm_forward(x, gamma, beta)
        _, mean, inv_std = forward()
        grads = ref.layer_norm_backward(x, gamma, mean, inv_std, dy)
    else:
        def forward():
            return ref.batch_norm_forward(x, gamma, beta, *[m.copy() for m in moving], training)
        _, mean, inv_std = forward()
        grads = ref.batch_norm_backward(x, gamma, mean, inv_std, dy, training)
    numeric = finite_difference(lambda: float((forward()[0] * dy).sum()), [x, gamma, beta])
    for name, g, n in zip(("dx", "dgamma", "dbeta"), grads, numeric):
        np.testing.assert_allclose(g, n, rtol=1e-6, atol=1e-7, err_msg=f"{op} {shape}: {name}")


# ---- bad input: the reference names the argument too -------------------------------------------------

@pytest.mark.parametrize("call, exc, name", [
    (lambda x, v: ref.batch_norm_forward(x.astype(np.float16), None, None, v, v.copy(), True), TypeError, "x"),
    (lambda x, v: ref.batch_norm_forward(x, v.astype(np.float64), None, v, v.copy(), True), TypeError, "gamma"),
    (lambda x, v: ref.batch_norm_forward(x, None, v[:2], v, v.copy(), True), ValueError, "beta"),
    (lambda x, v: ref.batch_norm_forward(x, None, None, v, v, True), ValueError, "moving_var"),
    (lambda x, v: ref.batch_norm_forward(x[:0], None, None, v, v.copy(), True), ValueError, "x"),
    (lambda x, v: ref.batch_norm_forward(x, None, None, v, v.copy(), True, momentum=2.0), ValueError, "momentum"),
    (lambda x, v: ref.batch_norm_forward(x, None, None, v, v.copy(), 1), TypeError, "training"),
    (lambda x, v: ref.batch_norm_backward(x, None, v, v, x[:, :2]), ValueError, "dy"),
    (lambda x, v: ref.layer_norm_forward(x[:, :0], None, None), ValueError, "x"),
    (lambda x, v: ref.layer_norm_forward(x, None, None, epsilon=-1.0), ValueError, "epsilon"),
    (lambda x, v: ref.layer_norm_backward(x, None, v, v, x), ValueError, "mean"),
])
def test_reference_rejects_bad_input_naming_it(call, exc, name):
    x, v = np.ones((4, 3), np.float32), np.ones(3, np.float32)
    before = v.copy()
    with pytest.raises(exc, match=rf"\b{name}\b"):
        call(x, v)
    np.testing.assert_array_equal(v, before)
