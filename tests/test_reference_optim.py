"""Tests of the NumPy reference optimizer updates (nnfast.reference.*_update).

1. The seed lecture notes' walk-through (E = (p+2)^2 / 2, p0 = -5, lr = 0.5, 10 steps), with the
   expected trajectory computed here by a plain scalar loop written from the notes' formulas.
2. Every optimizer x convention x option against a scalar re-statement of docs/design.md's table written with
   plain Python floats, element by element, over 10 steps with fresh random gradients (rtol 1e-12).
3. dtypes, multi-tensor lists, a single ndarray, and argument errors (a rejected call modifies nothing).
"""

import math
import zlib

import numpy as np
import pytest

from nnfast import reference as R

pytestmark = pytest.mark.filterwarnings("error")

STEPS = 10


# --------------------------------------------------------------------------------------------------
# 1. seed notes walk-through
# --------------------------------------------------------------------------------------------------

P0, LR = -5.0, 0.5


def grad_e(p):
    """dE/dp for E = 0.5*(p + 2)^2."""
    return p + 2.0


def notes_gd():
    p, out = P0, []
    for _ in range(STEPS):
        p = p - LR * grad_e(p)
        out.append(p)
    return out


def notes_momentum(m=0.5):
    p, v, out = P0, 0.0, []
    for _ in range(STEPS):
        v = m * v - LR * grad_e(p)
        p = p + v
        out.append(p)
    return out


def notes_adagrad():
    p, h, out = P0, 0.0, []
    for _ in range(STEPS):
        g = grad_e(p)
        h = h + g * g
        p = p - LR * g / math.sqrt(h)
        out.append(p)
    return out


def notes_rmsprop(rho=0.9):
    p, h, out = P0, 0.0, []
    for _ in range(STEPS):
        g = grad_e(p)
        h = rho * h + (1 - rho) * g * g
        p = p - LR * g / math.sqrt(h)
        out.append(p)
    return out


def notes_adam(b1=0.9, b2=0.999, eps=1e-8):
    p, m, v, out = P0, 0.0, 0.0, []
    for t in range(1, STEPS + 1):
        g = grad_e(p)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        mhat = m / (1 - b1**t)
        vhat = v / (1 - b2**t)
        p = p - LR * mhat / (math.sqrt(vhat) + eps)
        out.append(p)
    return out


def walk(update, n_state):
    """Run `update(p, g, states, t)` for STEPS steps on the 1-element parameter p; return the path."""
    p = np.array([P0])
    states = [np.zeros(1) for _ in range(n_state)]
    out = []
    for t in range(1, STEPS + 1):
        update(p, grad_e(p), states, t)
        out.append(float(p[0]))
    return out


WALKS = {
    "gd": (notes_gd, 0, lambda p, g, s, t: R.sgd_update(p, g, None, step=t, learning_rate=LR)),
    "momentum": (notes_momentum, 1, lambda p, g, s, t: R.sgd_update(
        p, g, s[0], step=t, learning_rate=LR, momentum=0.5)),
    "adagrad": (notes_adagrad, 1, lambda p, g, s, t: R.adagrad_update(
        p, g, s[0], step=t, learning_rate=LR, epsilon=0.0, convention="torch")),
    "rmsprop": (notes_rmsprop, 1, lambda p, g, s, t: R.rmsprop_update(
        p, g, s[0], None, None, learning_rate=LR, rho=0.9, epsilon=0.0, convention="torch")),
    "adam": (notes_adam, 2, lambda p, g, s, t: R.adam_update(
        p, g, s[0], s[1], None, step=t, learning_rate=LR, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
        convention="torch")),
}


@pytest.mark.parametrize("name", list(WALKS))
def test_seed_notes_walkthrough(name):
    notes, n_state, update = WALKS[name]
    expected = notes()
    assert walk(update, n_state) == pytest.approx(expected, rel=1e-12)
    assert all(math.isfinite(p) for p in expected)


