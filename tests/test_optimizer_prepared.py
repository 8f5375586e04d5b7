"""Tests of the prepared update call (nnfast.ops.prepare_update), which an optimizer with a constant
learning rate runs from its second step on (Optimizer.apply's fast path).

1. The prepared call gives the bits of the keyword ops call, for every update function, float32 and
   float64, awkward sizes, on 1 and 2 threads (identical there).
2. An optimizer's steps give the bits of the same optimizer on the general path (an ops module other
   than nnfast.ops itself, holding the same functions), including after its learning rate changes,
   its state is restored, or a call is rejected.
3. A rejected prepared call raises TypeError or ValueError and modifies nothing; through the
   optimizer the general path's explained error is what the caller sees.
"""

import inspect
import types

import numpy as np
import pytest

from nnfast import ops
from nnfast import optimizers as O

from conftest import assert_same_bits, on_both_thread_counts, random_problem

pytestmark = pytest.mark.filterwarnings("error")

SIZES = (0, 1, 7, 9, 17, 65, 1000)
DTYPES = (np.float32, np.float64)
STEPS = 5

ADAM_LIKE = dict(beta_1=0.9, beta_2=0.999, epsilon=1e-7)

# (update function, its constant keyword arguments, state: the initial value per slot or None)
CALLS = [
    ("sgd_update", dict(momentum=0.0), (None,)),
    ("sgd_update", dict(momentum=0.9, nesterov=True), (0.0,)),
    ("sgd_update", dict(momentum=0.9, dampening=0.1, weight_decay=0.01, convention="torch"), (0.0,)),
    ("sgd_update", dict(momentum=0.9, nesterov=True, convention="dlfs"), (0.0,)),
    ("adagrad_update", dict(epsilon=1e-7), (0.1,)),
    ("adagrad_update", dict(epsilon=1e-10, lr_decay=0.01, convention="torch"), (0.0,)),
    ("rmsprop_update", dict(rho=0.9, epsilon=1e-7), (0.0, None, None)),
    ("rmsprop_update", dict(rho=0.9, epsilon=1e-7, momentum=0.5, centered=True), (0.0, 0.0, 0.0)),
    ("adam_update", ADAM_LIKE, (0.0, 0.0, None)),
    ("adam_update", dict(ADAM_LIKE, amsgrad=True, weight_decay=0.01, decoupled_weight_decay=True,
                         convention="torch"), (0.0, 0.0, 0.0)),
    ("adamax_update", ADAM_LIKE, (0.0, 0.0)),
    ("nadam_update", ADAM_LIKE, (0.0, 0.0)),
    ("radam_update", dict(ADAM_LIKE, convention="torch"), (0.0, 0.0)),
    ("adadelta_update", dict(rho=0.95, epsilon=1e-7), (0.0, 0.0)),
    ("lion_update", dict(beta_1=0.9, beta_2=0.99), (0.0,)),
    ("ftrl_update", dict(learning_rate_power=-0.5, l1_regularization_strength=0.01), (0.1, 0.0)),
]
LEARNING_RATE = 0.01


def call_id(call):
    kernel, kw, _ = call
    return kernel + "".join(f"-{k}" for k in kw if k not in ADAM_LIKE)


def takes_step(kernel):
    return "step" in inspect.signature(getattr(ops, kernel)).parameters


def fresh_state(init, params):
    return tuple(None if v is None else [np.full(p.shape, v, p.dtype) for p in params] for v in init)


def trajectory(call, dtype, prepared):
    """STEPS steps of `call` on every size at once; the parameters and state arrays afterwards."""
    kernel, kw, init = call
    params, grads = random_problem(np.random.default_rng(7), SIZES, dtype, STEPS)
    state = fresh_state(init, params)
    update = (ops.prepare_update(kernel, kw, state, LEARNING_RATE) if prepared else None)
    for step, g in enumerate(grads, start=1):
        if prepared:
            update(params, g, step)
        else:
            extra = dict(step=step) if takes_step(kernel) else {}
            getattr(ops, kernel)(params, g, *state, learning_rate=LEARNING_RATE, **kw, **extra)
    return params + [a for s in state if s is not None for a in s]


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("call", CALLS, ids=call_id)
def test_prepared_call_gives_the_bits_of_the_keyword_call(call, dtype):
    want = on_both_thread_counts(lambda: trajectory(call, dtype, prepared=False))
    got = on_both_thread_counts(lambda: trajectory(call, dtype, prepared=True))
    assert len(got) == len(want)
    for a, b in zip(got, want):
        assert_same_bits(a, b)


