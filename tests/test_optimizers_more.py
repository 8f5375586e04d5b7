"""Adamax, Nadam, RAdam, Adadelta, Lion and Ftrl: the native kernels against nnfast.reference (bit for bit, 1 and 2
threads, every ISA level), the optimizer classes against torch.optim and keras.optimizers (100
steps, the error measure and bounds of tests/test_peer_parity.py), their defaults, torch's
``maximize``, and the refusal of bad hyperparameters with nothing modified.
"""
import os

import numpy as np
import pytest
from test_peer_parity import (
    DTYPE_IDS,
    KERAS_ARRAY_COPY_WARNING,
    assert_parity,
    floatx,
    problem,
    relative_error,
    run_keras,
    run_nnfast,
    run_torch,
)

import nnfast as nf
from nnfast import reference as ref

from conftest import (
    DTYPES,
    TESTS_DIR,
    assert_non_finite_gradients_propagate,
    assert_torch_defaults,
    case_id,
    nnfast_kwargs,
    on_both_thread_counts,
    random_problem,
    run_python,
)

# ---- native == reference, bit for bit ---------------------------------------------------------------

SIZES = (0, 1, 7, 17, 65, 1000, 100003)
# optimizer -> (state arrays per tensor, whether the update takes `step`)
SIGNATURE = {"adamax": (2, True), "nadam": (2, True), "radam": (2, True), "adadelta": (2, False), "lion": (1, False),
             "ftrl": (2, False)}
B = dict(beta_1=0.9, beta_2=0.999)
NATIVE_CASES = [
    ("adamax", "keras", dict(B, epsilon=1e-7)),
    ("adamax", "keras", dict(B, epsilon=1e-7, weight_decay=0.05)),
    ("adamax", "torch", dict(B, epsilon=1e-8)),
    ("adamax", "torch", dict(beta_1=0.8, beta_2=0.99, epsilon=1e-6, weight_decay=0.05, maximize=True)),
    ("nadam", "keras", dict(B, epsilon=1e-7)),
    ("nadam", "keras", dict(beta_1=0.8, beta_2=0.99, epsilon=1e-5, weight_decay=0.05)),
    ("nadam", "torch", dict(B, epsilon=1e-8, momentum_decay=4e-3)),
    ("nadam", "torch", dict(B, epsilon=1e-8, momentum_decay=0.01, weight_decay=0.05)),
    ("nadam", "torch", dict(B, epsilon=1e-8, weight_decay=0.05, decoupled_weight_decay=True, maximize=True)),
    ("radam", "torch", dict(B, epsilon=1e-8)),
    ("radam", "torch", dict(beta_1=0.8, beta_2=0.99, epsilon=1e-6, weight_decay=0.05, maximize=True)),
    ("radam", "torch", dict(B, epsilon=1e-8, weight_decay=0.05, decoupled_weight_decay=True)),
    ("adadelta", "keras", dict(rho=0.95, epsilon=1e-7)),
    ("adadelta", "keras", dict(rho=0.9, epsilon=1e-6, weight_decay=0.05)),
    ("adadelta", "torch", dict(rho=0.9, epsilon=1e-6)),
    ("adadelta", "torch", dict(rho=0.8, epsilon=1e-5, weight_decay=0.05, maximize=True)),
    ("lion", "keras", dict(beta_1=0.9, beta_2=0.99)),
    ("lion", "keras", dict(beta_1=0.8, beta_2=0.95, weight_decay=0.05)),
    ("ftrl", "keras", dict()),
    ("ftrl", "keras", dict(l1_regularization_strength=0.01, l2_regularization_strength=0.02,
                           l2_shrinkage_regularization_strength=0.03, beta=0.1, weight_decay=0.05)),
    ("ftrl", "keras", dict(learning_rate_power=-0.3, l1_regularization_strength=0.01)),
]
NATIVE_IDS = [f"{o}-{c}-" + ",".join(f"{k}={v}" for k, v in kw.items()) for o, c, kw in NATIVE_CASES]