def test_seed_notes_gd_converges_to_minimum():
    path = walk(WALKS["gd"][2], 0)
    distances = [abs(p + 2.0) for p in path]
    assert all(b < a for a, b in zip(distances, distances[1:]))
    assert path[-1] == pytest.approx(-2.0, abs=3.0 / 2**STEPS + 1e-15)  # |p + 2| halves every step


# --------------------------------------------------------------------------------------------------
# 2. scalar re-statement of docs/design.md's table, one element at a time, plain Python floats
# --------------------------------------------------------------------------------------------------

def scalar_sgd(w, g, s, t, *, learning_rate, momentum=0.0, nesterov=False, dampening=0.0,
               weight_decay=0.0, convention="keras"):
    lr, mu, wd = learning_rate, momentum, weight_decay
    if convention == "torch":
        if wd != 0:
            g = g + wd * w
        if mu != 0:
            s["b"] = g if t == 1 else mu * s["b"] + (1 - dampening) * g
            g = g + mu * s["b"] if nesterov else s["b"]
        return w - lr * g
    w = w - lr * wd * w
    if mu == 0:
        return w - lr * g
    s["b"] = mu * s["b"] - lr * g
    if not nesterov:
        return w + s["b"]
    if convention == "keras":
        return w + (mu * s["b"] - lr * g)
    return w + (mu * mu * s["b"] - (1 + mu) * lr * g)  # dlfs


def scalar_adagrad(w, g, s, t, *, learning_rate, epsilon, lr_decay=0.0, weight_decay=0.0,
                   convention="keras"):
    lr, eps, wd = learning_rate, epsilon, weight_decay
    if convention == "keras":
        w = w - lr * wd * w
        s["acc"] = s["acc"] + g * g
        return w - lr * g / math.sqrt(s["acc"] + eps)
    g = g + wd * w
    clr = lr / (1 + (t - 1) * lr_decay)
    s["acc"] = s["acc"] + g * g
    return w - clr * g / (math.sqrt(s["acc"]) + eps)


def scalar_rmsprop(w, g, s, t, *, learning_rate, rho, epsilon, momentum=0.0, centered=False,
                   weight_decay=0.0, convention="keras"):
    lr, eps, mu, wd = learning_rate, epsilon, momentum, weight_decay
    if convention == "keras":
        w = w - lr * wd * w
        s["v"] = rho * s["v"] + (1 - rho) * g * g
        if centered:
            s["a"] = rho * s["a"] + (1 - rho) * g
            denom = s["v"] - s["a"] * s["a"] + eps
        else:
            denom = s["v"] + eps
        inc = lr * g / math.sqrt(denom)
        if mu > 0:
            s["b"] = mu * s["b"] + inc
            return w - s["b"]
        return w - inc
    g = g + wd * w
    s["v"] = rho * s["v"] + (1 - rho) * g * g
    if centered:
        s["a"] = s["a"] + (1 - rho) * (g - s["a"])
        avg = math.sqrt(s["v"] - s["a"] * s["a"])
    else:
        avg = math.sqrt(s["v"])
    avg = avg + eps
    if mu > 0:
        s["b"] = mu * s["b"] + g / avg
        return w - lr * s["b"]
    return w - lr * g / avg


def scalar_adam(w, g, s, t, *, learning_rate, beta_1, beta_2, epsilon, amsgrad=False, weight_decay=0.0,
                decoupled_weight_decay=False, convention="keras"):
    lr, b1, b2, eps, wd = learning_rate, beta_1, beta_2, epsilon, weight_decay
    if convention == "keras":
        w = w - lr * wd * w
        alpha = lr * math.sqrt(1 - b2**t) / (1 - b1**t)
        s["m"] = s["m"] + (1 - b1) * (g - s["m"])
        s["v"] = s["v"] + (1 - b2) * (g * g - s["v"])
        v = s["v"]
        if amsgrad:
            s["vmax"] = max(s["vmax"], v)
            v = s["vmax"]
        return w - alpha * s["m"] / (math.sqrt(v) + eps)
    if wd != 0:
        if decoupled_weight_decay:
            w = w * (1 - lr * wd)
        else:
            g = g + wd * w
    s["m"] = b1 * s["m"] + (1 - b1) * g
    s["v"] = b2 * s["v"] + (1 - b2) * g * g
    bc1, bc2 = 1 - b1**t, 1 - b2**t
    v = s["v"]
    if amsgrad:
        s["vmax"] = max(s["vmax"], v)
        v = s["vmax"]
    denom = math.sqrt(v) / math.sqrt(bc2) + eps
    return w - (lr / bc1) * s["m"] / denom


