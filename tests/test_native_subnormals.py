"""Flush-to-zero of subnormals (nnfast.set_flush_denormal): the kernels and nnfast.reference apply
one semantics, bit for bit, on data built to produce subnormals - every optimizer in both
conventions, elementwise activations, extreme logits, the one-call training step - with flushing on
and off, 1 and 2 threads; the caller's floating-point mode is never changed.

tests/test_isa_levels.py re-runs this file under every ISA level the machine supports.
"""
import numpy as np
import pytest
from test_native_layer_step import assert_same, build, data
from test_native_optim import CASES, SLOTS
from test_optimizers_more import NATIVE_CASES, SIGNATURE

import nnfast as nf
from nnfast import _core
from nnfast import reference as ref
from nnfast.utils import subnormals

from conftest import DTYPES, assert_same_bits, case_id, num_threads, on_both_thread_counts, ulp_tol

FLUSH = pytest.mark.parametrize("flush", [True, False], ids=["flush", "ieee"])


def tiny(dtype):
    return np.finfo(dtype).tiny


def subnormal_count(a):
    return int(np.count_nonzero((np.abs(a) < tiny(a.dtype)) & (a != 0)))


# ---- every optimizer: decaying moments, tiny gradients ------------------------------------------------

def signature(opt):
    """(state arrays per tensor, whether the update takes `step`)."""
    if opt in SLOTS:
        return len(SLOTS[opt][0]), SLOTS[opt][1]
    return SIGNATURE[opt]


OPTIMIZERS = [(o, c, kw) for o, c, kw in CASES] + list(NATIVE_CASES)
OPTIMIZER_IDS = [case_id((f"{o}-{c}", kw)) for o, c, kw in OPTIMIZERS]


def subnormal_problem(rng, n, dtype, steps=8):
    """Parameters (a quarter of them near the smallest normal), state seeded around it (from 0.4x
    to 20x: some already subnormal, some decaying through it), and gradients of every scale that
    makes subnormals - sqrt(tiny) (its square crosses), subnormal, near tiny - among normal ones,
    for the first half of the steps; zero afterwards, so the moments decay."""
    t = tiny(dtype)
    near = t * rng.uniform(0.5, 3.0, n) * rng.choice([-1.0, 1.0], n)
    params = np.where(rng.uniform(size=n) < 0.25, near, rng.standard_normal(n)).astype(dtype)
    seed = (t * np.exp(rng.uniform(-1.0, 3.0, n))).astype(dtype)
    scales = np.array([np.sqrt(t), 0.3 * t, 4 * t, 1.0])
    grads = [(rng.standard_normal(n) * rng.choice(scales, n)).astype(dtype) if k < steps // 2
             else np.zeros(n, dtype) for k in range(steps)]
    return params, seed, grads


def trajectory(module, case, params, seed, grads):
    """Params and state after every gradient of `grads` (inputs copied; state starts at `seed`)."""
    opt, convention, kwargs = case
    slots, takes_step = signature(opt)
    w = params.copy()
    state = [seed.copy() for _ in range(slots)]
    fn = getattr(module, f"{opt}_update")
    for t, g in enumerate(grads, start=1):
        step = dict(step=t) if takes_step else {}
        fn([w], [g], *[[s] for s in state], learning_rate=0.01, convention=convention, **step, **kwargs)
    return [w, *state]


@FLUSH
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("size", (0, 1, 17, 1000, 70001))
@pytest.mark.parametrize("case", OPTIMIZERS, ids=OPTIMIZER_IDS)
def test_optimizers_match_the_reference_bit_for_bit(rng, case, size, dtype, flush):
    params, seed, grads = subnormal_problem(rng, size, dtype)
    with nf.flush_denormal(flush):
        got = on_both_thread_counts(lambda: trajectory(nf.ops, case, params, seed, grads))
        with np.errstate(divide="ignore", invalid="ignore"):  # Ftrl's 0/0 where DAZ zeroes an accumulator
            want = trajectory(ref, case, params, seed, grads)
    for a, b in zip(got, want):
        assert_same_bits(a, b)
    if size >= 1000:  # the data reaches the subnormal range: flushing changes the results
        with nf.flush_denormal(not flush):
            other = trajectory(nf.ops, case, params, seed, grads)
        assert any(not np.array_equal(a.view(np.uint8), b.view(np.uint8)) for a, b in zip(got, other))


