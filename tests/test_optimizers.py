"""Tests of nnfast.optimizers (the stateful Keras-like layer over the fused update functions).

1. Every class x convention x option, 10 steps, float32 and float64: the class equals direct calls of
   nnfast.reference's update function with the hyperparameters spelled out here (bit for bit on the
   reference backend); on the native backend the class equals the same class on the reference
   backend (float64 rtol 1e-12, float32 4 ulp). This also pins the Keras and torch defaults.
2. Defaults, constructor validation, get(), config, repr.
3. Learning-rate callables, iterations, clipping (against hand-computed NumPy), state round trip,
   dicts vs lists, and rejected calls that must modify nothing.

The "native" backend cases are skipped until nnfast.ops has the update functions.
"""

from typing import NamedTuple

import numpy as np
import pytest

import nnfast
from nnfast import optimizers as O
from nnfast import reference as R

from conftest import assert_same_bits, ulp_tol

pytestmark = pytest.mark.filterwarnings("error")

STEPS = 10
DTYPES = (np.float32, np.float64)
SHAPES = [(4, 3), (3,), (1,), (0,), (2, 5), (17,)]
UPDATE_FNS = ("sgd_update", "adagrad_update", "rmsprop_update", "adam_update")


def native_available():
    return all(hasattr(nnfast.ops, f) for f in UPDATE_FNS)


@pytest.fixture(params=["native", "reference"])
def backend(request):
    if request.param == "native":
        if not native_available():
            pytest.skip("nnfast.ops has no native optimizer updates yet")
        return nnfast.ops
    return R


def make(cls, backend, **kwargs):
    opt = cls(**kwargs)
    opt.ops = backend
    return opt


# --------------------------------------------------------------------------------------------------
# data
# --------------------------------------------------------------------------------------------------

def make_params(rng, dtype, shapes=SHAPES):
    """Parameters of magnitude 0.5..2 with random signs (away from 0, so relative tolerances work)."""
    return [(rng.uniform(0.5, 2.0, s) * rng.choice([-1.0, 1.0], s)).astype(dtype) for s in shapes]


def make_grads(rng, dtype, steps=STEPS, shapes=SHAPES):
    return [[rng.normal(size=s).astype(dtype) for s in shapes] for _ in range(steps)]


def copies(arrays):
    return [a.copy() for a in arrays]


# --------------------------------------------------------------------------------------------------
# 1. the cases: class arguments and the reference call they must equal
# --------------------------------------------------------------------------------------------------

class Case(NamedTuple):
    id: str
    cls: type
    kwargs: dict     # constructor arguments
    fn: str          # reference update function
    ref: dict        # its keyword arguments (step is added per step where the function takes one)
    state: tuple     # its positional state arguments: None, or the initial value of the arrays


def sgd(id, kwargs, ref, mom):
    return Case("sgd-" + id, O.SGD, kwargs, "sgd_update", ref, (0.0 if mom else None,))


def adagrad(id, kwargs, ref, init):
    return Case("adagrad-" + id, O.Adagrad, kwargs, "adagrad_update", ref, (init,))


def rmsprop(id, kwargs, ref, centered=False, mom=False):
    return Case("rmsprop-" + id, O.RMSprop, kwargs, "rmsprop_update", ref,
                (0.0, 0.0 if centered else None, 0.0 if mom else None))


def adam(id, cls, kwargs, ref, amsgrad=False):
    return Case(id, cls, kwargs, "adam_update", ref, (0.0, 0.0, 0.0 if amsgrad else None))


K = dict(convention="keras")
T = dict(convention="torch")