def trajectory(module, opt, convention, kwargs, params, grad_seq):
    """Params and state after every gradient list of grad_seq (the inputs are copied). Twelve
    steps: RAdam's rectification starts at step 6 (beta_2 0.999) or 3 (0.99), so both branches run."""
    params = [p.copy() for p in params]
    slots, takes_step = SIGNATURE[opt]
    state = [[np.zeros_like(p) for p in params] for _ in range(slots)]
    if opt == "ftrl":  # Keras starts the accumulators at initial_accumulator_value
        state[0] = [np.full_like(p, 0.1) for p in params]
    fn = getattr(module, f"{opt}_update")
    for t, grads in enumerate(grad_seq, start=1):
        step = dict(step=t) if takes_step else {}
        fn(params, grads, *state, learning_rate=0.01, convention=convention, **step, **kwargs)
    return params + [s for slot in state for s in slot]


def native_trajectory(*args):
    """The native trajectory with 1 and with 2 threads: identical bits required."""
    return on_both_thread_counts(lambda: trajectory(nf.ops, *args))


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("opt, convention, kwargs", NATIVE_CASES, ids=NATIVE_IDS)
def test_native_matches_reference_bit_for_bit(rng, opt, convention, kwargs, size, dtype):
    params, grads = random_problem(rng, [size], dtype, steps=12)
    got = native_trajectory(opt, convention, kwargs, params, grads)
    want = trajectory(ref, opt, convention, kwargs, params, grads)
    assert got[0].dtype == dtype
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a, b)
    if size:
        assert not np.array_equal(got[0], params[0]), "the step must move the parameters"


@pytest.mark.parametrize("opt, convention, kwargs", NATIVE_CASES, ids=NATIVE_IDS)
def test_native_multi_tensor_call_matches_reference(rng, opt, convention, kwargs):
    params, grads = random_problem(rng, [0, 1, 7, 65, 1000, 40001, 3], np.float32, steps=4)
    got = native_trajectory(opt, convention, kwargs, params, grads)
    want = trajectory(ref, opt, convention, kwargs, params, grads)
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a, b)


def test_native_non_finite_gradients_propagate_like_the_reference():
    assert_non_finite_gradients_propagate(NATIVE_CASES, trajectory)


def test_native_nadam_long_run_momentum_cache(rng):
    """The momentum cache's product underflows to 0 after a few thousand steps (and stops being
    multiplied); native and reference agree before and after."""
    params, grads = random_problem(rng, [9], np.float64, steps=1)
    for t in (1, 2, 500, 7000, 20000):
        for convention, kw in (("keras", {}), ("torch", dict(momentum_decay=4e-3))):
            got, want = [p.copy() for p in params], [p.copy() for p in params]
            sg, sw = [[np.ones(9)] for _ in range(2)], [[np.ones(9)] for _ in range(2)]
            nf.ops.nadam_update(got, grads[0], *sg, step=t, learning_rate=0.01, epsilon=1e-7, convention=convention,
                                **B, **kw)
            ref.nadam_update(want, grads[0], *sw, step=t, learning_rate=0.01, epsilon=1e-7, convention=convention,
                             **B, **kw)
            np.testing.assert_array_equal(got[0], want[0])
            assert np.all(np.isfinite(got[0]))


def test_native_nadam_carried_momentum_product_matches_a_rebuilt_one(rng):
    """The kernel carries the momentum product from its previous call; calls that interleave two
    beta_1 values and both conventions, go back in steps, cross the product's underflow and switch
    the flush mode must each give the reference's bits (which rebuilds the product every call)."""
    params, grads = random_problem(rng, [9], np.float64, steps=1)
    calls = [(t, b1, conv) for t in (1, 2, 3, 4, 3, 3, 6800, 6801, 6802, 2)
             for b1, conv in ((0.9, "keras"), (0.8, "torch"), (0.9, "torch"))]
    for flush in (True, False):
        with nf.flush_denormal(flush):
            for t, b1, convention in calls:
                kw = dict(momentum_decay=4e-3) if convention == "torch" else {}
                got, want = [p.copy() for p in params], [p.copy() for p in params]
                sg, sw = [[np.ones(9)] for _ in range(2)], [[np.ones(9)] for _ in range(2)]
                nf.ops.nadam_update(got, grads[0], *sg, step=t, learning_rate=0.01, epsilon=1e-7,
                                    convention=convention, beta_1=b1, beta_2=0.999, **kw)
                ref.nadam_update(want, grads[0], *sw, step=t, learning_rate=0.01, epsilon=1e-7,
                                 convention=convention, beta_1=b1, beta_2=0.999, **kw)
                np.testing.assert_array_equal(got[0], want[0], err_msg=f"step {t} {b1} {convention} {flush}")