@FLUSH
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("convention", ["keras", "torch"])
def test_adam_moments_decaying_for_hundreds_of_steps(rng, convention, dtype, flush):
    """Moments seeded just above the smallest normal decay through it under zero gradients."""
    n, t = 40000, tiny(dtype)
    params = rng.standard_normal(n).astype(dtype)
    m0 = (t * rng.uniform(1e8, 1e10, n) * rng.choice([-1.0, 1.0], n)).astype(dtype)
    v0 = (t * rng.uniform(1.0, 1.3, n)).astype(dtype)
    zero = np.zeros(n, dtype)

    def run(module):
        w, m, v = params.copy(), m0.copy(), v0.copy()
        for step in range(1, 301):
            module.adam_update([w], [zero], [m], [v], None, step=step, learning_rate=1e-3, beta_1=0.9,
                               beta_2=0.999, epsilon=1e-7, convention=convention)
        return [w, m, v]

    with nf.flush_denormal(flush):
        got = on_both_thread_counts(lambda: run(nf.ops))
        want = run(ref)
    for a, b in zip(got, want):
        assert_same_bits(a, b)
    if not flush:
        assert subnormal_count(got[2]) > n // 2
    elif convention == "torch":  # b2*v flushes to zero once it is below the smallest normal
        assert all(subnormal_count(a) == 0 for a in got) and np.count_nonzero(got[2]) < n // 2
    else:  # Keras's v += (1-b2)*(0 - v) stops where (1-b2)*v is below it: v stays normal
        assert all(subnormal_count(a) == 0 for a in got) and (got[2] >= tiny(dtype)).all()


@pytest.mark.parametrize("dtype", DTYPES)
def test_results_below_the_smallest_normal_become_signed_zeros(dtype):
    t = tiny(dtype)
    # w - lr*g: 0.5*tiny and -0.5*tiny; and a product whose exact value, (1 - 2^-p)*tiny, is tiny at
    # full precision (flushed, as x86 detects tininess after rounding) though IEEE rounds it up to tiny.
    almost = 1.0 - float(np.finfo(dtype).epsneg)
    for lr, w0, g0, on, off in [(1.0, 1.5 * t, t, 0.0, 0.5 * t), (1.0, -1.5 * t, -t, -0.0, -0.5 * t),
                                (almost, 0.0, t, 0.0, -t)]:
        for flush, want in ((True, on), (False, off)):
            with nf.flush_denormal(flush):
                for module in (nf.ops, ref):
                    w = np.array([w0], dtype)
                    module.sgd_update([w], [np.array([g0], dtype)], None, step=1, learning_rate=lr)
                    assert_same_bits(w, np.array([want], dtype))


# ---- elementwise activations, extreme logits ------------------------------------------------------------

def around_tiny(rng, dtype, n=4099):
    """Values near and below the smallest normal, both signs, with zeros and normal values."""
    t = tiny(dtype)
    v = t * np.exp(rng.uniform(-20.0, 3.0, n)) * rng.choice([-1.0, 1.0], n)
    v[::7] = rng.standard_normal(len(v[::7]))
    v[::11] = np.copysign(0.0, rng.standard_normal(len(v[::11])))
    return v.astype(dtype)


@FLUSH
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("activation", ["linear", "relu", "leaky_relu"])
def test_elementwise_activations_on_subnormals_match_bit_for_bit(rng, activation, dtype, flush):
    z, dy = around_tiny(rng, dtype), around_tiny(rng, dtype)
    with nf.flush_denormal(flush):
        y = nf.ops.activation_forward(z, activation)
        assert_same_bits(y, ref.activation_forward(z, activation))
        assert_same_bits(nf.ops.activation_backward(y, dy, activation), ref.activation_backward(y, dy, activation))


@FLUSH
@pytest.mark.parametrize("dtype", DTYPES)
def test_embedding_sums_of_subnormals_match_bit_for_bit(rng, dtype, flush):
    dy = around_tiny(rng, dtype, 4096).reshape(256, 16)
    indices = rng.integers(0, 9, 256)  # many rows summed into each: subnormal partial sums on the way
    with nf.flush_denormal(flush):
        dw = nf.ops.embedding_backward(dy, indices, 9)
        assert_same_bits(dw, ref.embedding_backward(dy, indices, 9))
    if flush:
        assert subnormal_count(dw) == 0