def test_prepare_update_checks_its_constants():
    with pytest.raises(ValueError, match="momentum"):
        ops.prepare_update("sgd_update", dict(momentum=1.5), (None,), 0.1)
    with pytest.raises(ValueError, match="learning_rate"):
        ops.prepare_update("adam_update", ADAM_LIKE, (None, None, None), -1.0)
    with pytest.raises(TypeError, match="learning_rate"):
        ops.prepare_update("adam_update", ADAM_LIKE, (None, None, None), "0.1")
    with pytest.raises(ValueError, match="optimizer must be one of"):
        ops.prepare_update("bogus_update", {}, (), 0.1)
    with pytest.raises(ValueError, match="exp_avgs"):  # a state list the update needs, missing
        ops.prepare_update("adam_update", ADAM_LIKE, (None, None, None), 0.1)
    with pytest.raises(ValueError, match="momentum_buffers"):
        ops.prepare_update("sgd_update", dict(momentum=0.9), (None,), 0.1)
    with pytest.raises(ValueError, match="state must hold 3 lists"):
        ops.prepare_update("adam_update", ADAM_LIKE, ([], []), 0.1)


def test_an_unused_state_list_is_ignored_as_by_the_update_function(rng):
    """A state list the options do not use (SGD without momentum) is not read, as in the reference."""
    params, grads = random_problem(rng, (7,), np.float32, 1)
    twin = [p.copy() for p in params]
    ops.prepare_update("sgd_update", {}, (["not an array"],), 0.1)(params, grads[0], 1)
    ops.sgd_update(twin, grads[0], ["not an array"], step=1, learning_rate=0.1)
    assert_same_bits(params[0], twin[0])


# ---- rejected prepared calls modify nothing ---------------------------------------------------------

def adam_setup(dtype=np.float32, n=17):
    rng = np.random.default_rng(3)
    params = [rng.standard_normal(n).astype(dtype), rng.standard_normal((3, 5)).astype(dtype)]
    grads = [rng.standard_normal(p.shape).astype(dtype) for p in params]
    state = ([np.full(p.shape, 0.5, dtype) for p in params], [np.full(p.shape, 0.25, dtype) for p in params], None)
    return params, grads, state


def bad_calls():
    """(name, make(params, grads, state) -> (params, grads, step), error type)."""
    return [
        ("grads shape", lambda p, g, s: (p, [g[0], g[1].reshape(5, 3)], 2), ValueError),
        ("grads dtype", lambda p, g, s: (p, [g[0], g[1].astype(np.float64)], 2), TypeError),
        ("grads count", lambda p, g, s: (p, g[:1], 2), ValueError),
        ("params count", lambda p, g, s: (p[:1], g[:1], 2), ValueError),
        ("grads not contiguous", lambda p, g, s: (p, [g[0], g[1][:, ::-1]], 2), ValueError),
        ("grads list item", lambda p, g, s: (p, [g[0], g[1].tolist()], 2), TypeError),
        ("params read-only", lambda p, g, s: ([p[0], read_only(p[1])], g, 2), ValueError),
        ("grads alias a param", lambda p, g, s: (p, [p[0], g[1]], 2), ValueError),
        ("grads alias the state", lambda p, g, s: (p, [s[0][0], g[1]], 2), ValueError),
        ("step 0", lambda p, g, s: (p, g, 0), ValueError),
        ("step float", lambda p, g, s: (p, g, 2.0), TypeError),
        ("params not a list", lambda p, g, s: ("params", g, 2), TypeError),
    ]


def read_only(a):
    b = a.view()
    b.flags.writeable = False
    return b


@pytest.mark.parametrize("name,make,error", bad_calls(), ids=[c[0] for c in bad_calls()])
def test_a_rejected_prepared_call_modifies_nothing(name, make, error):
    params, grads, state = adam_setup()
    update = ops.prepare_update("adam_update", ADAM_LIKE, state, 1e-3)
    p, g, step = make(params, grads, state)
    before = [a.copy() for a in params + state[0] + state[1] + grads]
    with pytest.raises(error):
        update(p, g, step)
    for a, b in zip(params + state[0] + state[1] + grads, before):
        assert_same_bits(a, b)


def test_the_prepared_call_reads_the_state_lists_each_call():
    """The state stays the caller's: an array put into a state list is the one updated next."""
    params, grads, state = adam_setup()
    update = ops.prepare_update("adam_update", ADAM_LIKE, state, 1e-3)
    replacement = np.full(params[0].shape, 0.5, np.float32)
    old = state[0][0]
    state[0][0] = replacement
    kept = old.copy()
    update(params, grads, 1)
    assert_same_bits(old, kept)
    assert not np.array_equal(replacement, np.full(params[0].shape, 0.5, np.float32))


