"""Native fused optimizer steps against nnfast.reference, with 1 and 2 threads.

The kernels perform the reference's operations in the reference's order with no FMA contraction,
and every operation involved (+, -, *, /, sqrt, max) is correctly rounded in IEEE arithmetic, so
native results must equal the reference to the last bit (a stronger check than the 1e-12 / few-ulp
tolerances the design asks for). tests/test_isa_levels.py re-runs this file at every ISA level.
"""
import numpy as np
import pytest

import nnfast as nf
from nnfast import reference as ref

from conftest import DTYPES, SIZES, assert_non_finite_gradients_propagate, on_both_thread_counts, random_problem

pytestmark = pytest.mark.filterwarnings("error")

# optimizer -> (state slots in signature order, whether it takes `step`)
SLOTS = {
    "sgd": (("momentum_buffers",), True),
    "adagrad": (("accumulators",), True),
    "rmsprop": (("sq_avgs", "grad_avgs", "momentum_buffers"), False),
    "adam": (("exp_avgs", "exp_avg_sqs", "max_exp_avg_sqs"), True),
}
RMS = dict(rho=0.9, epsilon=1e-7)
ADAM = dict(beta_1=0.9, beta_2=0.999, epsilon=1e-7)
CASES = [
    ("sgd", "keras", {}),
    ("sgd", "keras", dict(momentum=0.9)),
    ("sgd", "keras", dict(momentum=0.9, nesterov=True)),
    ("sgd", "keras", dict(momentum=0.5, weight_decay=0.1)),
    ("sgd", "dlfs", dict(momentum=0.9, nesterov=True)),
    ("sgd", "torch", dict(weight_decay=0.1)),
    ("sgd", "torch", dict(momentum=0.9, dampening=0.3, weight_decay=0.1)),
    ("sgd", "torch", dict(momentum=0.9, nesterov=True)),
    ("sgd", "torch", dict(weight_decay=0.1, maximize=True)),
    ("sgd", "torch", dict(momentum=0.9, dampening=0.3, weight_decay=0.1, maximize=True)),
    ("sgd", "torch", dict(momentum=0.9, nesterov=True, maximize=True)),
    ("adagrad", "keras", dict(epsilon=1e-7)),
    ("adagrad", "keras", dict(epsilon=1e-7, weight_decay=0.05)),
    ("adagrad", "torch", dict(epsilon=1e-10)),
    ("adagrad", "torch", dict(epsilon=1e-10, lr_decay=0.01, weight_decay=0.05)),
    ("adagrad", "torch", dict(epsilon=1e-10, weight_decay=0.05, maximize=True)),
    ("rmsprop", "keras", RMS),
    ("rmsprop", "keras", dict(RMS, centered=True)),
    ("rmsprop", "keras", dict(RMS, momentum=0.5)),
    ("rmsprop", "keras", dict(RMS, centered=True, momentum=0.5, weight_decay=0.05)),
    ("rmsprop", "torch", dict(RMS, epsilon=1e-8)),
    ("rmsprop", "torch", dict(RMS, centered=True)),
    ("rmsprop", "torch", dict(RMS, momentum=0.5, weight_decay=0.05)),
    ("rmsprop", "torch", dict(RMS, centered=True, momentum=0.5)),
    ("rmsprop", "torch", dict(RMS, maximize=True)),
    ("rmsprop", "torch", dict(RMS, centered=True, momentum=0.5, weight_decay=0.05, maximize=True)),
    ("adam", "keras", ADAM),
    ("adam", "keras", dict(ADAM, amsgrad=True)),
    ("adam", "keras", dict(ADAM, weight_decay=0.004)),
    ("adam", "torch", dict(ADAM, epsilon=1e-8)),
    ("adam", "torch", dict(ADAM, amsgrad=True, weight_decay=0.01)),
    ("adam", "torch", dict(ADAM, weight_decay=0.01, decoupled_weight_decay=True)),
    ("adam", "torch", dict(ADAM, weight_decay=0.01, maximize=True)),
    ("adam", "torch", dict(ADAM, amsgrad=True, weight_decay=0.01, decoupled_weight_decay=True, maximize=True)),
]
CASE_IDS = [f"{o}-{c}-" + ",".join(f"{k}={v}" for k, v in kw.items()) for o, c, kw in CASES]