@pytest.mark.skipif("NNFAST_ISA" in os.environ, reason="already running under a forced level")
@pytest.mark.parametrize("isa", nf.config()["isa_supported"])
def test_native_bit_for_bit_at_every_isa_level(isa):
    """tests/test_isa_levels.py re-runs only test_native_*.py: this file's native tests run here
    under each level, in their own process."""
    r = run_python(["-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "-W", "error",
                    str(TESTS_DIR / "test_optimizers_more.py"), "-k", "test_native_ and not every_isa_level"],
                   NNFAST_ISA=isa)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    assert " passed" in r.stdout.splitlines()[-1]


# ---- convention="torch" vs torch.optim ----------------------------------------------------------------

TORCH_CASES = [
    ("Adamax", dict()),
    ("Adamax", dict(lr=1e-2, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.05)),
    ("Adamax", dict(weight_decay=0.05, maximize=True)),
    ("NAdam", dict()),
    ("NAdam", dict(lr=1e-2, betas=(0.8, 0.99), eps=1e-6, momentum_decay=0.01, weight_decay=0.05)),
    ("NAdam", dict(weight_decay=0.05, decoupled_weight_decay=True, maximize=True)),
    ("RAdam", dict()),
    ("RAdam", dict(lr=1e-2, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.05)),
    ("RAdam", dict(weight_decay=0.05, decoupled_weight_decay=True, maximize=True)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.8, eps=1e-5, weight_decay=0.05)),
    ("Adadelta", dict(weight_decay=0.05, maximize=True)),
]
NNFAST_CLASS = {"Adamax": "Adamax", "NAdam": "Nadam", "RAdam": "RAdam", "Adadelta": "Adadelta"}
TORCH_NAMES = {"lr": "learning_rate", "eps": "epsilon"}
TORCH_IMPLEMENTATION_FLAGS = {"foreach", "differentiable", "fused", "capturable"}




@pytest.fixture
def torch_default_dtype(torch):
    """Sets torch's default dtype: NAdam keeps its momentum-cache product in a tensor of the
    default dtype (torch.optim.optimizer._get_scalar_dtype), float32 unless set to float64."""
    before = torch.get_default_dtype()

    def use(dtype):
        torch.set_default_dtype(torch.float64 if dtype == np.float64 else torch.float32)
    yield use
    torch.set_default_dtype(before)


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("case", TORCH_CASES, ids=[case_id(c) for c in TORCH_CASES])
def test_torch_convention_matches_torch_optim(torch, torch_default_dtype, case, dtype):
    name, kwargs = case
    params0, grads = problem(dtype)
    torch_default_dtype(dtype)
    want = run_torch(torch, getattr(torch.optim, name), kwargs, params0, grads)
    opt = getattr(nf.optimizers, NNFAST_CLASS[name])(convention="torch", **nnfast_kwargs(kwargs, TORCH_NAMES))
    got = run_nnfast(opt, params0, grads)
    assert_parity(got, want, dtype, f"torch {name}({kwargs}) {np.dtype(dtype).name}, 100 steps")


@pytest.mark.parametrize("name", sorted(NNFAST_CLASS))
def test_torch_convention_defaults_are_torch_optims(torch, name):
    assert_torch_defaults(torch, name, getattr(nf.optimizers, NNFAST_CLASS[name]), TORCH_NAMES,
                          TORCH_IMPLEMENTATION_FLAGS)


# ---- convention="keras" vs Keras 3 ------------------------------------------------------------------