def assert_flushed_like(got, want, dtype, flush):
    """Flushing on: exact zeros in the same places, the rest within a few ulps (the kernels' exp is
    the C library's, the reference's NumPy's). Off: IEEE's subnormals appear."""
    if flush:
        np.testing.assert_array_equal(got == 0, want == 0)
        assert subnormal_count(got) == 0
        np.testing.assert_allclose(got, want, rtol=ulp_tol(dtype, 64)["rtol"], atol=0)
    else:
        assert subnormal_count(got) > 0 and subnormal_count(want) > 0
        np.testing.assert_allclose(got, want, **ulp_tol(dtype, 64))


def extreme_logits(rng, dtype, rows=64, cols=10):
    """Logits whose softmax (and sigmoid) underflow: gaps below ln(tiny), clear of its boundary."""
    low = -np.log(tiny(dtype))  # 87.3 (float32), 708.4 (float64)
    z = rng.standard_normal((rows, cols))
    far = rng.uniform(low + 2.0, low + 30.0, (rows, cols))
    return np.where(rng.uniform(size=(rows, cols)) < 0.4, -far, z).astype(dtype)


@FLUSH
@pytest.mark.parametrize("dtype", DTYPES)
def test_extreme_logits_softmax_cross_entropy_and_sigmoid(rng, dtype, flush):
    z = extreme_logits(rng, dtype)
    labels = rng.integers(0, z.shape[1], z.shape[0])
    with nf.flush_denormal(flush), num_threads(2):
        loss, grad = nf.ops.softmax_cross_entropy(z, labels)
        want_loss, want_grad = ref.softmax_cross_entropy(z, labels)
        y, want_y = nf.ops.activation_forward(z, "softmax"), ref.activation_forward(z, "softmax")
        s, want_s = nf.ops.activation_forward(z, "sigmoid"), ref.activation_forward(z, "sigmoid")
    assert loss == pytest.approx(want_loss, rel=1e-5 if dtype == np.float32 else 1e-13)
    for got, want in ((grad, want_grad), (y, want_y), (s, want_s)):
        assert_flushed_like(got, want, dtype, flush)


# ---- the training step ---------------------------------------------------------------------------------

@FLUSH
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_the_one_call_step_runs_flushed_like_the_python_loop(dtype, flush):
    """Inputs scaled near the smallest normal make activations, gradients and Adam's moments
    subnormal; the native step and the Python loop flush (or keep) them identically."""
    x, y = data(90, 3, True)
    x = x * float(np.sqrt(tiny(dtype))) * 100
    models, histories = [], []
    with nf.flush_denormal(flush):
        for fast in (True, False):
            m = build("activation", "sparse_categorical_crossentropy", dtype, fast)
            histories.append(m.fit(x, y, batch_size=16, epochs=2, verbose=0).history["loss"])
            models.append(m)
    assert models[0].native_planner is not None and models[1].native_planner is None
    assert histories[0] == histories[1]
    assert_same(*models)
    slots = models[0].optimizer.get_state()["slots"]
    moments = sum(subnormal_count(s) for slot in slots.values() for s in slot)
    assert (moments == 0) if flush else (moments > 0)


# ---- the setting and the caller's floating-point mode -------------------------------------------------

def control(mode):
    """The mode's control bits (MXCSR's low six bits are exception flags, which NumPy's own work sets)."""
    return mode & ~0x3F


def numpy_keeps_subnormals():
    return np.float32(1e-40) * np.float32(1.0) != 0


def test_the_setting_is_on_by_default_and_shown():
    supported = nf.config()["flush_denormal_supported"]
    assert nf.get_flush_denormal() is supported and nf.config()["flush_denormal"] is supported
    assert subnormals.enabled() is supported
    with nf.flush_denormal(False):
        assert not nf.get_flush_denormal() and not subnormals.enabled() and not nf.config()["flush_denormal"]
    assert nf.get_flush_denormal() is supported


def test_show_config_reports_the_setting(capsys):
    with nf.flush_denormal(False):
        nf.show_config()
    assert "subnormals:      kept (IEEE gradual underflow" in capsys.readouterr().out