CASES = [
    # SGD, keras
    sgd("keras-defaults", {}, dict(learning_rate=0.01, **K), False),
    sgd("keras", dict(learning_rate=0.1), dict(learning_rate=0.1, **K), False),
    sgd("keras-momentum", dict(learning_rate=0.1, momentum=0.8),
        dict(learning_rate=0.1, momentum=0.8, **K), True),
    sgd("keras-nesterov", dict(learning_rate=0.1, momentum=0.8, nesterov=True),
        dict(learning_rate=0.1, momentum=0.8, nesterov=True, **K), True),
    sgd("keras-weight_decay", dict(learning_rate=0.1, weight_decay=0.05),
        dict(learning_rate=0.1, weight_decay=0.05, **K), False),
    sgd("keras-momentum-weight_decay", dict(learning_rate=0.1, momentum=0.8, nesterov=True,
                                            weight_decay=0.05),
        dict(learning_rate=0.1, momentum=0.8, nesterov=True, weight_decay=0.05, **K), True),
    # SGD, torch
    sgd("torch-defaults", dict(convention="torch"), dict(learning_rate=1e-3, **T), False),
    sgd("torch-momentum", dict(learning_rate=0.1, momentum=0.8, convention="torch"),
        dict(learning_rate=0.1, momentum=0.8, **T), True),
    sgd("torch-dampening", dict(learning_rate=0.1, momentum=0.8, dampening=0.3, convention="torch"),
        dict(learning_rate=0.1, momentum=0.8, dampening=0.3, **T), True),
    sgd("torch-nesterov", dict(learning_rate=0.1, momentum=0.8, nesterov=True, convention="torch"),
        dict(learning_rate=0.1, momentum=0.8, nesterov=True, **T), True),
    sgd("torch-weight_decay", dict(learning_rate=0.1, weight_decay=0.05, convention="torch"),
        dict(learning_rate=0.1, weight_decay=0.05, **T), False),
    sgd("torch-momentum-weight_decay", dict(learning_rate=0.1, momentum=0.8, weight_decay=0.05,
                                            convention="torch"),
        dict(learning_rate=0.1, momentum=0.8, weight_decay=0.05, **T), True),
    # Adagrad
    adagrad("keras-defaults", {}, dict(learning_rate=1e-3, epsilon=1e-7, **K), 0.1),
    adagrad("keras", dict(learning_rate=0.1, initial_accumulator_value=0.5, epsilon=1e-6),
            dict(learning_rate=0.1, epsilon=1e-6, **K), 0.5),
    adagrad("keras-weight_decay", dict(learning_rate=0.1, weight_decay=0.05),
            dict(learning_rate=0.1, epsilon=1e-7, weight_decay=0.05, **K), 0.1),
    adagrad("torch-defaults", dict(convention="torch"),
            dict(learning_rate=1e-2, epsilon=1e-10, **T), 0.0),
    adagrad("torch-lr_decay", dict(learning_rate=0.1, lr_decay=0.1, convention="torch"),
            dict(learning_rate=0.1, epsilon=1e-10, lr_decay=0.1, **T), 0.0),
    adagrad("torch-initial", dict(learning_rate=0.1, initial_accumulator_value=0.2, epsilon=1e-6,
                                  convention="torch"),
            dict(learning_rate=0.1, epsilon=1e-6, **T), 0.2),
    adagrad("torch-weight_decay", dict(learning_rate=0.1, weight_decay=0.05, convention="torch"),
            dict(learning_rate=0.1, epsilon=1e-10, weight_decay=0.05, **T), 0.0),
    # RMSprop
    rmsprop("keras-defaults", {}, dict(learning_rate=1e-3, rho=0.9, epsilon=1e-7, **K)),
    rmsprop("keras", dict(learning_rate=0.01, rho=0.8, epsilon=1e-6),
            dict(learning_rate=0.01, rho=0.8, epsilon=1e-6, **K)),
    rmsprop("keras-centered", dict(learning_rate=0.01, centered=True),
            dict(learning_rate=0.01, rho=0.9, epsilon=1e-7, centered=True, **K), centered=True),
    rmsprop("keras-momentum", dict(learning_rate=0.01, momentum=0.7),
            dict(learning_rate=0.01, rho=0.9, epsilon=1e-7, momentum=0.7, **K), mom=True),
    rmsprop("keras-centered-momentum", dict(learning_rate=0.01, momentum=0.7, centered=True),
            dict(learning_rate=0.01, rho=0.9, epsilon=1e-7, momentum=0.7, centered=True, **K),
            centered=True, mom=True),
    rmsprop("keras-weight_decay", dict(learning_rate=0.01, weight_decay=0.05),
            dict(learning_rate=0.01, rho=0.9, epsilon=1e-7, weight_decay=0.05, **K)),
    rmsprop("torch-defaults", dict(convention="torch"),
            dict(learning_rate=1e-2, rho=0.99, epsilon=1e-8, **T)),
    rmsprop("torch-centered", dict(learning_rate=0.01, centered=True, convention="torch"),
            dict(learning_rate=0.01, rho=0.99, epsilon=1e-8, centered=True, **T), centered=True),
    rmsprop("torch-momentum", dict(learning_rate=0.01, momentum=0.7, convention="torch"),
            dict(learning_rate=0.01, rho=0.99, epsilon=1e-8, momentum=0.7, **T), mom=True),
    rmsprop("torch-centered-momentum", dict(learning_rate=0.01, rho=0.8, momentum=0.7, centered=True,
                                            convention="torch"),
            dict(learning_rate=0.01, rho=0.8, epsilon=1e-8, momentum=0.7, centered=True, **T),
            centered=True, mom=True),
    rmsprop("torch-weight_decay", dict(learning_rate=0.01, weight_decay=0.05, convention="torch"),
            dict(learning_rate=0.01, rho=0.99, epsilon=1e-8, weight_decay=0.05, **T)),
    # Adam
    adam("adam-keras-defaults", O.Adam, {},
         dict(learning_rate=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-7, **K)),
    adam("adam-keras", O.Adam, dict(learning_rate=0.01, beta_1=0.8, beta_2=0.99, epsilon=1e-6),
         dict(learning_rate=0.01, beta_1=0.8, beta_2=0.99, epsilon=1e-6, **K)),
    adam("adam-keras-amsgrad", O.Adam, dict(learning_rate=0.01, amsgrad=True),
         dict(learning_rate=0.01, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=True, **K), True),
    adam("adam-keras-weight_decay", O.Adam, dict(learning_rate=0.01, weight_decay=0.05),
         dict(learning_rate=0.01, beta_1=0.9, beta_2=0.999, epsilon=1e-7, weight_decay=0.05, **K)),
    adam("adam-torch-defaults", O.Adam, dict(convention="torch"),
         dict(learning_rate=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-8, **T)),
    adam("adam-torch-amsgrad", O.Adam, dict(learning_rate=0.01, amsgrad=True, convention="torch"),
         dict(learning_rate=0.01, beta_1=0.9, beta_2=0.999, epsilon=1e-8, amsgrad=True, **T), True),
    adam("adam-torch-weight_decay", O.Adam, dict(learning_rate=0.01, weight_decay=0.05,
                                                 convention="torch"),
         dict(learning_rate=0.01, beta_1=0.9, beta_2=0.999, epsilon=1e-8, weight_decay=0.05,
              decoupled_weight_decay=False, **T)),
    # AdamW
    adam("adamw-keras-defaults", O.AdamW, {},
         dict(learning_rate=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-7, weight_decay=0.004, **K)),
    adam("adamw-keras-amsgrad", O.AdamW, dict(learning_rate=0.01, weight_decay=0.05, amsgrad=True),
         dict(learning_rate=0.01, beta_1=0.9, beta_2=0.999, epsilon=1e-7, weight_decay=0.05,
              amsgrad=True, **K), True),
    adam("adamw-torch-defaults", O.AdamW, dict(convention="torch"),
         dict(learning_rate=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-8, weight_decay=1e-2,
              decoupled_weight_decay=True, **T)),
    adam("adamw-torch-amsgrad", O.AdamW, dict(learning_rate=0.01, weight_decay=0.05, amsgrad=True,
                                              convention="torch"),
         dict(learning_rate=0.01, beta_1=0.9, beta_2=0.999, epsilon=1e-8, weight_decay=0.05,
              amsgrad=True, decoupled_weight_decay=True, **T), True),
]
CASE_IDS = [c.id for c in CASES]


def run_direct(case, params0, grads_seq, lr_seq=None):
    """The case's reference update function called directly, with its own state arrays."""
    ws = copies(params0)
    fn = getattr(R, case.fn)
    states = [None if init is None else [np.full(w.shape, init, w.dtype) for w in ws]
              for init in case.state]
    for t, gs in enumerate(grads_seq, 1):
        kw = dict(case.ref)
        if case.fn != "rmsprop_update":
            kw["step"] = t
        if lr_seq is not None:
            kw["learning_rate"] = lr_seq[t - 1]
        fn(ws, gs, *states, **kw)
    return ws, [s for s in states if s is not None]


def run_class(case, backend, params0, grads_seq, **extra):
    opt = make(case.cls, backend, **case.kwargs, **extra)
    ws = copies(params0)
    for gs in grads_seq:
        opt.apply(ws, gs)
    return ws, opt


def slots_of(opt):
    state = opt.get_state()["slots"]
    return [state[name] for name in opt.slot_names]