# Each optimizer: the scalar rule, its state arrays (name in the signature, key in the scalar state,
# when it is needed, initial value), and how to call the reference.
def _sgd_call(params, grads, st, t, kw):
    R.sgd_update(params, grads, st["momentum_buffers"], step=t, **kw)


def _adagrad_call(params, grads, st, t, kw):
    R.adagrad_update(params, grads, st["accumulators"], step=t, **kw)


def _rmsprop_call(params, grads, st, t, kw):
    R.rmsprop_update(params, grads, st["sq_avgs"], st["grad_avgs"], st["momentum_buffers"], **kw)


def _adam_call(params, grads, st, t, kw):
    R.adam_update(params, grads, st["exp_avgs"], st["exp_avg_sqs"], st["max_exp_avg_sqs"], step=t, **kw)


OPTIMIZERS = {
    "sgd": (scalar_sgd, _sgd_call, [
        ("momentum_buffers", "b", lambda kw: kw.get("momentum", 0) != 0, 0.0),
    ]),
    "adagrad": (scalar_adagrad, _adagrad_call, [
        # Keras starts the accumulators at initial_accumulator_value = 0.1, PyTorch at 0
        ("accumulators", "acc", lambda kw: True,
         lambda kw: 0.1 if kw.get("convention", "keras") == "keras" else 0.0),
    ]),
    "rmsprop": (scalar_rmsprop, _rmsprop_call, [
        ("sq_avgs", "v", lambda kw: True, 0.0),
        ("grad_avgs", "a", lambda kw: kw.get("centered", False), 0.0),
        ("momentum_buffers", "b", lambda kw: kw.get("momentum", 0) > 0, 0.0),
    ]),
    "adam": (scalar_adam, _adam_call, [
        ("exp_avgs", "m", lambda kw: True, 0.0),
        ("exp_avg_sqs", "v", lambda kw: True, 0.0),
        ("max_exp_avg_sqs", "vmax", lambda kw: kw.get("amsgrad", False), 0.0),
    ]),
}


def _cases():
    cases = []
    for conv in ("keras", "torch", "dlfs"):
        base = dict(learning_rate=0.1, convention=conv)
        opts = [{}, dict(momentum=0.9), dict(momentum=0.9, nesterov=True), dict(weight_decay=0.05),
                dict(momentum=0.5, nesterov=True, weight_decay=0.05), dict(momentum=0.7, weight_decay=0.05)]
        if conv == "torch":
            opts += [dict(momentum=0.9, dampening=0.3), dict(momentum=0.9, dampening=0.3, weight_decay=0.05)]
        cases += [("sgd", {**base, **o}) for o in opts]
    for conv in ("keras", "torch"):
        base = dict(learning_rate=0.05, epsilon=1e-7, convention=conv)
        opts = [{}, dict(weight_decay=0.05), dict(epsilon=0.0)]
        if conv == "torch":
            opts += [dict(lr_decay=0.1), dict(lr_decay=0.1, weight_decay=0.05, epsilon=1e-10)]
        cases += [("adagrad", {**base, **o}) for o in opts]
    for conv in ("keras", "torch"):
        base = dict(learning_rate=0.01, rho=0.9, epsilon=1e-7, convention=conv)
        opts = [{}, dict(centered=True), dict(momentum=0.5), dict(centered=True, momentum=0.9),
                dict(weight_decay=0.05), dict(centered=True, momentum=0.5, weight_decay=0.05, rho=0.8)]
        cases += [("rmsprop", {**base, **o}) for o in opts]
    for conv in ("keras", "torch"):
        base = dict(learning_rate=0.01, beta_1=0.9, beta_2=0.999, epsilon=1e-7, convention=conv)
        opts = [{}, dict(amsgrad=True), dict(weight_decay=0.004), dict(weight_decay=0.004, amsgrad=True),
                dict(weight_decay=0.004, decoupled_weight_decay=True),
                dict(weight_decay=0.004, decoupled_weight_decay=True, amsgrad=True, beta_1=0.5, beta_2=0.9)]
        cases += [("adam", {**base, **o}) for o in opts]
    return cases