@pytest.mark.parametrize("bad", [1, "yes", None, 0.0])
def test_set_flush_denormal_takes_a_bool(bad):
    before = nf.get_flush_denormal()
    with pytest.raises(TypeError, match="on must be True or False, got"):
        nf.set_flush_denormal(bad)
    assert nf.get_flush_denormal() is before


def entry_points(rng):
    """A call of every kind of binding, large enough for 2 threads: optimizer, GEMM, activation, loss,
    dropout, normalization and the one-call step."""
    x = rng.standard_normal((300, 300)).astype(np.float32)
    p, g = [x.copy()], [x.copy()]
    state = [[np.zeros_like(x)], [np.zeros_like(x)]]
    model = build("activation", "sparse_categorical_crossentropy", "float32", True)
    xs, ys = data(64, 3, True)
    return [
        lambda: nf.ops.adam_update(p, g, *state, None, step=1, learning_rate=1e-3, beta_1=0.9, beta_2=0.999,
                                   epsilon=1e-7),
        lambda: nf.ops.gemm(x, x),
        lambda: nf.ops.activation_forward(x, "tanh"),
        lambda: nf.ops.softmax_cross_entropy(x, np.zeros(300, np.int64)),
        lambda: nf.ops.dropout_forward(x, 0.5, 1),
        lambda: nf.ops.layer_norm_forward(x, None, None),
        lambda: model.fit(xs, ys, batch_size=16, epochs=1, verbose=0),
    ]


@pytest.mark.skipif(not _core.build_info()["flush_denormal_supported"], reason="no flush control on this CPU")
@pytest.mark.parametrize("flush", [True, False])
def test_the_callers_floating_point_mode_is_restored(rng, flush):
    before = control(_core.fp_mode())
    with nf.flush_denormal(flush), num_threads(2):
        for call in entry_points(rng):
            call()
            assert control(_core.fp_mode()) == before
            assert numpy_keeps_subnormals()


@pytest.mark.skipif(not _core.build_info()["flush_denormal_supported"], reason="no flush control on this CPU")
def test_a_caller_in_flush_mode_gets_ieee_kernels_when_the_setting_is_off(rng, torch):
    """torch.set_flush_denormal(True) sets FTZ|DAZ on the calling thread: nnfast's kernels still run
    in their own mode (IEEE here, subnormals kept, as the reference) and the caller's mode survives."""
    params, seed, grads = subnormal_problem(rng, 70001, np.float32)
    case = ("adam", "torch", dict(beta_1=0.9, beta_2=0.999, epsilon=1e-8))
    if not torch.set_flush_denormal(True):
        pytest.skip("torch cannot set flush-to-zero here")
    try:
        caller = control(_core.fp_mode())
        assert not numpy_keeps_subnormals()
        with nf.flush_denormal(False):
            got = on_both_thread_counts(lambda: trajectory(nf.ops, case, params, seed, grads))
            assert control(_core.fp_mode()) == caller
    finally:
        torch.set_flush_denormal(False)
    with nf.flush_denormal(False):
        want = trajectory(ref, case, params, seed, grads)
    for a, b in zip(got, want):
        assert_same_bits(a, b)
    assert sum(map(subnormal_count, got)) > 0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("zeros", [0, 1000], ids=["no-zeros", "many-zeros"])
def test_daz_and_ftz_flush_exactly_the_subnormals(rng, dtype, zeros):
    # The flush emulation returns an array with no subnormal untouched (zeros are not subnormal:
    # an array full of them, after a relu or a dropout, takes the fast path); every subnormal, of
    # either sign, becomes a zero of its sign; every other value keeps its bits.
    tiny = np.finfo(dtype).tiny
    special = np.array([0.0, -0.0, tiny, -tiny, tiny / 2, -tiny / 3, tiny / 2**20, np.inf, -np.inf, np.nan, 1.5],
                       dtype)
    mixed = np.concatenate([rng.standard_normal(500).astype(dtype), np.zeros(zeros, dtype), special])
    want = np.where((np.abs(mixed) < tiny) & (mixed != 0), np.copysign(dtype(0), mixed), mixed)
    for flush in (subnormals.daz, lambda a: subnormals.ftz(a.copy())):
        assert flush(mixed).tobytes() == want.tobytes()
    plain = mixed[np.isfinite(mixed) & ~((np.abs(mixed) < tiny) & (mixed != 0))]
    assert subnormals.daz(plain) is plain
    assert subnormals.ftz(plain) is plain