def assert_close(actual, desired, dtype):
    """float64: rtol 1e-12; float32: 4 ulp; atol scaled by the array's magnitude (state near 0)."""
    rtol = 1e-12 if dtype == np.float64 else ulp_tol(dtype, 4)["rtol"]
    assert actual.dtype == desired.dtype and actual.shape == desired.shape
    scale = float(np.max(np.abs(desired))) if desired.size else 0.0
    np.testing.assert_allclose(actual, desired, rtol=rtol, atol=rtol * scale)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_class_matches_reference(case, dtype, backend, rng):
    params0 = make_params(rng, dtype)
    grads = make_grads(rng, dtype)
    ws_ref, states_ref = run_direct(case, params0, grads)
    ws_cls, opt_ref = run_class(case, R, params0, grads)
    assert opt_ref.iterations == STEPS
    for a, b in zip(ws_cls, ws_ref):
        assert_same_bits(a, b)
    assert [len(s) for s in slots_of(opt_ref)] == [len(s) for s in states_ref]
    for got, want in zip(slots_of(opt_ref), states_ref):
        for a, b in zip(got, want):
            assert_same_bits(a, b)
    assert any(not np.array_equal(a, b) for a, b in zip(ws_cls, params0))
    if backend is R:
        return
    ws_nat, opt_nat = run_class(case, backend, params0, grads)
    assert opt_nat.iterations == STEPS
    for a, b in zip(ws_nat, ws_cls):
        assert_close(a, b, dtype)
    for got, want in zip(slots_of(opt_nat), slots_of(opt_ref)):
        for a, b in zip(got, want):
            assert_close(a, b, dtype)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_state_has_param_shapes_and_dtype(case, backend, rng):
    params = make_params(rng, np.float32)
    opt = make(case.cls, backend, **case.kwargs)
    assert not opt.built and opt.get_state()["slots"] == {}
    opt.apply(params, make_grads(rng, np.float32, 1)[0])
    assert opt.built
    for arrays in slots_of(opt):
        assert [a.shape for a in arrays] == [p.shape for p in params]
        assert all(a.dtype == np.float32 and a.flags.c_contiguous for a in arrays)