KERAS_CASES = [
    ("Adamax", dict()),
    ("Adamax", dict(learning_rate=0.01, beta_1=0.8, beta_2=0.99, epsilon=1e-5)),
    ("Nadam", dict()),
    ("Nadam", dict(learning_rate=0.01, beta_1=0.8, beta_2=0.99, epsilon=1e-5)),
    ("Adadelta", dict()),
    ("Adadelta", dict(learning_rate=0.5, rho=0.8, epsilon=1e-5)),
    ("Lion", dict()),
    ("Lion", dict(learning_rate=0.01, beta_1=0.8, beta_2=0.95)),
    ("Ftrl", dict()),
    ("Ftrl", dict(learning_rate=0.05, l1_regularization_strength=0.01, l2_regularization_strength=0.02,
                  l2_shrinkage_regularization_strength=0.03, beta=0.1, initial_accumulator_value=0.5)),
    ("Ftrl", dict(learning_rate=0.05, learning_rate_power=-0.3, l1_regularization_strength=0.01)),
]
KERAS_DECAY_CASES = [
    ("Adamax", dict(learning_rate=0.01, weight_decay=0.05)),
    ("Nadam", dict(learning_rate=0.01, weight_decay=0.05)),
    ("Adadelta", dict(learning_rate=0.5, weight_decay=0.05)),
    ("Lion", dict(learning_rate=0.01, weight_decay=0.05)),
    ("Ftrl", dict(learning_rate=0.05, l1_regularization_strength=0.01, weight_decay=0.05)),
]


def keras_vs_nnfast(keras, torch, case, dtype, steps=100):
    name, kwargs = case
    params0, grads = problem(dtype, steps)
    with floatx(keras, dtype):
        want = run_keras(keras, torch, getattr(keras.optimizers, name), kwargs, params0, grads)
    got = run_nnfast(getattr(nf.optimizers, name)(convention="keras", **kwargs), params0, grads)
    assert_parity(got, want, dtype, f"keras {name}({kwargs}) {np.dtype(dtype).name}, {steps} steps")


@pytest.mark.filterwarnings(KERAS_ARRAY_COPY_WARNING)  # Keras' Nadam reads its u_product Variable
@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("case", KERAS_CASES, ids=[case_id(c) for c in KERAS_CASES])
def test_keras_convention_matches_keras(keras, torch, case, dtype):
    keras_vs_nnfast(keras, torch, case, dtype)


@pytest.mark.filterwarnings(KERAS_ARRAY_COPY_WARNING)  # Keras' Nadam reads its u_product Variable
@pytest.mark.parametrize("case", KERAS_DECAY_CASES, ids=[case_id(c) for c in KERAS_DECAY_CASES])
def test_keras_convention_weight_decay_matches_keras_in_float64(keras, torch, case):
    keras_vs_nnfast(keras, torch, case, np.float64)


@pytest.mark.filterwarnings(KERAS_ARRAY_COPY_WARNING)  # Keras' Nadam reads its u_product Variable
@pytest.mark.parametrize("case", KERAS_DECAY_CASES, ids=[case_id(c) for c in KERAS_DECAY_CASES])
def test_keras_convention_weight_decay_float32_short_run(keras, torch, case):
    """As in test_peer_parity.py: float32 decoupled decay agrees within 1e-6 over 10 steps (over
    100 the once-per-step rounding of the decayed w accumulates on both sides)."""
    keras_vs_nnfast(keras, torch, case, np.float32, steps=10)


@pytest.mark.filterwarnings(KERAS_ARRAY_COPY_WARNING)
@pytest.mark.parametrize("case", KERAS_DECAY_CASES, ids=[case_id(c) for c in KERAS_DECAY_CASES])
def test_keras_weight_decay_float32_long_run_is_as_close_to_exact_as_keras(keras, torch, case):
    """Over 100 float32 steps with decoupled decay nnfast and Keras drift apart by up to a few 1e-6
    (test_peer_parity.py's docstring says why); against the exact trajectory (the same run in
    float64 from the same float32 inputs) nnfast must be at least as close as Keras."""
    name, kwargs = case
    params0, grads = problem(np.float32)
    with floatx(keras, np.float32):
        theirs = run_keras(keras, torch, getattr(keras.optimizers, name), kwargs, params0, grads)
    wide = ([p.astype(np.float64) for p in params0], [[g.astype(np.float64) for g in gs] for gs in grads])
    ours, exact = (run_nnfast(getattr(nf.optimizers, name)(convention="keras", **kwargs), *run)
                   for run in ((params0, grads), wide))
    off = {"nnfast": relative_error(ours, exact), "Keras": relative_error(theirs, exact)}
    assert off["nnfast"] <= off["Keras"] and off["nnfast"] < 1e-5, f"{name}({kwargs}): off the exact run by {off}"