def new_state(opt, convention, params):
    """Slots as the caller creates them (zeros; Keras Adagrad starts at 0.1)."""
    start = 0.1 if (opt, convention) == ("adagrad", "keras") else 0.0
    return [[np.full_like(p, start) for p in params] for _ in SLOTS[opt][0]]


def step_fn(module, opt, convention, kwargs):
    fn = getattr(module, f"{opt}_update")
    takes_step = SLOTS[opt][1]

    def step(params, grads, state, t):
        extra = dict(step=t) if takes_step else {}
        fn(params, grads, *state, learning_rate=0.01, convention=convention, **extra, **kwargs)
    return step


def trajectory(module, opt, convention, kwargs, params, grad_seq):
    """Params and state after applying every gradient list in grad_seq (copies of the inputs)."""
    params = [p.copy() for p in params]
    state = new_state(opt, convention, params)
    step = step_fn(module, opt, convention, kwargs)
    for t, grads in enumerate(grad_seq, start=1):
        step(params, grads, state, t)
    return params + [s for slot in state for s in slot]


def native_trajectory(*args):
    """The native trajectory with 1 and with 2 threads: identical bits required."""
    return on_both_thread_counts(lambda: trajectory(nf.ops, *args))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("size", SIZES + (100003,))
@pytest.mark.parametrize("opt, convention, kwargs", CASES, ids=CASE_IDS)
def test_matches_reference_bit_for_bit(rng, opt, convention, kwargs, size, dtype):
    params, grads = random_problem(rng, [size], dtype)
    got = native_trajectory(opt, convention, kwargs, params, grads)
    want = trajectory(ref, opt, convention, kwargs, params, grads)
    assert params[0].dtype == got[0].dtype == dtype
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a, b)
    if size:
        assert not np.array_equal(got[0], params[0]), "the step must move the parameters"