@pytest.mark.parametrize("dtype", DTYPES)
def test_state_arrays_start_where_their_parameters_start_in_a_cache_line(dtype):
    # parameters at every element offset within a 64-byte line (views of one buffer), and two of
    # NumPy's own; the update kernels then store whole lines of a parameter and its state alike
    item = np.dtype(dtype).itemsize
    sizes = (5, 64, 1, 300, 17, 8, 33, 2, 9, 1, 16, 3, 70, 4, 11, 6)[:64 // item]
    buffer = np.zeros(512 * len(sizes) + 64, dtype)
    base = (-buffer.ctypes.data % 64) // item
    params = [buffer[base + 512 * k + k:base + 512 * k + k + n] for k, n in enumerate(sizes)]
    params += [np.arange(6, dtype=dtype).reshape(2, 3), np.zeros((4, 7), dtype)[1:]]
    grads = [np.full(p.shape, 0.5, dtype) for p in params]
    copies = [p.copy() for p in params]
    opt = O.Adam()  # two slots
    opt.apply(params, grads)
    for name, arrays in opt.slots.items():
        assert [a.ctypes.data % 64 for a in arrays] == [p.ctypes.data % 64 for p in params], name
        assert [a.shape for a in arrays] == [p.shape for p in params]
        spans = sorted((a.ctypes.data, a.ctypes.data + a.nbytes) for a in arrays)
        assert all(end <= start for (_, end), (start, _) in zip(spans, spans[1:]))  # no overlap
    # the step's bits do not depend on where the arrays lie
    again = O.Adam()
    again.apply(copies, grads)
    for p, q in zip(params, copies):
        assert_same_bits(p, q)
    for name in opt.slots:
        for a, b in zip(opt.slots[name], again.slots[name]):
            assert_same_bits(a, b)


def test_other_faces_keep_state_at_their_parameters_offsets():
    # the Deep-Learning-from-Scratch classes (a dict of the caller's arrays) and scikit-learn's
    # solvers (one arena of coefficients and intercepts)
    from nnfast.compat import dlfs
    pytest.importorskip("sklearn")
    from nnfast.sklearn import network, solvers
    buffer = np.zeros(300, np.float32)
    params = {"W1": buffer[3:63].reshape(6, 10), "b1": buffer[70:76], "W2": buffer[101:131].reshape(10, 3)}
    opt = dlfs.Adam()
    opt.update(params, {k: np.full(v.shape, 0.1, np.float32) for k, v in params.items()})
    for state in (opt.m, opt.v):
        assert {k: state[k].ctypes.data % 64 for k in params} == {k: v.ctypes.data % 64 for k, v in params.items()}
    net = network.Network([5, 7, 2], "relu", "softmax", np.float64)
    assert net.params.ctypes.data % 64 == 0 and net.grads.ctypes.data % 64 == 0
    adam = solvers.AdamSolver(net.params, 1e-3, 0.9, 0.999, 1e-8)
    assert adam.ms.ctypes.data % 64 == 0 and adam.vs.ctypes.data % 64 == 0


def test_model_arenas_start_cache_lines():
    model = nnfast.Sequential([nnfast.layers.Dense(7, input_dim=3), nnfast.layers.Dense(2)], seed=0)
    model.compile(optimizer="adam", loss="mse")
    model.fit(np.ones((4, 3), np.float32), np.ones((4, 2), np.float32), verbose=0)
    assert model._params.ctypes.data % 64 == 0 and model._grads.ctypes.data % 64 == 0
    before = {name: [a.copy() for a in arrays] for name, arrays in model.optimizer.slots.items()}
    for restored in (False, True):  # as built, and after a restore of the state (as load_model does)
        if restored:
            model.optimizer.set_state(model.optimizer.get_state())
        for name, arrays in model.optimizer.slots.items():  # the slots follow the weights: one arena, no gaps
            assert [a.ctypes.data % 64 for a in arrays] == [w.ctypes.data % 64 for w in model._param_views]
            assert arrays[-1].ctypes.data + arrays[-1].nbytes - arrays[0].ctypes.data == model._params.nbytes
            for a, b in zip(arrays, before[name]):
                assert_same_bits(a, b)


@pytest.mark.parametrize("case", [c for c in CASES if c.state != (None,)],
                         ids=[c.id for c in CASES if c.state != (None,)])
def test_steps_reuse_the_state_arrays(case, backend, rng):
    params = make_params(rng, np.float64)
    opt = make(case.cls, backend, **case.kwargs)
    grads = make_grads(rng, np.float64, 3)
    opt.apply(params, grads[0])
    before = {name: [id(a) for a in arrays] for name, arrays in opt.slots.items()}
    opt.apply(params, grads[1])
    opt.apply(params, grads[2])
    assert {name: [id(a) for a in arrays] for name, arrays in opt.slots.items()} == before


class Spy:
    """A backend that records each update call (copies of the grads) and forwards it."""

    def __init__(self, backend):
        self.backend = backend
        self.calls = []

    def __getattr__(self, name):
        fn = getattr(self.backend, name)

        def wrapper(params, grads, *states, **kw):
            self.calls.append((name, [g.copy() for g in grads], kw))
            return fn(params, grads, *states, **kw)
        return wrapper


@pytest.mark.parametrize("case", CASES[::4], ids=CASE_IDS[::4])
def test_one_update_call_per_step(case, backend, rng):
    spy = Spy(backend)
    opt = make(case.cls, spy, **case.kwargs)
    params = make_params(rng, np.float64)
    for t, gs in enumerate(make_grads(rng, np.float64, 3), 1):
        opt.apply(params, gs)
        assert len(spy.calls) == t and spy.calls[-1][0] == case.fn
        assert ("step" not in spy.calls[-1][2]) == (case.fn == "rmsprop_update")
        if case.fn != "rmsprop_update":
            assert spy.calls[-1][2]["step"] == t


def test_default_backend_is_nnfast_ops():
    for cls in (O.SGD, O.Adagrad, O.RMSprop, O.Adam, O.AdamW):
        assert cls().ops is nnfast.ops


def test_single_ndarray_is_a_one_tensor_list(backend, rng):
    w = make_params(rng, np.float64, [(5,)])[0]
    g = rng.normal(size=5)
    opt = make(O.Adam, backend, learning_rate=0.1)
    opt.apply(w, g)
    w2 = make_params(np.random.default_rng(12345), np.float64, [(5,)])[0]
    opt2 = make(O.Adam, backend, learning_rate=0.1)
    opt2.apply([w2], [g])
    assert_same_bits(w, w2)


# --------------------------------------------------------------------------------------------------
# 2. defaults, validation, get, config
# --------------------------------------------------------------------------------------------------

DEFAULTS = [
    (O.SGD, "keras", dict(learning_rate=0.01, momentum=0.0, nesterov=False, weight_decay=0.0,
                          dampening=0.0)),
    (O.SGD, "torch", dict(learning_rate=1e-3, momentum=0.0, nesterov=False, weight_decay=0.0,
                          dampening=0.0)),
    (O.Adagrad, "keras", dict(learning_rate=1e-3, initial_accumulator_value=0.1, epsilon=1e-7,
                              weight_decay=0.0, lr_decay=0.0)),
    (O.Adagrad, "torch", dict(learning_rate=1e-2, initial_accumulator_value=0.0, epsilon=1e-10,
                              weight_decay=0.0, lr_decay=0.0)),
    (O.RMSprop, "keras", dict(learning_rate=1e-3, rho=0.9, momentum=0.0, epsilon=1e-7,
                              centered=False, weight_decay=0.0)),
    (O.RMSprop, "torch", dict(learning_rate=1e-2, rho=0.99, momentum=0.0, epsilon=1e-8,
                              centered=False, weight_decay=0.0)),
    (O.Adam, "keras", dict(learning_rate=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                           amsgrad=False, weight_decay=0.0)),
    (O.Adam, "torch", dict(learning_rate=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
                           amsgrad=False, weight_decay=0.0)),
    (O.AdamW, "keras", dict(learning_rate=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                            amsgrad=False, weight_decay=0.004)),
    (O.AdamW, "torch", dict(learning_rate=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
                            amsgrad=False, weight_decay=1e-2)),
]


@pytest.mark.parametrize("cls, convention, expected", DEFAULTS,
                         ids=[f"{c.__name__}-{conv}" for c, conv, _ in DEFAULTS])
def test_defaults(cls, convention, expected):
    config = cls(convention=convention).get_config()
    for key, value in expected.items():
        assert config[key] == value and type(config[key]) is type(value), key
        assert getattr(cls(convention=convention), key) == value
    assert config["convention"] == convention
    assert config["clipnorm"] is config["clipvalue"] is config["global_clipnorm"] is None
    if convention == "keras":
        assert cls().get_config() == config


def test_unset_arguments_only_take_convention_defaults():
    opt = O.Adam(epsilon=1e-5, convention="torch")
    assert opt.epsilon == 1e-5 and opt.learning_rate == 1e-3
    opt = O.RMSprop(rho=0.5, convention="torch")
    assert opt.rho == 0.5 and opt.epsilon == 1e-8 and opt.learning_rate == 1e-2
    assert O.AdamW(weight_decay=0.0).weight_decay == 0.0
    assert O.SGD(weight_decay=None).weight_decay == 0.0


def test_keras_names():
    assert [O.SGD().name, O.Adagrad().name, O.RMSprop().name, O.Adam().name, O.AdamW().name] == \
        ["SGD", "adagrad", "rmsprop", "adam", "adamw"]
    assert O.SGD(momentum=0.9).slot_names == ("momentums",)
    assert O.SGD().slot_names == ()
    assert O.Adagrad().slot_names == ("accumulators",)
    assert O.RMSprop(centered=True, momentum=0.5).slot_names == \
        ("velocities", "average_gradients", "momentums")
    assert O.Adam(amsgrad=True).slot_names == ("momentums", "velocities", "velocity_hats")


BAD = [
    (O.SGD, dict(learning_rate=-0.1), ValueError, "learning_rate"),
    (O.SGD, dict(learning_rate="0.1"), TypeError, "learning_rate"),
    (O.SGD, dict(learning_rate=True), TypeError, "learning_rate"),
    (O.SGD, dict(learning_rate=float("nan")), ValueError, "learning_rate"),
    (O.SGD, dict(momentum=1.5), ValueError, "momentum"),
    (O.SGD, dict(momentum=-0.1), ValueError, "momentum"),
    (O.SGD, dict(nesterov="yes"), TypeError, "nesterov"),
    (O.SGD, dict(weight_decay=-1e-3), ValueError, "weight_decay"),
    (O.SGD, dict(convention="jax"), ValueError, "convention"),
    (O.SGD, dict(dampening=0.5), ValueError, "dampening"),
    (O.SGD, dict(convention="torch", dampening=1.5, momentum=0.9), ValueError, "dampening"),
    (O.SGD, dict(convention="torch", nesterov=True), ValueError, "nesterov"),
    (O.SGD, dict(convention="torch", nesterov=True, momentum=0.9, dampening=0.1), ValueError,
     "dampening"),
    (O.SGD, dict(clipnorm=1.0, clipvalue=1.0), ValueError, "clipvalue"),
    (O.SGD, dict(clipnorm=1.0, global_clipnorm=1.0), ValueError, "global_clipnorm"),
    (O.SGD, dict(clipvalue=1.0, global_clipnorm=1.0), ValueError, "global_clipnorm"),
    (O.SGD, dict(clipnorm=-1.0), ValueError, "clipnorm"),
    (O.SGD, dict(clipvalue="1"), TypeError, "clipvalue"),
    (O.SGD, dict(global_clipnorm=-1.0), ValueError, "global_clipnorm"),
    (O.SGD, dict(name=3), TypeError, "name"),
    (O.Adagrad, dict(epsilon=-1e-7), ValueError, "epsilon"),
    (O.Adagrad, dict(initial_accumulator_value=-0.1), ValueError, "initial_accumulator_value"),
    (O.Adagrad, dict(lr_decay=0.1), ValueError, "lr_decay"),
    (O.Adagrad, dict(convention="torch", lr_decay=-0.1), ValueError, "lr_decay"),
    (O.RMSprop, dict(rho=1.0), ValueError, "rho"),
    (O.RMSprop, dict(rho=-0.1), ValueError, "rho"),
    (O.RMSprop, dict(momentum=1.01), ValueError, "momentum"),
    (O.RMSprop, dict(centered=1), TypeError, "centered"),
    (O.RMSprop, dict(epsilon=float("nan")), ValueError, "epsilon"),
    (O.RMSprop, dict(convention="torch", epsilon=-1.0), ValueError, "epsilon"),
    (O.Adam, dict(beta_1=1.0), ValueError, "beta_1"),
    (O.Adam, dict(beta_2=-0.5), ValueError, "beta_2"),
    (O.Adam, dict(beta_2=[0.9]), TypeError, "beta_2"),
    (O.Adam, dict(amsgrad="no"), TypeError, "amsgrad"),
    (O.Adam, dict(epsilon=-1e-8, convention="torch"), ValueError, "epsilon"),
    (O.AdamW, dict(weight_decay=-0.1), ValueError, "weight_decay"),
    (O.AdamW, dict(beta_1=1.5, convention="torch"), ValueError, "beta_1"),
]


@pytest.mark.parametrize("cls, kwargs, exc, name", BAD,
                         ids=[f"{c.__name__}-{'-'.join(map(str, k))}-{i}"
                              for i, (c, k, _, _) in enumerate(BAD)])
def test_constructor_rejects(cls, kwargs, exc, name):
    with pytest.raises(exc, match=name):
        cls(**kwargs)


def test_torch_only_knobs_at_zero_are_accepted_under_keras():
    assert O.SGD(dampening=0.0).dampening == 0.0
    assert O.Adagrad(lr_decay=0).lr_decay == 0.0


def test_learning_rate_setter_validates():
    opt = O.SGD()
    opt.learning_rate = 0.5
    assert opt.learning_rate == 0.5
    with pytest.raises(ValueError, match="learning_rate"):
        opt.learning_rate = -1.0
    with pytest.raises(TypeError, match="learning_rate"):
        opt.learning_rate = "fast"
    assert opt.learning_rate == 0.5


def test_hyperparameters_are_read_only():
    opt = O.Adam()
    with pytest.raises(AttributeError):
        opt.beta_1 = 0.5
    with pytest.raises(AttributeError):
        opt.clipnorm = 1.0


@pytest.mark.parametrize("name, cls", [("sgd", O.SGD), ("SGD", O.SGD), ("adagrad", O.Adagrad),
                                       ("Adagrad", O.Adagrad), ("rmsprop", O.RMSprop),
                                       ("RMSProp", O.RMSprop), ("adam", O.Adam), ("ADAM", O.Adam),
                                       ("adamw", O.AdamW), ("AdamW", O.AdamW)])
def test_get_by_name(name, cls):
    opt = O.get(name)
    assert type(opt) is cls
    assert opt.get_config() == cls().get_config()
    assert O.get(name) is not opt


def test_get_passes_instances_through():
    opt = O.RMSprop(learning_rate=0.5, convention="torch")
    assert O.get(opt) is opt


@pytest.mark.parametrize("identifier", ["lamb", "", None, 42, O.Adam])
def test_get_unknown_lists_valid_names(identifier):
    with pytest.raises(ValueError) as info:
        O.get(identifier)
    for name in ("sgd", "adagrad", "rmsprop", "adam", "adamw"):
        assert repr(name) in str(info.value)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_config_round_trip(case):
    opt = case.cls(**case.kwargs)
    config = opt.get_config()
    assert config["name"] == opt.name
    for key, value in case.kwargs.items():
        assert config[key] == value
    again = case.cls.from_config(config)
    assert type(again) is case.cls and again.get_config() == config
    assert again.slot_names == opt.slot_names


def test_repr():
    text = repr(O.SGD(learning_rate=0.1, momentum=0.9, clipnorm=1.0, convention="torch"))
    assert text.startswith("SGD(") and "learning_rate=0.1" in text and "momentum=0.9" in text
    assert "clipnorm=1.0" in text and "convention='torch'" in text and "iterations=0" in text
    assert "clipvalue" not in text

    def halving(it):
        return 0.5 ** it
    assert "learning_rate=halving" in repr(O.Adam(learning_rate=halving))


# --------------------------------------------------------------------------------------------------
# 3. learning rate, iterations, clipping
# --------------------------------------------------------------------------------------------------

LR_CASES = [c for c in CASES if c.id in ("sgd-torch-momentum", "adagrad-torch-lr_decay",
                                         "rmsprop-keras-centered-momentum", "adam-keras",
                                         "adamw-torch-amsgrad")]


@pytest.mark.parametrize("case", LR_CASES, ids=[c.id for c in LR_CASES])
def test_learning_rate_callable(case, backend, rng):
    seen = []

    def schedule(iterations):
        seen.append(iterations)
        return 0.05 / (1 + iterations)

    params0 = make_params(rng, np.float64)
    grads = make_grads(rng, np.float64)
    kwargs = dict(case.kwargs, learning_rate=schedule)
    opt = make(case.cls, backend, **kwargs)
    ws = copies(params0)
    for gs in grads:
        opt.apply(ws, gs)
    assert seen == list(range(STEPS))
    # a schedule gets the step count as Keras passes optimizer.iterations: with numpy()
    assert [np.asarray(i.numpy()).dtype for i in seen] == [np.int32] * STEPS
    ws_ref, _ = run_direct(case, params0, grads, lr_seq=[0.05 / (1 + i) for i in range(STEPS)])
    assert_matches_direct_run(ws, ws_ref, backend, np.float64)


def assert_matches_direct_run(ws, ws_ref, backend, dtype):
    """The reference backend repeats the direct run's bits; the native one agrees within tolerance."""
    for a, b in zip(ws, ws_ref):
        if backend is R:
            assert_same_bits(a, b)
        else:
            assert_close(a, b, dtype)


def test_learning_rate_can_be_changed_between_steps(backend, rng):
    case = next(c for c in CASES if c.id == "adam-keras")
    params0 = make_params(rng, np.float32)
    grads = make_grads(rng, np.float32)
    lrs = [0.01] * 5 + [0.002] * 5
    opt = make(case.cls, backend, **case.kwargs)
    ws = copies(params0)
    for t, gs in enumerate(grads):
        if t == 5:
            opt.learning_rate = 0.002
        opt.apply(ws, gs)
    ws_ref, _ = run_direct(case, params0, grads, lr_seq=lrs)
    assert_matches_direct_run(ws, ws_ref, backend, np.float32)


def test_iterations_count_successful_steps(backend, rng):
    opt = make(O.Adam, backend)
    params = make_params(rng, np.float32)
    assert opt.iterations == 0
    for t, gs in enumerate(make_grads(rng, np.float32, 3), 1):
        opt.apply(params, gs)
        assert opt.iterations == t
    bad = make_grads(rng, np.float32, 1)[0]
    bad[0] = bad[0].astype(np.float64)
    with pytest.raises((TypeError, ValueError)):
        opt.apply(params, bad)
    assert opt.iterations == 3


def hand_norm(g):
    return float(np.sqrt(np.sum(g.astype(np.float64) ** 2)))


CLIP_SHAPES = [(4, 3), (3,), (5,), (0,), (2,)]


def clip_grads(rng, dtype):
    """A large gradient, a small one, a zero one, an empty one and a moderate one."""
    return [(rng.normal(size=(4, 3)) * 10).astype(dtype), (rng.normal(size=3) * 0.01).astype(dtype),
            np.zeros(5, dtype), np.zeros(0, dtype), np.array([0.6, -0.7], dtype)]


def expected_clipped(mode, c, grads):
    if mode == "clipvalue":
        return [np.clip(g, -c, c) for g in grads]
    if mode == "clipnorm":
        return [(g.astype(np.float64) * (c / max(hand_norm(g), c))).astype(g.dtype) for g in grads]
    total = float(np.sqrt(sum(hand_norm(g) ** 2 for g in grads)))
    return [(g.astype(np.float64) * (c / max(total, c))).astype(g.dtype) for g in grads]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mode, c", [("clipvalue", 0.5), ("clipnorm", 1.0), ("global_clipnorm", 2.0),
                                     ("global_clipnorm", 1e6)])
