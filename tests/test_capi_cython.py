"""examples/cython_mlp, a downstream Cython project, built in a temporary folder against the installed
nnfast: its nogil epochs through the C API give, bit for bit, the weights, moments and losses of the
same steps through nnfast.ops from Python, and a failing C API call becomes its message."""
import sys

import numpy as np
import pytest
from capi_build import build_cython_example

from nnfast import ops


@pytest.fixture(scope="module")
def cython_mlp(tmp_path_factory):
    folder = str(build_cython_example(tmp_path_factory.mktemp("cython_mlp")))
    sys.path.insert(0, folder)
    try:
        import cython_mlp
        yield cython_mlp
    finally:
        sys.path.remove(folder)
        for name in [n for n in sys.modules if n == "cython_mlp" or n.startswith("cython_mlp.")]:
            del sys.modules[name]


def problem(rng, n=100, inputs=20, hidden=16, classes=5):
    x = rng.standard_normal((n, inputs)).astype(np.float32)
    y = rng.integers(0, classes, n)
    weights = [rng.standard_normal((inputs, hidden)).astype(np.float32) * 0.3,
               rng.standard_normal(hidden).astype(np.float32) * 0.1,
               rng.standard_normal((hidden, classes)).astype(np.float32) * 0.3,
               rng.standard_normal(classes).astype(np.float32) * 0.1]
    return x, y, weights


def ops_epoch(x, y, weights, moments, batch_size, first_step, lr):
    """The example's epoch through nnfast.ops; returns its mean loss."""
    w1, b1, w2, b2 = weights
    total = 0.0
    for step, start in enumerate(range(0, len(x), batch_size), first_step):
        xb, yb = x[start:start + batch_size], y[start:start + batch_size]
        h = ops.dense_forward(xb, w1, b1, "relu")
        z = ops.dense_forward(h, w2, b2, "linear")
        loss, dz = ops.softmax_cross_entropy(z, yb)
        dh, dw2, db2 = ops.dense_backward(h, w2, z, dz, "linear")
        _, dw1, db1 = ops.dense_backward(xb, w1, h, dh, "relu", need_dx=False)
        ops.adam_update(weights, [dw1, db1, dw2, db2], [m for m, _ in moments], [v for _, v in moments], None,
                        step=step, learning_rate=lr, beta_1=0.9, beta_2=0.999, epsilon=1e-7)
        total += loss * len(xb)
    return total / len(x)


@pytest.mark.parametrize("batch_size", [1, 32, 100, 128])
def test_epochs_equal_ops_bit_for_bit(cython_mlp, rng, batch_size):
    x, y, weights = problem(rng)
    mine = [w.copy() for w in weights]
    model = cython_mlp.MLP(*mine, learning_rate=1e-2)
    moments = [(np.zeros_like(w), np.zeros_like(w)) for w in weights]
    steps = 0
    for _ in range(2):
        want = ops_epoch(x, y, weights, moments, batch_size, steps + 1, 1e-2)
        steps += -(-len(x) // batch_size)
        assert model.fit_epoch(x, y, batch_size) == want
        assert model.iterations == steps
    for got, expected in zip(mine, weights):
        assert np.array_equal(got, expected)
    for (m, v), (want_m, want_v) in zip(model.moments, moments):
        assert np.array_equal(m, want_m) and np.array_equal(v, want_v)
    assert not np.array_equal(mine[0], problem(np.random.default_rng(12345))[2][0])  # it trained


def test_training_reduces_the_loss(cython_mlp, rng):
    x, _, weights = problem(rng, n=256)
    y = np.argmax(x @ rng.standard_normal((20, 5)), axis=1)  # learnable labels
    model = cython_mlp.MLP(*weights, learning_rate=1e-2)
    losses = [model.fit_epoch(x, y, 32) for _ in range(20)]
    assert losses[-1] < 0.5 * losses[0]


def test_a_failing_call_raises_its_message_and_trains_nothing(cython_mlp, rng):
    x, y, weights = problem(rng)
    before = [w.copy() for w in weights]
    model = cython_mlp.MLP(*weights)
    y[3] = 5  # one past the last class, in the first batch
    with pytest.raises(RuntimeError, match=r"softmax_cross_entropy_f32: labels must be class indices in \[0, 5\), "
                                           r"got 5 at position 3"):
        model.fit_epoch(x, y, 32)
    assert model.iterations == 0
    for got, want in zip(weights, before):
        assert np.array_equal(got, want)


def test_per_call_helpers_run(cython_mlp, rng):
    x, w, b = (rng.standard_normal(s).astype(np.float32) for s in ((32, 128), (128, 10), (10,)))
    y = np.empty((32, 10), np.float32)
    assert cython_mlp.mlp.call_cost_dense_forward(y, x, w, b, 10) > 0
    assert np.array_equal(y, ops.dense_forward(x, w, b))
    p, g = rng.standard_normal(1000).astype(np.float32), rng.standard_normal(1000).astype(np.float32)
    assert cython_mlp.mlp.call_cost_adam(p, g, np.zeros_like(p), np.zeros_like(p), 10) > 0