@pytest.mark.filterwarnings(KERAS_ARRAY_COPY_WARNING)
@pytest.mark.parametrize("name", ["Adamax", "Nadam", "Adadelta", "Lion", "Ftrl"])
def test_keras_convention_defaults_are_keras(keras, name):
    with floatx(keras, np.float64):
        peer = getattr(keras.optimizers, name)().get_config()
    cls = getattr(nf.optimizers, name)
    config = cls(convention="keras").get_config()
    for key in cls.TORCH_ONLY:
        assert key not in peer and config[key] == 0
    own = set(config) - {"name", "convention"} - set(cls.TORCH_ONLY)
    assert own <= set(peer)
    got = {k: config[k] for k in own}
    want = {k: peer[k] for k in own}
    assert want.pop("weight_decay") is None and got.pop("weight_decay") == 0.0
    assert got == want


# ---- the classes ------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, slots", [("Adamax", ("momentums", "norms")), ("Nadam", ("momentums", "velocities")),
                                         ("RAdam", ("momentums", "velocities")),
                                         ("Adadelta", ("accumulated_grads", "accumulated_delta_vars")),
                                         ("Lion", ("momentums",)), ("Ftrl", ("accumulators", "linears"))])
def test_names_slots_and_native_update(name, slots):
    cls = getattr(nf.optimizers, name)
    opt = cls() if name == "Adamax" else nf.optimizers.get(name.lower())  # "adamax": see optimizers/__init__.py
    assert type(opt) is cls and opt.slot_names == slots
    params0, grads = problem(np.float32, steps=3)
    got = run_nnfast(opt, params0, grads)
    update = opt.native_update()  # the one-call native training step runs it
    assert update is not None and update.kernel == cls.UPDATE_KERNEL
    twin = cls(convention=opt.convention)
    twin.ops = ref
    np.testing.assert_array_equal(got[1], run_nnfast(twin, params0, grads)[1])
    resumed = cls(convention=opt.convention)
    resumed.set_state(opt.get_state())
    extra = problem(np.float32, steps=2, seed=5)[1]
    a, b = [p.copy() for p in got], [p.copy() for p in got]
    for g in extra:
        opt.apply(a, g)
        resumed.apply(b, g)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


def test_maximize_is_descent_on_the_negated_gradient():
    params0, grads = problem(np.float64, steps=5)
    o = nf.optimizers
    cases = [(o.SGD, dict(momentum=0.9, weight_decay=0.05)), (o.SGD, dict(momentum=0.9, nesterov=True)),
             (o.Adagrad, dict(weight_decay=0.05)), (o.RMSprop, dict(centered=True, momentum=0.5, weight_decay=0.05)),
             (o.Adam, dict(amsgrad=True, weight_decay=0.05)), (o.AdamW, {}), (o.Adamax, {}), (o.Nadam, {}),
             (o.RAdam, {}), (o.Adadelta, {})]
    for cls, kw in cases:
        # the negation comes before weight decay: both runs step along -g + wd*w
        up = run_nnfast(cls(convention="torch", maximize=True, **kw), params0, grads)
        down = run_nnfast(cls(convention="torch", **kw), params0, [[-g for g in gs] for gs in grads])
        for a, b in zip(up, down):
            np.testing.assert_array_equal(a, b)