# ---- the optimizer's fast path against its general path ------------------------------------------

def general_ops():
    """An ops module holding nnfast.ops' own functions: an optimizer given it takes the general path."""
    return types.SimpleNamespace(**{k: v for k, v in vars(ops).items() if not k.startswith("__")})


OPTIMIZERS = [
    lambda: O.SGD(learning_rate=0.1),
    lambda: O.SGD(learning_rate=0.1, momentum=0.9, nesterov=True),
    lambda: O.SGD(learning_rate=0.1, momentum=0.9, convention="torch"),
    lambda: O.Adagrad(),
    lambda: O.RMSprop(centered=True, momentum=0.5),
    lambda: O.Adam(amsgrad=True),
    lambda: O.Adam(convention="torch", weight_decay=0.01),
    lambda: O.Adamax(),
    lambda: O.Nadam(),
    lambda: O.RAdam(convention="torch"),
    lambda: O.Adadelta(),
    lambda: O.Lion(),
    lambda: O.Ftrl(),
]


def run_optimizer(make, dtype, general, changes=False):
    opt = make()
    if general:
        opt.ops = general_ops()
    params, grads = random_problem(np.random.default_rng(11), SIZES, dtype, 2 * STEPS)
    for i, g in enumerate(grads):
        if changes and i == STEPS:
            opt.learning_rate = 0.5 * float(opt.learning_rate)
        if changes and i == STEPS + 2:
            opt.set_state(opt.get_state())  # new state arrays, the same values
        opt.apply(params, g)
    assert opt.iterations == 2 * STEPS
    return params + [a for arrays in opt.slots.values() for a in arrays]


@pytest.mark.parametrize("changes", [False, True], ids=["plain", "rate-and-state-changed"])
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("make", OPTIMIZERS, ids=lambda m: repr(m()).split(" [")[0])
def test_optimizer_steps_equal_the_general_path(make, dtype, changes):
    want = on_both_thread_counts(lambda: run_optimizer(make, dtype, general=True, changes=changes))
    got = on_both_thread_counts(lambda: run_optimizer(make, dtype, general=False, changes=changes))
    for a, b in zip(got, want):
        assert_same_bits(a, b)


def test_a_rejected_step_is_explained_and_the_next_one_runs(rng):
    opt, twin = O.Adam(), O.Adam()
    twin.ops = general_ops()
    params, grads = random_problem(rng, (7, 65), np.float32, 4)
    twin_params = [p.copy() for p in params]
    for o, p in ((opt, params), (twin, twin_params)):
        o.apply(p, grads[0])
        o.apply(p, grads[1])
    before = [p.copy() for p in params]
    with pytest.raises(ValueError, match=r"params\[1\] has shape \(64,\)"):
        opt.apply([params[0], params[1][:64]], [grads[2][0], grads[2][1][:64]])
    for a, b in zip(params, before):
        assert_same_bits(a, b)
    assert opt.iterations == 2
    for o, p in ((opt, params), (twin, twin_params)):
        o.apply(p, grads[2])
        o.apply(p, grads[3])
    for a, b in zip(params + opt.slots["momentums"], twin_params + twin.slots["momentums"]):
        assert_same_bits(a, b)


def test_switching_ops_after_the_first_steps_is_honoured(rng):
    """An optimizer whose ops changes after it has prepared its call runs the new ops."""
    calls = []
    spy = general_ops()
    spy.adam_update = lambda *a, **k: calls.append(k["step"]) or ops.adam_update(*a, **k)
    opt = O.Adam()
    params, grads = random_problem(rng, (9,), np.float32, 4)
    opt.apply(params, grads[0])
    opt.apply(params, grads[1])
    opt.ops = spy
    opt.apply(params, grads[2])
    opt.ops = ops
    opt.apply(params, grads[3])
    assert calls == [3]


def test_other_libraries_arrays_still_step(torch):
    """A prepared optimizer given torch tensors takes the general path, which converts them."""
    opt, twin = O.SGD(learning_rate=0.1, momentum=0.9), O.SGD(learning_rate=0.1, momentum=0.9)
    rng = np.random.default_rng(5)
    params, grads = random_problem(rng, (17,), np.float32, 4)
    twin_params = [p.copy() for p in params]
    for i, g in enumerate(grads):
        if i < 2:
            opt.apply(params, g)
        else:  # tensors sharing the parameters' memory
            opt.apply([torch.from_numpy(p) for p in params], [torch.from_numpy(x) for x in g])
        twin.apply(twin_params, g)
    assert opt.iterations == 4
    assert_same_bits(params[0], twin_params[0])
