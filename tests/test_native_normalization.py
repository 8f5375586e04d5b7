"""Native batch and layer normalization against nnfast.reference, with 1 and 2 threads.

Accuracy: the kernels and the reference perform the same roundings in the input dtype and differ
only in the order of their float64 sums (the kernels sum pairwise, NumPy along rows in order).
Results are compared with an elementwise bound ``4 * (eps + (n + 8) * eps64) * magnitude``, where
n is the length of the sums and ``magnitude`` the sum of the absolute values of the terms that
entered the result (a flip of one rounding of a statistic or coefficient is within it). Inference
forward has no sums at all and must agree bit for bit. Determinism is exact: every native call
runs with 1 and with 2 threads and the bits must agree; every ISA level gives the same bits too.
tests/test_isa_levels.py re-runs this file under every ISA level the machine supports.
"""
import os

import numpy as np
import pytest

import nnfast as nf
from nnfast import reference as ref

from conftest import DTYPES, assert_same_bits, assert_within, num_threads, run_python

pytestmark = pytest.mark.filterwarnings("error")

DIMS = (1, 7, 9, 17, 65, 1000)
SHAPES = [(rows, cols) for rows in DIMS for cols in DIMS]
# Large enough for 2 threads in every pass.
THREADED = [(1000, 65), (65, 1000), (2000, 300)]


def tolerance(dtype, n):
    return 4.0 * (float(np.finfo(dtype).eps) + (n + 8) * float(np.finfo(np.float64).eps))


def on_threads(fn):
    """fn() with 1 and with 2 threads on fresh copies of its in-place arguments (fn makes them);
    every array of the two results (tuples of arrays and None) must have the same bits."""
    results = []
    for n in (1, 2):
        with num_threads(n):
            results.append(fn())
    for a, b in zip(*results):
        assert (a is None) == (b is None)
        if a is not None:
            assert_same_bits(a, b)
    return results[0]


def operands(rng, shape, dtype, scale=True, center=True):
    """x with an offset (mean far from 0 relative to its spread, as the statistics must survive),
    gamma, beta (or None), moving statistics and dy."""
    rows, cols = shape
    x = (rng.standard_normal(shape) * rng.uniform(0.5, 3.0, cols) + rng.uniform(-5, 5, cols)).astype(dtype)
    gamma = rng.uniform(0.5, 2.0, cols).astype(dtype) if scale else None
    beta = rng.standard_normal(cols).astype(dtype) if center else None
    moving = (rng.standard_normal(cols).astype(dtype), rng.uniform(0.5, 2.0, cols).astype(dtype))
    return x, gamma, beta, moving, rng.standard_normal(shape).astype(dtype)


def magnitude(a):
    return np.abs(np.asarray(a, dtype=np.float64))


def ones_if_none(v, cols):
    return np.ones(cols) if v is None else magnitude(v)


def bn_forward(ops, x, gamma, beta, moving, training):
    """(y, mean, inv_std, moving_mean, moving_var) of one forward call of ops on copies of moving."""
    mean, var = (m.copy() for m in moving)
    return (*ops.batch_norm_forward(x, gamma, beta, mean, var, training), mean, var)


def check_bn_forward(x, gamma, beta, moving, training, what):
    before = [a.copy() for a in (x, *moving)]
    got = on_threads(lambda: bn_forward(nf.ops, x, gamma, beta, moving, training))
    want = bn_forward(ref, x, gamma, beta, moving, training)
    for a, b in zip([x, *moving], before):
        assert_same_bits(a, b)
    for g in got:
        assert g.dtype == x.dtype and g.flags.c_contiguous, what
    if not training:  # no sums: the very same roundings
        for g, w in zip(got, want):
            assert_same_bits(g, w)
        return got
    rows, cols = x.shape
    tol = tolerance(x.dtype, rows)
    y, mean, inv_std, moving_mean, moving_var = want
    abs_mean = magnitude(x).mean(axis=0)
    mean_mag = magnitude(mean) + abs_mean
    y_mag = (magnitude(x) + mean_mag) * magnitude(inv_std) * ones_if_none(gamma, cols) + (
        0.0 if beta is None else magnitude(beta))
    var = np.square(x.astype(np.float64) - mean).mean(axis=0)
    for name, g, w, bound in [("y", got[0], y, tol * y_mag), ("mean", got[1], mean, tol * mean_mag),
                              ("inv_std", got[2], inv_std, tol * magnitude(inv_std)),
                              ("moving_mean", got[3], moving_mean, tol * (magnitude(moving[0]) + mean_mag)),
                              ("moving_var", got[4], moving_var, tol * (magnitude(moving[1]) + var))]:
        assert_within(g, w, np.broadcast_to(bound, w.shape), f"{what}: {name}")
    return got