BAD_CLASS_ARGS = [
    ("Adamax", dict(beta_1=1.0), ValueError, r"beta_1 must be in"),
    ("Adamax", dict(beta_2=-0.1), ValueError, r"beta_2 must be in"),
    ("Adamax", dict(epsilon=-1e-7), ValueError, r"epsilon must be (in|>=)"),
    ("Adamax", dict(epsilon="1e-7"), TypeError, r"epsilon must be a real number"),
    ("Adamax", dict(learning_rate=-1.0), ValueError, r"learning_rate must be (in|>=)"),
    ("Adamax", dict(maximize=True), ValueError, r"maximize is only defined for convention='torch'"),
    ("Adamax", dict(maximize=1, convention="torch"), TypeError, r"maximize must be True or False"),
    ("Nadam", dict(momentum_decay=0.004), ValueError, r"momentum_decay is only defined for convention='torch'"),
    ("Nadam", dict(momentum_decay=-0.1, convention="torch"), ValueError, r"momentum_decay must be (in|>=)"),
    ("Nadam", dict(decoupled_weight_decay=True), ValueError, r"decoupled_weight_decay is only defined"),
    ("Nadam", dict(decoupled_weight_decay="yes", convention="torch"), TypeError,
     r"decoupled_weight_decay must be True or False"),
    ("Nadam", dict(weight_decay=-0.1), ValueError, r"weight_decay must be (in|>=)"),
    ("RAdam", dict(convention="keras"), ValueError, r"convention must be 'torch'"),
    ("RAdam", dict(beta_2=1.0), ValueError, r"beta_2 must be in"),
    ("RAdam", dict(maximize=None, weight_decay="0"), TypeError, r"weight_decay must be a real number"),
    ("Adadelta", dict(rho=1.5), ValueError, r"rho must be in"),
    ("Adadelta", dict(maximize=True), ValueError, r"maximize is only defined for convention='torch'"),
    ("SGD", dict(maximize=True), ValueError, r"maximize is only defined for convention='torch'"),
    ("Adagrad", dict(maximize=True), ValueError, r"maximize is only defined for convention='torch'"),
    ("RMSprop", dict(maximize=True), ValueError, r"maximize is only defined for convention='torch'"),
    ("Adam", dict(maximize=True), ValueError, r"maximize is only defined for convention='torch'"),
    ("AdamW", dict(maximize="yes", convention="torch"), TypeError, r"maximize must be True or False"),
    ("Lion", dict(beta_1=0.0), ValueError, r"beta_1 must be in \(0.0, 1.0\]"),
    ("Lion", dict(beta_2=1.5), ValueError, r"beta_2 must be in"),
    ("Lion", dict(convention="torch"), ValueError, r"convention must be 'keras'"),
    ("Ftrl", dict(learning_rate_power=0.5), ValueError, r"learning_rate_power must be"),
    ("Ftrl", dict(l1_regularization_strength=-1.0), ValueError, r"l1_regularization_strength must be"),
    ("Ftrl", dict(initial_accumulator_value=-0.1), ValueError, r"initial_accumulator_value must be"),
    ("Ftrl", dict(beta="0"), TypeError, r"beta must be a real number"),
    ("Ftrl", dict(convention="torch"), ValueError, r"convention must be 'keras'"),
]


@pytest.mark.parametrize("name, kwargs, exc, words", BAD_CLASS_ARGS,
                         ids=[f"{n}-{k}" for n, k, _, _ in BAD_CLASS_ARGS])
def test_bad_class_hyperparameters_are_refused(name, kwargs, exc, words):
    with pytest.raises(exc, match=words):
        getattr(nf.optimizers, name)(**kwargs)


def two_slot_args():
    rng = np.random.default_rng(7)
    params = [rng.standard_normal(8 + i).astype(np.float32) for i in range(2)]
    grads = [rng.standard_normal(8 + i).astype(np.float32) for i in range(2)]
    return params, grads, [np.full_like(p, 0.5) for p in params], [np.full_like(p, 0.25) for p in params]