def test_clipping(mode, c, dtype, backend, rng):
    spy = Spy(backend)
    opt = make(O.SGD, spy, learning_rate=1.0, **{mode: c})
    params = make_params(rng, dtype, CLIP_SHAPES)
    params0 = copies(params)
    grads = clip_grads(rng, dtype)
    grads_before = copies(grads)
    ids = [id(g) for g in grads]
    opt.apply(params, grads)
    # the caller's gradients are untouched
    assert [id(g) for g in grads] == ids
    for g, g0 in zip(grads, grads_before):
        assert_same_bits(g, g0)
    (_, seen, _), = spy.calls
    want = expected_clipped(mode, c, grads_before)
    for got, w in zip(seen, want):
        assert got.dtype == dtype and got.shape == w.shape
        if mode == "clipvalue":
            assert_same_bits(got, w)
        else:
            np.testing.assert_allclose(got, w, **ulp_tol(dtype, 2))
    # below the threshold (the small and zero gradients; everything when c is huge) nothing changes
    if mode != "global_clipnorm":
        assert_same_bits(seen[1], grads_before[1])
    assert_same_bits(seen[2], grads_before[2])
    if c == 1e6:
        for got, g in zip(seen, grads_before):
            assert_same_bits(got, g)
    else:
        assert np.max(np.abs(seen[0])) < np.max(np.abs(grads_before[0]))
    if mode == "clipnorm":
        assert hand_norm(seen[0]) == pytest.approx(c, rel=1e-6)
    if mode == "global_clipnorm" and c == 2.0:
        assert np.sqrt(sum(hand_norm(g) ** 2 for g in seen)) == pytest.approx(c, rel=1e-6)
    # and the update used the clipped gradients: lr = 1, so w1 = w0 - g_clipped
    for w, w0, g in zip(params, params0, seen):
        if backend is R:
            assert_same_bits(w, w0 - g)
        else:
            assert_close(w, w0 - g, dtype)


