"""nnfast.optimizers.update_call: an optimizer's per-step call of its update function, with the
constant arguments bound once and passed positionally to the native function. It must make
exactly the call the keyword form makes: the same bits, the same errors, the same interop."""
import types

import numpy as np
import pytest

import nnfast as nf
from nnfast import ops, reference
from nnfast.optimizers import update_call

from test_native_optim import ADAM, CASE_IDS, CASES, SLOTS

# The update functions test_native_optim's CASES do not cover, with every constant set away from
# its default, so that two constants passed in each other's place would change the result.
MORE_SLOTS = {
    "adamax": (("exp_avgs", "exp_infs"), True),
    "nadam": (("exp_avgs", "exp_avg_sqs"), True),
    "radam": (("exp_avgs", "exp_avg_sqs"), True),
    "adadelta": (("square_avgs", "acc_deltas"), False),
    "lion": (("exp_avgs",), False),
    "ftrl": (("accumulators", "linears"), False),
}
MORE_CASES = [
    ("adamax", "torch", dict(beta_1=0.8, beta_2=0.99, epsilon=1e-6, weight_decay=0.01, maximize=True)),
    ("nadam", "torch", dict(beta_1=0.8, beta_2=0.99, epsilon=1e-6, momentum_decay=0.006, weight_decay=0.01,
                            decoupled_weight_decay=True, maximize=True)),
    ("radam", "torch", dict(beta_1=0.8, beta_2=0.99, epsilon=1e-6, weight_decay=0.01, decoupled_weight_decay=True,
                            maximize=True)),
    ("adadelta", "torch", dict(rho=0.8, epsilon=1e-5, weight_decay=0.01, maximize=True)),
    ("lion", "keras", dict(beta_1=0.8, beta_2=0.95, weight_decay=0.01)),
    ("ftrl", "keras", dict(learning_rate_power=-0.6, l1_regularization_strength=0.01,
                           l2_regularization_strength=0.02, l2_shrinkage_regularization_strength=0.03, beta=0.1)),
]
ALL_SLOTS = {**SLOTS, **MORE_SLOTS}
ALL_CASES = CASES + MORE_CASES
ALL_IDS = CASE_IDS + [f"{o}-{c}" for o, c, _ in MORE_CASES]


def problem(rng, opt, dtype, sizes=(7, 65, 1000)):
    """(params, grads, state): positive state (as an accumulator starts), non-zero data."""
    params = [rng.standard_normal(n).astype(dtype) for n in sizes]
    grads = [(0.1 * rng.standard_normal(n)).astype(dtype) for n in sizes]
    state = [[np.full(n, 0.1, dtype) for n in sizes] for _ in ALL_SLOTS[opt][0]]
    return params, grads, state


def run(call, params, grads, state, steps=3):
    """Copies of params and state after `steps` calls of call(params, grads, state, step, lr)."""
    params, state = [p.copy() for p in params], [[s.copy() for s in slot] for slot in state]
    for t in range(1, steps + 1):
        call(params, grads, state, t, 0.01 * t)
    return params + [s for slot in state for s in slot]


@pytest.mark.parametrize("dtype", (np.float32, np.float64))
@pytest.mark.parametrize("opt, convention, kwargs", ALL_CASES, ids=ALL_IDS)
def test_bound_call_equals_the_keyword_call_bit_for_bit(rng, opt, convention, kwargs, dtype):
    function, takes_step = getattr(ops, f"{opt}_update"), ALL_SLOTS[opt][1]
    hyper = dict(kwargs, convention=convention)
    bound = update_call.bind(function, hyper, takes_step)

    def keyword(params, grads, state, step, learning_rate):
        extra = dict(step=step) if takes_step else {}
        function(params, grads, *state, learning_rate=learning_rate, **extra, **hyper)

    data = problem(rng, opt, dtype)
    native, by_keyword = run(bound, *data), run(keyword, *data)
    twin = run(update_call.bind(getattr(reference, f"{opt}_update"), hyper, takes_step), *data)
    for a, b, c in zip(native, by_keyword, twin):
        np.testing.assert_array_equal(a.view(np.uint8), b.view(np.uint8))
        np.testing.assert_array_equal(a.view(np.uint8), c.view(np.uint8))
    assert not np.array_equal(native[0], data[0][0])  # the parameters moved


def spy_function():
    """An update function of ops' shape whose native twin records its positional arguments."""
    def update(params, grads, state, *, step, learning_rate, alpha=1.0, beta=False, gamma):
        keyword_calls.append((params, grads, state, step, learning_rate, alpha, beta, gamma))
    keyword_calls, native_calls = [], []
    update.native = lambda *args: native_calls.append(args)
    return update, native_calls, keyword_calls