CASES = _cases()


def _case_id(case):
    name, kw = case
    return name + "-" + "-".join(f"{k}={v}" for k, v in kw.items() if k != "learning_rate")


def make_state(name, kw, shapes, dtype):
    """The reference's state lists (None where the option is off), initialised as the caller would."""
    state = {}
    for arg, _, needed, init in OPTIMIZERS[name][2]:
        value = init(kw) if callable(init) else init
        state[arg] = [np.full(s, value, dtype) for s in shapes] if needed(kw) else None
    return state


def run_reference(name, kw, w0, grads, dtype=np.float64):
    w = w0.astype(dtype)
    state = make_state(name, kw, [w.shape], dtype)
    for t, g in enumerate(grads, start=1):
        OPTIMIZERS[name][1]([w], [g.astype(dtype)], state, t, kw)
    return w, {k: v[0] for k, v in state.items() if v is not None}


def run_scalar(name, kw, w0, grads):
    scalar, _, specs = OPTIMIZERS[name]
    w_out, state_out = [], {arg: [] for arg, _, needed, _ in specs if needed(kw)}
    for i in range(w0.size):
        s = {key: (init(kw) if callable(init) else init) for _, key, _, init in specs}
        w = float(w0[i])
        for t, g in enumerate(grads, start=1):
            w = scalar(w, float(g[i]), s, t, **kw)
        w_out.append(w)
        for arg, key, needed, _ in specs:
            if needed(kw):
                state_out[arg].append(s[key])
    return np.array(w_out), {k: np.array(v) for k, v in state_out.items()}


def random_problem(case, size=6):
    rng = np.random.default_rng(zlib.crc32(repr(case).encode()))
    w0 = rng.standard_normal(size)
    grads = [rng.standard_normal(size) for _ in range(STEPS)]
    return w0, grads


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_matches_scalar_restatement(case):
    name, kw = case
    w0, grads = random_problem(case)
    w_ref, st_ref = run_reference(name, kw, w0, grads)
    w_sc, st_sc = run_scalar(name, kw, w0, grads)
    np.testing.assert_allclose(w_ref, w_sc, rtol=1e-12, atol=0)
    assert st_ref.keys() == st_sc.keys()
    for k in st_ref:
        np.testing.assert_allclose(st_ref[k], st_sc[k], rtol=1e-12, atol=0, err_msg=k)
    assert not np.allclose(w_ref, w0)  # something happened


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_float32_stays_float32(case):
    name, kw = case
    w0, grads = random_problem(case, size=9)
    w32, st32 = run_reference(name, kw, w0, grads, np.float32)
    w64, _ = run_reference(name, kw, w0, grads, np.float64)
    assert w32.dtype == np.float32 and all(s.dtype == np.float32 for s in st32.values())
    np.testing.assert_allclose(w32, w64, rtol=1e-4, atol=1e-5)


def test_grads_are_not_modified():
    for name, kw in CASES:
        w0, grads = random_problem((name, kw))
        copies = [g.copy() for g in grads]
        run_reference(name, kw, w0, grads)
        for g, c in zip(grads, copies):
            np.testing.assert_array_equal(g, c)