def test_clipping_off_passes_the_callers_arrays(rng):
    spy = Spy(R)
    opt = make(O.SGD, spy)
    grads = clip_grads(rng, np.float64)
    opt.apply(make_params(rng, np.float64, CLIP_SHAPES), grads)
    assert all(np.array_equal(a, b) for a, b in zip(spy.calls[0][1], grads))


def test_clipping_zero_disables_it(rng):
    spy = Spy(R)
    opt = make(O.SGD, spy, clipnorm=0.0)
    grads = clip_grads(rng, np.float64)
    opt.apply(make_params(rng, np.float64, CLIP_SHAPES), grads)
    for got, g in zip(spy.calls[0][1], grads):
        assert_same_bits(got, g)


@pytest.mark.parametrize("mode", ["clipnorm", "global_clipnorm", "clipvalue"])
def test_clipping_non_finite_gradients(mode):
    spy = Spy(R)
    opt = make(O.SGD, spy, **{mode: 1.0})
    grads = [np.array([np.inf, 1.0, -2.0]), np.array([3.0, 4.0])]
    opt.apply([np.zeros(3), np.zeros(2)], grads)
    seen = spy.calls[0][1]
    if mode == "global_clipnorm":       # Keras: a non-finite global norm gives NaN everywhere
        assert all(np.isnan(g).all() for g in seen)
    elif mode == "clipnorm":            # per tensor: g * c / inf
        assert np.isnan(seen[0][0]) and np.array_equal(seen[0][1:], [0.0, 0.0])
        np.testing.assert_allclose(seen[1], [0.6, 0.8], rtol=1e-15)
    else:
        assert np.array_equal(seen[0], [1.0, 1.0, -1.0]) and np.array_equal(seen[1], [1.0, 1.0])


# --------------------------------------------------------------------------------------------------
# state round trip
# --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_state_round_trip_is_bit_identical(case, dtype, backend, rng):
    params0 = make_params(rng, dtype)
    grads = make_grads(rng, dtype)
    opt = make(case.cls, backend, **case.kwargs)
    ws = copies(params0)
    for gs in grads[:5]:
        opt.apply(ws, gs)
    state = opt.get_state()
    saved = copies(ws)
    for gs in grads[5:]:
        opt.apply(ws, gs)

    fresh = make(case.cls, backend, **case.kwargs)
    fresh.set_state(state)
    assert fresh.iterations == 5
    for arrays in state["slots"].values():      # set_state took copies
        for a in arrays:
            a[...] = np.nan
    ws2 = copies(saved)
    for gs in grads[5:]:
        fresh.apply(ws2, gs)
    assert fresh.iterations == opt.iterations == STEPS
    for a, b in zip(ws2, ws):
        assert_same_bits(a, b)
    for got, want in zip(slots_of(fresh), slots_of(opt)):
        for a, b in zip(got, want):
            assert_same_bits(a, b)