def test_the_native_function_gets_the_signature_order_with_defaults():
    update, native_calls, keyword_calls = spy_function()
    call = update_call.bind(update, dict(gamma=3.0, beta=True), True)
    call("p", "g", ("s",), 4, 0.5)
    assert native_calls == [("p", "g", "s", 4, 0.5, 1.0, True, 3.0)] and keyword_calls == []


def test_a_type_error_of_the_native_function_goes_through_the_function():
    update, _, keyword_calls = spy_function()

    def refuse(*args):
        raise TypeError("another library's array")
    update.native = refuse
    update_call.bind(update, dict(gamma=3.0), True)("p", "g", ("s",), 4, 0.5)
    assert keyword_calls == [("p", "g", "s", 4, 0.5, 1.0, False, 3.0)]


@pytest.mark.parametrize("hyper", [dict(delta=1.0, gamma=3.0), dict(alpha=2.0)], ids=["unknown", "missing"])
def test_constants_that_do_not_fit_the_signature_fail_as_a_direct_call(hyper):
    update, native_calls, _ = spy_function()
    call = update_call.bind(update, hyper, True)
    with pytest.raises(TypeError) as bound_error:
        call("p", "g", ("s",), 1, 0.1)
    with pytest.raises(TypeError) as direct_error:
        update("p", "g", "s", step=1, learning_rate=0.1, **hyper)
    assert str(bound_error.value) == str(direct_error.value) and native_calls == []


def test_a_function_without_a_native_twin_is_called_with_keywords(rng):
    params, grads, _ = problem(rng, "sgd", np.float32)
    mine, theirs = [p.copy() for p in params], [p.copy() for p in params]
    update_call.bind(reference.sgd_update, dict(convention="torch", weight_decay=0.1), True)(mine, grads, (None,), 1,
                                                                                           0.1)
    reference.sgd_update(theirs, grads, None, step=1, learning_rate=0.1, convention="torch", weight_decay=0.1)
    for a, b in zip(mine, theirs):
        np.testing.assert_array_equal(a, b)


def test_a_refused_step_raises_the_direct_call_error_and_changes_nothing(rng):
    opt = nf.optimizers.Adam(learning_rate=0.01, **ADAM)
    params, grads, _ = problem(rng, "adam", np.float32)
    opt.apply(params, grads)
    before = [p.copy() for p in params] + [s.copy() for slot in opt.slots.values() for s in slot]
    bad = grads[:1] + [grads[1].astype(np.float16)] + grads[2:]
    with pytest.raises(TypeError) as refused:
        opt.apply(params, bad)
    state = [opt.slots[s] for s in ("momentums", "velocities")]
    with pytest.raises(TypeError) as direct:
        ops.adam_update(params, bad, *state, None, step=2, learning_rate=0.01, **ADAM)
    assert str(refused.value) == str(direct.value) and "grads[1]" in str(refused.value)
    assert refused.value.__context__ is None or refused.value.__context__ is refused.value
    after = [p for p in params] + [s for slot in opt.slots.values() for s in slot]
    for a, b in zip(before, after):
        np.testing.assert_array_equal(a, b)
    assert opt.iterations == 1


def test_an_optimizer_binds_again_when_its_ops_module_changes(rng):
    params, grads, _ = problem(rng, "sgd", np.float32)
    opt = nf.optimizers.SGD(learning_rate=0.1, momentum=0.9)
    opt.apply(params, grads)
    calls = []
    opt.ops = types.SimpleNamespace(sgd_update=lambda *args, **kwargs: calls.append((len(args), kwargs)))
    opt.apply(params, grads)
    assert calls == [(3, dict(step=2, learning_rate=0.1, momentum=0.9, nesterov=False, dampening=0.0,
                              weight_decay=0.0, maximize=False, convention="keras"))]
    opt.ops = ops
    moved = params[0].copy()
    opt.apply(params, grads)
    assert not np.array_equal(moved, params[0]) and opt.iterations == 3


def test_another_librarys_tensors_still_update_in_place(rng):
    torch = pytest.importorskip("torch")
    params, grads, state = problem(rng, "sgd", np.float32)
    tensors = [torch.from_numpy(p.copy()) for p in params]
    buffers = [torch.from_numpy(s.copy()) for s in state[0]]
    call = update_call.bind(ops.sgd_update, dict(momentum=0.9, convention="keras"), True)
    for t in (1, 2):
        call(tensors, [torch.from_numpy(g) for g in grads], (buffers,), t, 0.1)
        ops.sgd_update(params, grads, state[0], step=t, learning_rate=0.1, momentum=0.9, convention="keras")
    for mine, theirs in zip(tensors + buffers, params + state[0]):
        np.testing.assert_array_equal(mine.numpy(), theirs)