def at_offset(values, offset):
    """A copy of `values` that starts `offset` elements past a 64-byte boundary (a view into a larger
    buffer): the kernels align their loops on the parameters, whatever the other arrays' offsets."""
    step = values.itemsize
    buf = np.empty(values.size + 64 // step + 64, values.dtype)
    start = (-buf.ctypes.data % 64) // step + offset
    view = buf[start:start + values.size]
    view[...] = values
    assert view.ctypes.data % 64 == offset * step
    return view


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("opt, convention, kwargs", CASES, ids=CASE_IDS)
def test_any_alignment_equals_reference(rng, opt, convention, kwargs, dtype):
    lanes = 64 // np.dtype(dtype).itemsize
    params, grads = random_problem(rng, [65, 100003], dtype, steps=3)
    want = trajectory(ref, opt, convention, kwargs, params, grads)
    for offset in (1, lanes // 2 - 1, lanes - 1):
        def run(offset=offset):
            ps = [at_offset(p, offset) for p in params]
            state = [[at_offset(a, (offset + 5) % lanes) for a in slot] for slot in new_state(opt, convention, ps)]
            step = step_fn(nf.ops, opt, convention, kwargs)
            for t, gs in enumerate(grads, start=1):
                step(ps, [at_offset(g, (offset + 3) % lanes) for g in gs], state, t)
            return ps + [a for slot in state for a in slot]
        got = on_both_thread_counts(run)
        for a, b in zip(got, want):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("opt, convention, kwargs", CASES, ids=CASE_IDS)
def test_multi_tensor_call_equals_reference(rng, opt, convention, kwargs):
    params, grads = random_problem(rng, [0, 1, 7, 65, 1000, 40001, 3], np.float32, steps=4)
    got = native_trajectory(opt, convention, kwargs, params, grads)
    want = trajectory(ref, opt, convention, kwargs, params, grads)
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a, b)


def test_two_dimensional_tensors_and_single_array_form(rng):
    w = rng.standard_normal((33, 17))
    g = rng.standard_normal((33, 17))
    m, v = np.zeros_like(w), np.zeros_like(w)
    w2, m2, v2 = w.copy(), m.copy(), v.copy()
    nf.ops.adam_update(w, g, m, v, None, step=1, learning_rate=0.1, **ADAM)
    ref.adam_update([w2], [g], [m2], [v2], None, step=1, learning_rate=0.1, **ADAM)
    np.testing.assert_array_equal(w, w2)


def test_non_finite_gradients_propagate_like_the_reference():
    assert_non_finite_gradients_propagate(CASES, trajectory)


# --- bad input: a clear exception naming the argument, and nothing modified -------------------

def adam_args(n=8, dtype=np.float32, tensors=2):
    rng = np.random.default_rng(7)
    params = [rng.standard_normal(n + i).astype(dtype) for i in range(tensors)]
    grads = [rng.standard_normal(n + i).astype(dtype) for i in range(tensors)]
    m = [np.full_like(p, 0.5) for p in params]
    v = [np.full_like(p, 0.25) for p in params]
    return params, grads, m, v


def assert_rejected(exc, words, call, arrays):
    before = [a.copy() for a in arrays]
    with pytest.raises(exc, match=words):
        call()
    for a, b in zip(arrays, before):
        np.testing.assert_array_equal(a, b)


HYPER = dict(step=1, learning_rate=0.1, **ADAM)


@pytest.mark.parametrize("mutate, exc, words", [
    (lambda p, g, m, v: g.pop(), ValueError, r"grads must have one array per param \(2\), got 1"),
    (lambda p, g, m, v: v.append(v[0].copy()), ValueError, r"exp_avg_sqs must have one array per param"),
    (lambda p, g, m, v: g.__setitem__(1, g[1][:-1].copy()),
     ValueError, r"grads\[1\] must have the shape of params\[1\] \(9,\), got \(8,\)"),
    (lambda p, g, m, v: m.__setitem__(0, m[0].astype(np.float64)),
     TypeError, r"exp_avgs\[0\] must have the dtype of .*\(float32\), got float64"),
    (lambda p, g, m, v: g.__setitem__(0, g[0].astype(np.int32)),
     TypeError, r"grads\[0\] must have dtype float32 or float64, got int32"),
    (lambda p, g, m, v: g.__setitem__(0, list(g[0])), TypeError, r"grads\[0\] must be a numpy.ndarray, got list"),
    (lambda p, g, m, v: p.__setitem__(1, np.zeros(18, np.float32)[::2]),
     ValueError, r"params\[1\] must be C-contiguous"),
    (lambda p, g, m, v: p[0].setflags(write=False), ValueError, r"params\[0\] must be writable"),
    (lambda p, g, m, v: (p.__setitem__(1, p[0]) or g.__setitem__(1, g[0]) or m.__setitem__(1, m[0].copy())
                         or v.__setitem__(1, v[0].copy())),
     ValueError, r"params\[1\] must not share memory with params\[0\]"
                 r"|params\[0\] must not share memory with params\[1\]"),
    (lambda p, g, m, v: g.__setitem__(0, p[0]), ValueError, r"grads\[0\] must not share memory with params\[0\]"),
    (lambda p, g, m, v: m.__setitem__(1, p[1]), ValueError, r"share memory"),
    (lambda p, g, m, v: m.__setitem__(1, v[1]), ValueError, r"share memory"),
], ids=["grads-length", "state-length", "shape", "state-dtype", "int-grad", "list-grad", "non-contiguous",
        "read-only", "param-twice", "grad-aliases-param", "state-aliases-param", "state-aliases-state"])
def test_bad_tensors_are_rejected_before_any_write(mutate, exc, words):
    p, g, m, v = adam_args()
    mutate(p, g, m, v)
    arrays = [a for a in p + g + m + v if isinstance(a, np.ndarray)]
    assert_rejected(exc, words, lambda: nf.ops.adam_update(p, g, m, v, None, **HYPER), arrays)


@pytest.mark.parametrize("opt, kwargs, exc, words", [
    ("adam", dict(HYPER, learning_rate=-0.1), ValueError, r"learning_rate must be in \[0.0, inf\], got -0.1"),
    ("adam", dict(HYPER, epsilon=-1e-7), ValueError, r"epsilon must be in"),
    ("adam", dict(HYPER, beta_1=1.0), ValueError, r"beta_1 must be in \[0.0, 1.0\), got 1.0"),
    ("adam", dict(HYPER, beta_2=-0.5), ValueError, r"beta_2 must be in"),
    ("adam", dict(HYPER, learning_rate=float("nan")), ValueError, r"learning_rate must be in"),
    ("adam", dict(HYPER, learning_rate="0.1"), TypeError, r"learning_rate must be a real number, got str"),
    ("adam", dict(HYPER, step=0), ValueError, r"step must be >= 1"),
    ("adam", dict(HYPER, step=1.5), TypeError, r"step must be an int"),
    ("adam", dict(HYPER, convention="pytorch"),
     ValueError, r"convention must be one of 'keras', 'torch', got 'pytorch'"),
    ("adam", dict(HYPER, amsgrad=True), ValueError, r"max_exp_avg_sqs must be given when amsgrad=True"),
    ("sgd", dict(step=1, learning_rate=0.1, momentum=1.5), ValueError, r"momentum must be in \[0.0, 1.0\], got 1.5"),
    ("sgd", dict(step=1, learning_rate=0.1, momentum=-0.1), ValueError, r"momentum must be in"),
    ("sgd", dict(step=1, learning_rate=0.1, momentum=0.9),
     ValueError, r"momentum_buffers must be given when momentum != 0"),
    ("sgd", dict(step=1, learning_rate=0.1, nesterov=True, convention="torch"),
     ValueError, r"nesterov .* requires momentum > 0 and dampening == 0"),
    ("sgd", dict(step=1, learning_rate=0.1, momentum=0.9, nesterov=True, dampening=0.1, convention="torch"),
     ValueError, r"requires momentum > 0 and dampening == 0"),
    ("sgd", dict(step=1, learning_rate=0.1, dampening=0.1),
     ValueError, r"dampening is only defined for convention='torch'"),
    ("adagrad", dict(step=1, learning_rate=0.1, epsilon=1e-7, lr_decay=0.1),
     ValueError, r"lr_decay is only defined for convention='torch'"),
    ("rmsprop", dict(learning_rate=0.1, rho=1.0, epsilon=1e-7), ValueError, r"rho must be in \[0.0, 1.0\), got 1.0"),
    ("sgd", dict(step=1, learning_rate=0.1, maximize=True), ValueError, r"maximize is only defined for convention='t"),
    ("sgd", dict(step=1, learning_rate=0.1, maximize=True, convention="dlfs"), ValueError, r"maximize is only defined"),
    ("adagrad", dict(step=1, learning_rate=0.1, epsilon=1e-7, maximize=True), ValueError, r"maximize is only defined"),
    ("rmsprop", dict(learning_rate=0.1, rho=0.9, epsilon=1e-7, maximize=True), ValueError, r"maximize is only defined"),
    ("adam", dict(HYPER, maximize=True), ValueError, r"maximize is only defined for convention='torch'"),
    ("rmsprop", dict(learning_rate=0.1, rho=0.9, epsilon=1e-7, centered=True),
     ValueError, r"grad_avgs must be given when centered=True"),
])
def test_bad_hyperparameters_are_rejected_before_any_write(opt, kwargs, exc, words):
    p, g, m, v = adam_args()
    slots = {"sgd": [None], "adagrad": [m], "rmsprop": [v, None, None], "adam": [m, v, None]}[opt]
    fn = getattr(nf.ops, f"{opt}_update")
    assert_rejected(exc, words, lambda: fn(p, g, *slots, **kwargs), p + g + m + v)
    # the reference refuses the same calls with the same exception type
    with pytest.raises(exc):
        getattr(ref, f"{opt}_update")(p, g, *slots, **kwargs)