def test_state_contents_and_copies(rng):
    opt = make(O.Adam, R, amsgrad=True)
    params = make_params(rng, np.float64)
    opt.apply(params, make_grads(rng, np.float64, 1)[0])
    state = opt.get_state()
    assert set(state) == {"iterations", "config", "slots", "names"}
    assert state["iterations"] == 1 and state["config"] == opt.get_config()
    assert list(state["slots"]) == ["momentums", "velocities", "velocity_hats"]
    assert state["names"] is None
    before = copies(opt.slots["momentums"])
    state["slots"]["momentums"][0][...] = 123.0                 # get_state returned copies
    for a, b in zip(opt.slots["momentums"], before):
        assert_same_bits(a, b)


def test_state_round_trip_with_schedule_and_dicts(backend, rng):
    def schedule(it):
        return 0.1 * 0.9 ** it

    names = ["W1", "b1", "W2", "b2"]
    shapes = [(4, 3), (3,), (3, 2), (2,)]
    params0 = dict(zip(names, make_params(rng, np.float64, shapes)))
    grads = [dict(zip(names, gs)) for gs in make_grads(rng, np.float64, 6, shapes)]
    opt = make(O.RMSprop, backend, learning_rate=schedule, momentum=0.5, centered=True)
    ps = {k: v.copy() for k, v in params0.items()}
    for gs in grads[:3]:
        opt.update(ps, gs)
    state = opt.get_state()
    assert state["names"] == names
    saved = {k: v.copy() for k, v in ps.items()}
    for gs in grads[3:]:
        opt.update(ps, gs)
    fresh = make(O.RMSprop, backend, learning_rate=schedule, momentum=0.5, centered=True)
    fresh.set_state(state)
    ps2 = {k: saved[k].copy() for k in reversed(names)}     # another key order: aligned by name
    for gs in grads[3:]:
        fresh.update(ps2, gs)
    for k in names:
        assert_same_bits(ps2[k], ps[k])


def test_state_of_an_unbuilt_optimizer(backend, rng):
    opt = make(O.Adam, backend)
    state = opt.get_state()
    assert state["slots"] == {} and state["iterations"] == 0
    other = make(O.Adam, backend)
    other.set_state(state)
    assert not other.built
    params = make_params(rng, np.float32)
    other.apply(params, make_grads(rng, np.float32, 1)[0])
    assert other.iterations == 1


def _snapshot(opt):
    s = opt.get_state()
    return s["iterations"], s["names"], {k: copies(v) for k, v in s["slots"].items()}


def _assert_snapshot(opt, snap):
    it, names, slots = _snapshot(opt)
    assert (it, names) == snap[:2] and list(slots) == list(snap[2])
    for k in slots:
        assert len(slots[k]) == len(snap[2][k])
        for a, b in zip(slots[k], snap[2][k]):
            assert_same_bits(a, b)


def _bad_states(good):
    def edit(fn):
        s = {"iterations": good["iterations"], "config": good["config"], "names": good["names"],
             "slots": {k: list(v) for k, v in good["slots"].items()}}
        fn(s)
        return s

    return [
        ("not a dict", [1, 2], TypeError),
        ("no slots", {"iterations": 3}, ValueError),
        ("negative iterations", edit(lambda s: s.update(iterations=-1)), ValueError),
        ("bool iterations", edit(lambda s: s.update(iterations=True)), ValueError),
        ("float iterations", edit(lambda s: s.update(iterations=2.0)), ValueError),
        ("slots not a dict", edit(lambda s: s.update(slots=[1])), TypeError),
        ("missing slot", edit(lambda s: s["slots"].pop("velocities")), ValueError),
        ("extra slot", edit(lambda s: s["slots"].update(velocity_hats=s["slots"]["velocities"])),
         ValueError),
        ("slot not a list", edit(lambda s: s["slots"].update(velocities=np.zeros(3))), TypeError),
        ("lengths differ", edit(lambda s: s["slots"]["velocities"].pop()), ValueError),
        ("shapes differ", edit(lambda s: s["slots"]["velocities"].__setitem__(0, np.zeros(7))),
         ValueError),
        ("dtypes differ", edit(lambda s: s["slots"]["velocities"].__setitem__(
            0, s["slots"]["velocities"][0].astype(np.float32))), ValueError),
        ("int dtype", edit(lambda s: s["slots"]["velocities"].__setitem__(
            1, np.zeros(s["slots"]["velocities"][1].shape, np.int64))), TypeError),
        ("not an array", edit(lambda s: s["slots"]["velocities"].__setitem__(0, [0.0])), TypeError),
        ("names length", edit(lambda s: s.update(names=["a"])), ValueError),
        ("names repeated", edit(lambda s: s.update(names=["a"] * len(s["names"]))), ValueError),
    ]


def test_set_state_validates_and_changes_nothing_on_error(rng):
    names = ["W1", "b1"]
    opt = make(O.Adam, R)
    params = dict(zip(names, make_params(rng, np.float64, [(4, 3), (3,)])))
    opt.update(params, dict(zip(names, make_grads(rng, np.float64, 1, [(4, 3), (3,)])[0])))
    good = opt.get_state()
    target = make(O.Adam, R)
    target.update({k: v.copy() for k, v in params.items()},
                  dict(zip(names, make_grads(rng, np.float64, 1, [(4, 3), (3,)])[0])))
    snap = _snapshot(target)
    for _what, bad, exc in _bad_states(good):
        with pytest.raises(exc):
            target.set_state(bad)
        _assert_snapshot(target, snap)
    with pytest.raises(ValueError, match="velocity_hats"):
        make(O.Adam, R, amsgrad=True).set_state(good)
    with pytest.raises(ValueError, match="momentums"):
        make(O.SGD, R).set_state(good)


# --------------------------------------------------------------------------------------------------
# dicts and lists, rejected calls
# --------------------------------------------------------------------------------------------------

NAMES = ["W1", "b1", "W2", "b2"]
NAMED_SHAPES = [(4, 3), (3,), (3, 2), (2,)]


@pytest.mark.parametrize("case", CASES[::3], ids=CASE_IDS[::3])
def test_update_dicts_equals_apply_lists(case, backend, rng):
    params0 = make_params(rng, np.float64, NAMED_SHAPES)
    grads = make_grads(rng, np.float64, 5, NAMED_SHAPES)
    ws, _ = run_class(case, backend, params0, grads)

    opt = make(case.cls, backend, **case.kwargs)
    ps = dict(zip(NAMES, copies(params0)))
    for t, gs in enumerate(grads):
        gd = dict(zip(NAMES, gs))
        if t % 2:                                   # grads in another order
            gd = dict(reversed(list(gd.items())))
        if t == 3:                                  # params in another order: matched by key
            ps = dict(reversed(list(ps.items())))
        opt.update(ps, gd)
    for name, w in zip(NAMES, ws):
        assert_same_bits(ps[name], w)