def test_keras_weight_decay_is_always_decoupled():
    kw = dict(learning_rate=0.01, beta_1=0.9, beta_2=0.999, epsilon=1e-7, weight_decay=0.004)
    w0, grads = random_problem("keras-decoupled")
    a, _ = run_reference("adam", {**kw, "decoupled_weight_decay": False}, w0, grads)
    b, _ = run_reference("adam", {**kw, "decoupled_weight_decay": True}, w0, grads)
    np.testing.assert_array_equal(a, b)


def test_torch_momentum_buffer_is_overwritten_at_step_one():
    w, g, b = np.array([1.0, 2.0]), np.array([0.5, -1.0]), np.array([np.nan, 7.0])
    R.sgd_update(w, g, b, step=1, learning_rate=0.1, momentum=0.9, dampening=0.5, convention="torch")
    np.testing.assert_array_equal(b, g)
    np.testing.assert_allclose(w, [0.95, 2.1], rtol=1e-15)


# --------------------------------------------------------------------------------------------------
# 3. multi-tensor lists, single ndarray, errors
# --------------------------------------------------------------------------------------------------

MULTI = [case for case in CASES if case[1].get("convention") != "dlfs" or case[1].get("nesterov")]


@pytest.mark.parametrize("case", MULTI, ids=_case_id)
def test_multi_tensor_equals_separate_calls(case):
    name, kw = case
    rng = np.random.default_rng(zlib.crc32(repr(("multi", case)).encode()))
    shapes = [(0,), (1,), (7,), (5, 13)]  # 0, 1, 7 and 65 elements
    w0 = [rng.standard_normal(s) for s in shapes]
    grads = [[rng.standard_normal(s) for s in shapes] for _ in range(3)]
    call = OPTIMIZERS[name][1]

    together = [w.copy() for w in w0]
    st_together = make_state(name, kw, shapes, np.float64)
    for t, gs in enumerate(grads, start=1):
        call(together, gs, st_together, t, kw)

    for i, s in enumerate(shapes):
        alone = w0[i].copy()
        st_alone = make_state(name, kw, [s], np.float64)
        for t, gs in enumerate(grads, start=1):
            if i % 2:  # a single ndarray is a one-element list
                call(alone, gs[i], {k: None if v is None else v[0] for k, v in st_alone.items()}, t, kw)
            else:
                call([alone], [gs[i]], st_alone, t, kw)
        np.testing.assert_array_equal(together[i], alone)
        for k, v in st_alone.items():
            if v is not None:
                np.testing.assert_array_equal(st_together[k][i], v[0])


def test_empty_list_is_a_no_op():
    assert R.sgd_update([], [], None, step=1, learning_rate=0.1) is None
    R.adam_update([], [], [], [], None, step=1, learning_rate=0.1, beta_1=0.9, beta_2=0.999, epsilon=1e-7)


def test_updates_return_none():
    w, g = np.ones(3), np.ones(3)
    assert R.sgd_update(w, g, None, step=1, learning_rate=0.1) is None
    assert R.adagrad_update(w, g, np.zeros(3), step=1, learning_rate=0.1, epsilon=1e-7) is None
    assert R.rmsprop_update(w, g, np.zeros(3), None, None, learning_rate=0.1, rho=0.9, epsilon=1e-7) is None
    assert R.adam_update(w, g, np.zeros(3), np.zeros(3), None, step=1, learning_rate=0.1, beta_1=0.9,
                         beta_2=0.999, epsilon=1e-7) is None


def test_constants():
    assert R.CONVENTIONS == ("keras", "torch")
    assert set(R.ACTIVATIONS) == {"linear", "relu", "leaky_relu", "sigmoid", "tanh", "softmax"}