def check_grads(got, want, x, dy, xhat_mag, dx_mag, n, what):
    tol = tolerance(x.dtype, n)
    for g in got:
        assert g is None or (g.dtype == x.dtype and g.flags.c_contiguous), what
    assert_within(got[0], want[0], tol * dx_mag, f"{what}: dx")
    sums = {"dgamma": (magnitude(dy) * xhat_mag).sum(axis=0), "dbeta": magnitude(dy).sum(axis=0)}
    for (name, bound), g, w in zip(sums.items(), got[1:], want[1:]):
        assert (g is None) == (w is None), f"{what}: {name}"
        if g is not None:
            assert_within(g, w, tolerance(x.dtype, x.shape[0]) * bound, f"{what}: {name}")


def check_bn_backward(x, gamma, mean, inv_std, dy, training, needs, what):
    before = [a.copy() for a in (x, mean, inv_std, dy)]
    got = on_threads(lambda: nf.ops.batch_norm_backward(x, gamma, mean, inv_std, dy, training, *needs))
    want = ref.batch_norm_backward(x, gamma, mean, inv_std, dy, training, *needs)
    for a, b in zip([x, mean, inv_std, dy], before):
        assert_same_bits(a, b)
    rows, cols = x.shape
    xhat_mag = (magnitude(x) + magnitude(mean)) * magnitude(inv_std)
    k_mag = ones_if_none(gamma, cols) * magnitude(inv_std)
    n = max(rows, 1)
    corrections = magnitude(dy).sum(axis=0) / n + xhat_mag * (magnitude(dy) * xhat_mag).sum(axis=0) / n
    dx_mag = k_mag * (magnitude(dy) + (corrections if training else 0.0))
    check_grads(got, want, x, dy, xhat_mag, dx_mag, rows, what)


def check_ln(x, gamma, beta, dy, needs, what):
    before = [a.copy() for a in (x, dy)]
    got = on_threads(lambda: nf.ops.layer_norm_forward(x, gamma, beta))
    want = ref.layer_norm_forward(x, gamma, beta)
    rows, cols = x.shape
    tol = tolerance(x.dtype, cols)
    y, mean, inv_std = want
    mean_mag = magnitude(mean) + magnitude(x).mean(axis=1)
    inv = magnitude(inv_std)[:, None]
    y_mag = (magnitude(x) + mean_mag[:, None]) * inv * ones_if_none(gamma, cols) + (
        0.0 if beta is None else magnitude(beta))
    for name, g, w, bound in [("y", got[0], y, tol * y_mag), ("mean", got[1], mean, tol * mean_mag),
                              ("inv_std", got[2], inv_std, tol * magnitude(inv_std))]:
        assert g.dtype == x.dtype and g.flags.c_contiguous, what
        assert_within(g, w, bound, f"{what}: {name}")
    # backward from the reference's statistics, so both start from the same x_hat
    grads = on_threads(lambda: nf.ops.layer_norm_backward(x, gamma, mean, inv_std, dy, *needs))
    want = ref.layer_norm_backward(x, gamma, mean, inv_std, dy, *needs)
    xhat_mag = (magnitude(x) + magnitude(mean)[:, None]) * inv
    g_mag = magnitude(dy) * ones_if_none(gamma, cols)
    dx_mag = inv * (g_mag + g_mag.mean(axis=1, keepdims=True) +
                    xhat_mag * (g_mag * xhat_mag).mean(axis=1, keepdims=True))
    check_grads(grads, want, x, dy, xhat_mag, dx_mag, max(rows, cols), what)
    for a, b in zip([x, dy], before):
        assert_same_bits(a, b)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES + [(0, 7), (0, 1)], ids=str)
def test_batch_norm_matches_reference(rng, shape, dtype):
    x, gamma, beta, moving, dy = operands(rng, shape, dtype)
    what = f"{shape} {np.dtype(dtype).name}"
    for training in ((True, False) if shape[0] else (False,)):
        y, mean, inv_std, *_ = check_bn_forward(x, gamma, beta, moving, training, f"{what} training={training}")
        check_bn_backward(x, gamma, mean, inv_std, dy, training, (True, True), f"{what} training={training}")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES + [(0, 7), (0, 1)], ids=str)
def test_layer_norm_matches_reference(rng, shape, dtype):
    x, gamma, beta, _, dy = operands(rng, shape, dtype)
    check_ln(x, gamma, beta, dy, (True, True), f"{shape} {np.dtype(dtype).name}")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("scale, center", [(False, True), (True, False), (False, False)])