HYPER = dict(step=1, learning_rate=0.1, beta_1=0.9, beta_2=0.999, epsilon=1e-7)
BAD_OPS_ARGS = [
    ("adamax", dict(HYPER, beta_1=1.0), ValueError, r"beta_1 must be in"),
    ("adamax", dict(HYPER, epsilon=-1.0), ValueError, r"epsilon must be (in|>=)"),
    ("adamax", dict(HYPER, learning_rate="0.1"), TypeError, r"learning_rate must be a real number"),
    ("adamax", dict(HYPER, step=0), ValueError, r"step must be >= 1"),
    ("adamax", dict(HYPER, maximize=True), ValueError, r"maximize is only defined for convention='torch'"),
    ("adamax", dict(HYPER, convention="pytorch"), ValueError, r"convention must be one of"),
    ("nadam", dict(HYPER, momentum_decay=-1.0), ValueError, r"momentum_decay must be (in|>=)"),
    ("nadam", dict(HYPER, beta_2=1.5), ValueError, r"beta_2 must be in"),
    ("nadam", dict(HYPER, maximize=True), ValueError, r"maximize is only defined"),
    ("radam", dict(HYPER, convention="keras"), ValueError, r"convention must be 'torch'"),
    ("radam", dict(HYPER, weight_decay=-1.0), ValueError, r"weight_decay must be (in|>=)"),
    ("radam", dict(HYPER, step=1.5), TypeError, r"step must be an int"),
    ("adadelta", dict(learning_rate=0.1, rho=1.5, epsilon=1e-7), ValueError, r"rho must be in"),
    ("adadelta", dict(learning_rate=0.1, rho=0.9, epsilon=1e-7, maximize=True), ValueError, r"maximize is only"),
    ("lion", dict(learning_rate=0.1, beta_1=0.9, beta_2=1.5), ValueError, r"beta_2 must be in"),
    ("lion", dict(learning_rate=0.1, beta_1=0.9, beta_2=0.99, convention="torch"), ValueError,
     r"convention must be 'keras'"),
    ("ftrl", dict(learning_rate=0.1, learning_rate_power=0.5), ValueError, r"learning_rate_power must be"),
    ("ftrl", dict(learning_rate=0.1, l2_shrinkage_regularization_strength=-1.0), ValueError,
     r"l2_shrinkage_regularization_strength must be"),
    ("ftrl", dict(learning_rate=0.1, convention="torch"), ValueError, r"convention must be 'keras'"),
]


@pytest.mark.parametrize("opt, kwargs, exc, words", BAD_OPS_ARGS, ids=[f"{o}-{i}" for i, (o, *_) in
                                                                        enumerate(BAD_OPS_ARGS)])
def test_bad_ops_hyperparameters_are_refused_before_any_write(opt, kwargs, exc, words):
    p, g, m, v = two_slot_args()
    arrays = p + g + m + v
    before = [a.copy() for a in arrays]
    slots = (m,) if opt == "lion" else (m, v)
    with pytest.raises(exc, match=words):
        getattr(nf.ops, f"{opt}_update")(p, g, *slots, **kwargs)
    for a, b in zip(arrays, before):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(exc):
        getattr(ref, f"{opt}_update")(p, g, *slots, **kwargs)
    for a, b in zip(arrays, before):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("opt", ["adamax", "nadam", "radam"])
def test_bad_tensors_are_refused_before_any_write(opt):
    p, g, m, v = two_slot_args()
    conv = dict(convention="torch")
    arrays = p + g + m + v
    before = [a.copy() for a in arrays]
    fn = getattr(nf.ops, f"{opt}_update")
    with pytest.raises(ValueError, match=r"exp_avgs\[1\] must not share memory|share memory"):
        fn(p, g, [m[0], p[1]], v, **HYPER, **conv)
    with pytest.raises(TypeError, match=r"must have the dtype of"):
        fn(p, g, m, [v[0], v[1].astype(np.float64)], **HYPER, **conv)
    with pytest.raises(ValueError, match=r"must be given when calling"):
        fn(p, g, None, v, **HYPER, **conv)
    for a, b in zip(arrays, before):
        np.testing.assert_array_equal(a, b)


def test_a_refused_step_leaves_the_optimizer_untouched():
    opt = nf.optimizers.Nadam(convention="torch")
    params0, grads = problem(np.float32, steps=1)
    params = [p.copy() for p in params0]
    opt.apply(params, grads[0])
    state = opt.get_state()
    snapshot = [p.copy() for p in params]
    bad = [g.astype(np.float64) for g in grads[0]]
    with pytest.raises(TypeError):
        opt.apply(params, bad)
    assert opt.iterations == 1
    for a, b in zip(params, snapshot):
        np.testing.assert_array_equal(a, b)
    for s in state["slots"]:
        for a, b in zip(opt.get_state()["slots"][s], state["slots"][s]):
            np.testing.assert_array_equal(a, b)