def test_errors_modify_nothing():
    w = [np.ones(3), np.ones(4)]
    g = [np.ones(3), np.ones(5)]  # second grad has the wrong shape
    with pytest.raises(ValueError):
        R.sgd_update(w, g, None, step=1, learning_rate=0.1)
    np.testing.assert_array_equal(w[0], 1.0)
    m, v = [np.zeros(3), np.zeros(4)], [np.zeros(3), np.zeros(4, np.float32)]
    with pytest.raises(TypeError):
        R.adam_update(w, [np.ones(3), np.ones(4)], m, v, None, step=1, learning_rate=0.1, beta_1=0.9,
                      beta_2=0.999, epsilon=1e-7)
    np.testing.assert_array_equal(w[0], 1.0)
    np.testing.assert_array_equal(m[0], 0.0)


def test_argument_errors():
    w, g = np.ones(3), np.ones(3)
    with pytest.raises(ValueError, match="convention"):
        R.sgd_update(w, g, None, step=1, learning_rate=0.1, convention="jax")
    with pytest.raises(ValueError, match="convention"):
        R.adam_update(w, g, np.zeros(3), np.zeros(3), None, step=1, learning_rate=0.1, beta_1=0.9,
                      beta_2=0.999, epsilon=1e-7, convention="dlfs")
    with pytest.raises(TypeError):
        R.sgd_update(w, g.astype(np.float32), None, step=1, learning_rate=0.1)
    with pytest.raises(TypeError):  # one dtype per call, across tensors too
        R.sgd_update([w, np.ones(2, np.float32)], [g, np.ones(2, np.float32)], None, step=1,
                     learning_rate=0.1)
    with pytest.raises(ValueError, match="momentum_buffers"):
        R.sgd_update(w, g, None, step=1, learning_rate=0.1, momentum=0.9)
    with pytest.raises(ValueError, match="step"):
        R.sgd_update(w, g, None, step=0, learning_rate=0.1)
    with pytest.raises(ValueError, match="grads"):
        R.sgd_update([w, w.copy()], [g], None, step=1, learning_rate=0.1)
    with pytest.raises(ValueError, match="grad_avgs"):
        R.rmsprop_update(w, g, np.zeros(3), None, None, learning_rate=0.1, rho=0.9, epsilon=1e-7,
                         centered=True)
    with pytest.raises(ValueError, match="max_exp_avg_sqs"):
        R.adam_update(w, g, np.zeros(3), np.zeros(3), None, step=1, learning_rate=0.1, beta_1=0.9,
                      beta_2=0.999, epsilon=1e-7, amsgrad=True)
    with pytest.raises(ValueError, match="beta_1"):
        R.adam_update(w, g, np.zeros(3), np.zeros(3), None, step=1, learning_rate=0.1, beta_1=1.0,
                      beta_2=0.999, epsilon=1e-7)
    with pytest.raises(ValueError, match="nesterov"):
        R.sgd_update(w, g, np.zeros(3), step=1, learning_rate=0.1, momentum=0.9, nesterov=True,
                     dampening=0.1, convention="torch")
    with pytest.raises(ValueError, match="dampening"):
        R.sgd_update(w, g, np.zeros(3), step=1, learning_rate=0.1, momentum=0.9, dampening=0.1)
    with pytest.raises(ValueError, match="lr_decay"):
        R.adagrad_update(w, g, np.zeros(3), step=1, learning_rate=0.1, epsilon=1e-7, lr_decay=0.1)
    with pytest.raises(ValueError, match="learning_rate"):
        R.sgd_update(w, g, None, step=1, learning_rate=-0.1)
    with pytest.raises(ValueError, match="share memory"):
        R.adam_update(w, g, w, np.zeros(3), None, step=1, learning_rate=0.1, beta_1=0.9, beta_2=0.999,
                      epsilon=1e-7)
    ro = np.ones(3)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="writeable"):
        R.sgd_update(ro, g, None, step=1, learning_rate=0.1)
    with pytest.raises(TypeError):
        R.sgd_update([[1.0, 2.0]], [[1.0, 2.0]], None, step=1, learning_rate=0.1)  # lists are not in place
    np.testing.assert_array_equal(w, 1.0)