@pytest.mark.parametrize("shape", [(1, 1), (9, 17), (65, 7)], ids=str)
def test_without_scale_or_center(rng, shape, dtype, scale, center):
    x, gamma, beta, moving, dy = operands(rng, shape, dtype, scale, center)
    what = f"{shape} {np.dtype(dtype).name} scale={scale} center={center}"
    _, mean, inv_std, *_ = check_bn_forward(x, gamma, beta, moving, True, what)
    check_bn_forward(x, gamma, beta, moving, False, what)
    check_bn_backward(x, gamma, mean, inv_std, dy, True, (scale, center), what)
    check_ln(x, gamma, beta, dy, (scale, center), what)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", THREADED, ids=str)
def test_threaded_shapes_match_reference(rng, shape, dtype):
    x, gamma, beta, moving, dy = operands(rng, shape, dtype)
    what = f"{shape} {np.dtype(dtype).name}"
    for training in (True, False):
        _, mean, inv_std, *_ = check_bn_forward(x, gamma, beta, moving, training, what)
        check_bn_backward(x, gamma, mean, inv_std, dy, training, (True, True), what)
    check_ln(x, gamma, beta, dy, (True, True), what)


def test_statistics_survive_a_large_offset():
    # E[x^2] - E[x]^2 would lose every digit of the variance here; two passes keep it.
    x = (1e4 + np.arange(64, dtype=np.float32).reshape(16, 4) * 1e-2).astype(np.float32)
    want_var = np.square(x.astype(np.float64) - x.astype(np.float64).mean(0)).mean(0)
    _, _, inv_std = nf.ops.batch_norm_forward(x, None, None, np.zeros(4, np.float32), np.ones(4, np.float32),
                                              True, epsilon=0.0)
    np.testing.assert_allclose(1.0 / np.square(inv_std.astype(np.float64)), want_var, rtol=1e-6)
    _, _, inv_std = nf.ops.layer_norm_forward(np.ascontiguousarray(x.T), None, None, epsilon=0.0)
    np.testing.assert_allclose(1.0 / np.square(inv_std.astype(np.float64)), want_var, rtol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
def test_out_buffers_are_written_and_returned(rng, dtype):
    x, gamma, beta, (mm, mv), dy = operands(rng, (17, 9), dtype)
    bufs = [np.full(s, np.nan, dtype) for s in [(17, 9), (9,), (9,), (17, 9), (9,), (9,)]]
    res = nf.ops.batch_norm_forward(x, gamma, beta, mm, mv, True, out=bufs[0], mean_out=bufs[1],
                                    inv_std_out=bufs[2])
    assert all(r is b for r, b in zip(res, bufs[:3]))
    grads = nf.ops.batch_norm_backward(x, gamma, res[1], res[2], dy, dx_out=bufs[3], dgamma_out=bufs[4],
                                       dbeta_out=bufs[5])
    assert all(g is b for g, b in zip(grads, bufs[3:]))
    assert all(np.isfinite(b).all() for b in bufs)
    ln = [np.full(s, np.nan, dtype) for s in [(17, 9), (17,), (17,)]]
    assert all(r is b for r, b in zip(nf.ops.layer_norm_forward(x, gamma, beta, 1e-3, *ln), ln))
    assert nf.ops.layer_norm_backward(x, gamma, ln[1], ln[2], dy, dx_out=bufs[3])[0] is bufs[3]


def test_momentum_and_epsilon_reach_the_kernel(rng):
    x, gamma, beta, moving, _ = operands(rng, (33, 5), np.float64)
    got, want = [m.copy() for m in moving], [m.copy() for m in moving]
    a = nf.ops.batch_norm_forward(x, gamma, beta, *got, True, momentum=0.5, epsilon=0.25)
    b = ref.batch_norm_forward(x, gamma, beta, *want, True, momentum=0.5, epsilon=0.25)
    for g, w in zip([*a, *got], [*b, *want]):
        np.testing.assert_allclose(g, w, rtol=1e-14, atol=1e-14)
    np.testing.assert_allclose(b[2], 1 / np.sqrt(x.var(0) + 0.25), rtol=1e-14)
    np.testing.assert_allclose(want[0], moving[0] * 0.5 + x.mean(0) * 0.5, rtol=1e-14)


@pytest.mark.skipif("NNFAST_ISA" in os.environ, reason="already running under a forced level")
def test_every_isa_level_gives_the_same_bits():
    script = (
        "import hashlib, numpy as np, nnfast as nf\n"
        "r = np.random.default_rng(7); h = hashlib.sha256()\n"
        "for dt in (np.float32, np.float64):\n"
        "    x = (r.standard_normal((300, 77)) * 3 + 1).astype(dt); dy = r.standard_normal(x.shape).astype(dt)\n"
        "    g = r.uniform(0.5, 2, 77).astype(dt); b = r.standard_normal(77).astype(dt)\n"
        "    mm, mv = np.zeros(77, dt), np.ones(77, dt)\n"
        "    y, m, i = nf.ops.batch_norm_forward(x, g, b, mm, mv, True)\n"
        "    outs = [y, m, i, mm, mv, *nf.ops.batch_norm_backward(x, g, m, i, dy)]\n"
        "    y, m, i = nf.ops.layer_norm_forward(x, g, b)\n"
        "    outs += [y, m, i, *nf.ops.layer_norm_backward(x, g, m, i, dy)]\n"
        "    for o in outs: h.update(o.tobytes())\n"
        "print(h.hexdigest())\n")
    digests = {}
    for isa in nf.config()["isa_supported"]:
        r = run_python(["-c", script], NNFAST_ISA=isa)
        assert r.returncode == 0, r.stderr
        digests[isa] = r.stdout.strip()
    assert len(set(digests.values())) == 1, digests


# --- bad input: TypeError/ValueError naming the argument, nothing written ------------------------

def bn_call(**change):
    """A valid batch_norm_forward call in training (float32, (5, 3)) with `change` applied; returns
    the kwargs and every array the call may write."""
    kw = dict(x=np.ones((5, 3), np.float32), gamma=np.ones(3, np.float32), beta=np.zeros(3, np.float32),
              moving_mean=np.zeros(3, np.float32), moving_var=np.ones(3, np.float32), training=True,
              out=np.zeros((5, 3), np.float32), mean_out=np.zeros(3, np.float32),
              inv_std_out=np.zeros(3, np.float32))
    kw.update({k: (v(kw) if callable(v) else v) for k, v in change.items()})
    return kw


BN_FORWARD_BAD = [
    (dict(x=np.ones((5, 3), np.float16)), TypeError, "x"),
    (dict(x=[[1.0, 2.0, 3.0]]), TypeError, "x"),
    (dict(x=np.ones(3, np.float32)), ValueError, "x"),
    (dict(x=np.ones((3, 5), np.float32).T), ValueError, "x"),
    (dict(x=np.ones((0, 3), np.float32), out=np.zeros((0, 3), np.float32)), ValueError, "x"),
    (dict(gamma=np.ones(3, np.float64)), TypeError, "gamma"),
    (dict(gamma=np.ones(4, np.float32)), ValueError, "gamma"),
    (dict(beta=np.ones((1, 3), np.float32)), ValueError, "beta"),
    (dict(beta=np.ones(6, np.float32)[::2]), ValueError, "beta"),
    (dict(moving_mean=None), TypeError, "moving_mean"),
    (dict(moving_var=np.ones(2, np.float32)), ValueError, "moving_var"),
    (dict(moving_var=lambda kw: kw["moving_mean"]), ValueError, "moving_var"),
    (dict(momentum=1.5), ValueError, "momentum"),
    (dict(momentum=float("nan")), ValueError, "momentum"),
    (dict(epsilon=-1.0), ValueError, "epsilon"),
    (dict(out=np.zeros((5, 3), np.float64)), TypeError, "out"),
    (dict(out=np.zeros((5, 4), np.float32)), ValueError, "out"),
    (dict(out=lambda kw: kw["x"]), ValueError, "out"),
    (dict(mean_out=lambda kw: kw["moving_mean"]), ValueError, "mean_out|moving_mean"),
    (dict(inv_std_out=lambda kw: kw["out"][0]), ValueError, "inv_std_out"),
    (dict(mean_out=np.zeros(5, np.float32)), ValueError, "mean_out"),
]


def read_only(a):
    a.flags.writeable = False
    return a


@pytest.mark.parametrize("change, exc, name", BN_FORWARD_BAD + [
    (dict(moving_mean=lambda kw: read_only(np.zeros(3, np.float32))), ValueError, "moving_mean"),
    (dict(out=lambda kw: read_only(np.zeros((5, 3), np.float32))), ValueError, "out")])
def test_batch_norm_forward_rejects_bad_input_before_writing(change, exc, name):
    kw = bn_call(**change)
    written = [kw[k] for k in ("out", "mean_out", "inv_std_out", "moving_mean", "moving_var")
               if isinstance(kw[k], np.ndarray)]
    before = [a.copy() for a in written]
    with pytest.raises(exc, match=rf"\b({name})\b"):
        nf.ops.batch_norm_forward(**kw)
    for a, b in zip(written, before):
        np.testing.assert_array_equal(a, b)


def test_read_only_moving_statistics_are_fine_in_inference():
    kw = bn_call(moving_mean=read_only(np.zeros(3, np.float32)), moving_var=read_only(np.ones(3, np.float32)),
                 training=False)
    nf.ops.batch_norm_forward(**kw)


GRAD_BAD = [
    (dict(x=np.ones((5, 3), np.int32)), TypeError, "x"),
    (dict(dy=np.ones((5, 3), np.float64)), TypeError, "dy"),
    (dict(dy=np.ones((5, 4), np.float32)), ValueError, "dy"),
    (dict(dy=np.ones((3, 5), np.float32).T), ValueError, "dy"),
    (dict(gamma=np.ones(2, np.float32)), ValueError, "gamma"),
    (dict(mean=np.ones(4, np.float32)), ValueError, "mean"),
    (dict(inv_std=np.ones(3, np.float64)), TypeError, "inv_std"),
    (dict(dx_out=lambda kw: kw["dy"]), ValueError, "dx_out"),
    (dict(dgamma_out=lambda kw: kw["dbeta_out"]), ValueError, "dbeta_out|dgamma_out"),
    (dict(dbeta_out=lambda kw: kw["gamma"]), ValueError, "dbeta_out"),
    (dict(dgamma_out=np.zeros(3, np.float64)), TypeError, "dgamma_out"),
    (dict(dx_out=np.zeros((5, 3), np.float32)[:, :2]), ValueError, "dx_out"),
]


@pytest.mark.parametrize("op", ["batch_norm_backward", "layer_norm_backward"])
@pytest.mark.parametrize("change, exc, name", GRAD_BAD)
def test_backward_rejects_bad_input_before_writing(op, change, exc, name):
    stats = 3 if op == "batch_norm_backward" else 5
    if op == "layer_norm_backward" and "mean" in change:
        change = dict(mean=np.ones(stats + 1, np.float32))
    kw = dict(x=np.ones((5, 3), np.float32), gamma=np.ones(3, np.float32), mean=np.zeros(stats, np.float32),
              inv_std=np.ones(stats, np.float32), dy=np.ones((5, 3), np.float32),
              dx_out=np.zeros((5, 3), np.float32), dgamma_out=np.zeros(3, np.float32),
              dbeta_out=np.zeros(3, np.float32))
    kw.update({k: (v(kw) if callable(v) else v) for k, v in change.items()})
    written = [kw[k] for k in ("dx_out", "dgamma_out", "dbeta_out")]
    before = [a.copy() for a in written]
    inputs = [a.copy() for a in (kw["x"], kw["dy"], kw["gamma"])]
    with pytest.raises(exc, match=rf"\b({name})\b"):
        getattr(nf.ops, op)(**kw)
    for a, b in zip(written + [kw["x"], kw["dy"], kw["gamma"]], before + inputs):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("change, exc, name", [
    (dict(x=np.ones((5, 0), np.float32)), ValueError, "x"),
    (dict(x=np.ones((2, 5, 3), np.float32)), ValueError, "x"),
    (dict(gamma=np.ones(3, np.float64)), TypeError, "gamma"),
    (dict(beta=np.ones(4, np.float32)), ValueError, "beta"),
    (dict(epsilon=float("nan")), ValueError, "epsilon"),
    (dict(mean_out=np.zeros(3, np.float32)), ValueError, "mean_out"),
    (dict(out=lambda kw: kw["x"]), ValueError, "out"),
    (dict(inv_std_out=lambda kw: kw["mean_out"]), ValueError, "inv_std_out"),
])
def test_layer_norm_forward_rejects_bad_input_before_writing(change, exc, name):
    kw = dict(x=np.ones((5, 3), np.float32), gamma=np.ones(3, np.float32), beta=np.zeros(3, np.float32),
              out=np.zeros((5, 3), np.float32), mean_out=np.zeros(5, np.float32),
              inv_std_out=np.zeros(5, np.float32))
    kw.update({k: (v(kw) if callable(v) else v) for k, v in change.items()})
    if kw["x"].shape != (5, 3):
        kw.update(out=None, mean_out=None, inv_std_out=None, gamma=None, beta=None)
    written = [kw[k] for k in ("out", "mean_out", "inv_std_out") if kw[k] is not None]
    before = [a.copy() for a in written]
    with pytest.raises(exc, match=rf"\b({name})\b"):
        nf.ops.layer_norm_forward(**kw)
    for a, b in zip(written, before):
        np.testing.assert_array_equal(a, b)