def _check_rejected(opt, params, grads, exc, match, call):
    """The call raises and modifies neither the arrays nor the optimizer."""
    arrays = list(params.values()) if isinstance(params, dict) else list(params)
    garrays = list(grads.values()) if isinstance(grads, dict) else list(grads)
    before = copies(arrays), copies(garrays), _snapshot(opt)
    with pytest.raises(exc, match=match):
        call(params, grads)
    for a, b in zip(arrays, before[0]):
        assert_same_bits(a, b)
    for a, b in zip(garrays, before[1]):
        assert_same_bits(a, b)
    _assert_snapshot(opt, before[2])


STATEFUL = [c for c in CASES if c.id in ("sgd-keras-momentum", "sgd-torch-nesterov",
                                         "adagrad-keras", "rmsprop-torch-centered-momentum",
                                         "adam-keras-amsgrad", "adamw-torch-defaults")]


def stepped_by_name(case, backend, rng):
    """(optimizer, params, grads): one update() made on named float64 tensors, so the state exists."""
    opt = make(case.cls, backend, **case.kwargs)
    ps = dict(zip(NAMES, make_params(rng, np.float64, NAMED_SHAPES)))
    gs = dict(zip(NAMES, make_grads(rng, np.float64, 1, NAMED_SHAPES)[0]))
    opt.update(ps, gs)
    return opt, ps, gs


@pytest.mark.parametrize("case", STATEFUL, ids=[c.id for c in STATEFUL])
def test_mismatched_keys_modify_nothing(case, backend, rng):
    opt, ps, gs = stepped_by_name(case, backend, rng)

    missing = dict(gs)
    del missing["b1"]
    _check_rejected(opt, ps, missing, ValueError, "missing keys \\['b1'\\]", opt.update)
    extra = dict(gs, W3=np.ones(2))
    _check_rejected(opt, ps, extra, ValueError, "unexpected keys \\['W3'\\]", opt.update)
    renamed = {("W9" if k == "W2" else k): v for k, v in ps.items()}
    renamed_g = {("W9" if k == "W2" else k): v for k, v in gs.items()}
    _check_rejected(opt, renamed, renamed_g, ValueError, "W2.*W9", opt.update)
    fewer = {k: ps[k] for k in NAMES[:3]}
    _check_rejected(opt, fewer, {k: gs[k] for k in NAMES[:3]}, ValueError, "b2", opt.update)
    _check_rejected(opt, list(ps.values())[:3], list(gs.values())[:3], ValueError, "3 tensors",
                    opt.apply)
    _check_rejected(opt, list(ps.values()), list(gs.values())[:3], ValueError, "grads", opt.apply)
    with pytest.raises(TypeError, match="params"):
        opt.update(list(ps.values()), gs)
    with pytest.raises(TypeError, match="grads"):
        opt.update(ps, list(gs.values()))


@pytest.mark.parametrize("case", STATEFUL, ids=[c.id for c in STATEFUL])
def test_changed_shapes_or_dtypes_modify_nothing(case, backend, rng):
    opt, ps, gs = stepped_by_name(case, backend, rng)

    reshaped = dict(ps, W2=rng.normal(size=(2, 3)))
    reshaped_g = dict(gs, W2=rng.normal(size=(2, 3)))
    _check_rejected(opt, reshaped, reshaped_g, ValueError, "W2.*shape \\(2, 3\\).*\\(3, 2\\)",
                    opt.update)
    grown = dict(ps, b2=rng.normal(size=3))
    _check_rejected(opt, grown, dict(gs, b2=rng.normal(size=3)), ValueError, "b2", opt.update)
    retyped = {k: v.astype(np.float32) for k, v in ps.items()}
    _check_rejected(opt, retyped, {k: v.astype(np.float32) for k, v in gs.items()}, ValueError,
                    "float32", opt.update)
    lists = list(reshaped.values()), list(reshaped_g.values())
    _check_rejected(opt, *lists, ValueError, "params\\[2\\]", opt.apply)
    # a wrong gradient alone is the update function's error, still modifying nothing
    _check_rejected(opt, ps, dict(gs, W1=rng.normal(size=(3, 4))), ValueError, "grads", opt.update)
    _check_rejected(opt, ps, dict(gs, W1=gs["W1"].astype(np.float32)), TypeError, "grads",
                    opt.update)
    # and the optimizer still works
    opt.update(ps, gs)
    assert opt.iterations == 2


def test_rejected_first_call_leaves_the_optimizer_unbuilt(backend, rng):
    opt = make(O.Adam, backend)
    ps = make_params(rng, np.float64, NAMED_SHAPES)
    bad = make_grads(rng, np.float64, 1, [(4, 3), (3,), (2, 3), (2,)])[0]
    _check_rejected(opt, ps, bad, ValueError, "grads", opt.apply)
    assert not opt.built and opt.get_state()["slots"] == {}
    other = [rng.normal(size=(5,)), rng.normal(size=(1,))]
    opt.apply(other, [rng.normal(size=5), rng.normal(size=1)])    # other shapes are fine now
    assert opt.iterations == 1
    with pytest.raises(TypeError, match="params\\[0\\]"):
        make(O.Adam, backend).apply([[1.0, 2.0]], [np.ones(2)])

    def failing_schedule(iterations):
        raise RuntimeError("schedule failed")
    opt = make(O.Adam, backend, learning_rate=failing_schedule)
    with pytest.raises(RuntimeError):
        opt.apply(ps, make_grads(rng, np.float64, 1, NAMED_SHAPES)[0])
    assert not opt.built and opt.iterations == 0


def test_sgd_without_momentum_only_checks_the_tensor_count(backend, rng):
    """Plain SGD keeps no state, so only the number of tensors is fixed by the first call."""
    opt = make(O.SGD, backend)
    opt.apply([rng.normal(size=3)], [rng.normal(size=3)])
    opt.apply([rng.normal(size=4).astype(np.float32)], [rng.normal(size=4).astype(np.float32)])
    with pytest.raises(ValueError, match="2 tensors"):
        opt.apply([np.zeros(1), np.zeros(1)], [np.zeros(1), np.zeros(1)])
    assert opt.iterations == 2


@pytest.mark.parametrize(("value", "error"), [(-1, ValueError), ("3", TypeError), (2.0, TypeError), (True, TypeError)])
def test_iterations_refuses_what_is_not_a_step_count(value, error):
    opt = O.Adam()
    opt.iterations = 5
    with pytest.raises(error, match="iterations"):
        opt.iterations = value
    assert opt.iterations == 5 and opt.iterations.numpy().dtype == np.int32
