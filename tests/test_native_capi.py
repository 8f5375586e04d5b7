"""Every entry of nnfast's C API table (nnfast/nnfast.h), called through ctypes on the capsule's table
and compared bit for bit with the same computation through nnfast.ops, on 1 and 2 threads (identical
bits): all optimizer updates in each convention they have, float32 and float64, multi-tensor with
awkward sizes and random state; gemm in every transpose with bias and activation; every activation;
the losses; dropout; the embedding gradient; thread control. Each optimizer entry also rejects bad input touching nothing.
The entries come from the header itself: one the tests do not know fails here."""
import ctypes
import pathlib
import re

import numpy as np
import pytest
from test_capi_c import ALIASING, INDEX, NULL_POINTER, OK, SIZE, VALUE, api, lib, p, rejected

import nnfast
from nnfast import ops

from conftest import assert_same_bits, num_threads, on_both_thread_counts, random_problem

__all__ = ["api", "lib"]  # the fixtures shared with test_capi_c
SIZES = (0, 1, 7, 17, 65, 1000)
DTYPES = {"f32": np.float32, "f64": np.float64}
ACTIVATIONS = ops.ACTIVATIONS  # the header's codes are these positions
CONVENTIONS = {"keras": 0, "torch": 1, "dlfs": 2}

# the installed header (the sanitizer and wheel runs test an installed nnfast, away from the sources)
HEADER = (pathlib.Path(nnfast.get_include()) / "nnfast" / "nnfast.h").read_text()
BODY = re.search(r"typedef struct nnfast_capi \{(.*?)\} nnfast_capi;", HEADER, re.S).group(1)
ENTRIES = re.findall(r"\(\*(\w+)\)\(|nnfast_update_f\d\d (\w+);", BODY)
ENTRIES = [a or b for a, b in ENTRIES]

vp, i64, f64, cint = ctypes.c_void_p, ctypes.c_int64, ctypes.c_double, ctypes.c_int


class Step(ctypes.Structure):
    _fields_ = [("size", ctypes.c_uint32), ("convention", ctypes.c_int32), ("step", ctypes.c_int64),
                *((n, f64) for n in ("learning_rate", "weight_decay", "epsilon", "momentum", "dampening", "lr_decay",
                                     "rho", "beta_1", "beta_2", "momentum_decay", "lr_power", "l1", "l2",
                                     "l2_shrinkage", "beta")),
                *((n, ctypes.c_int32) for n in ("nesterov", "centered", "amsgrad", "decoupled_weight_decay",
                                                "maximize"))]


class Tensor(ctypes.Structure):
    _fields_ = [("param", vp), ("grad", vp), ("state", vp * 3), ("size", i64)]


# The C prototype of each kind of entry (pointers as void*: one prototype for float and double).
PROTOTYPES = {
    "status_message": (ctypes.c_char_p, cint), "last_error": (ctypes.c_char_p,),
    "set_num_threads": (cint, cint), "get_num_threads": (cint, vp),
    "gemm": (cint, vp, i64, vp, i64, vp, i64, vp, i64, i64, i64, cint, cint, cint),
    "dense_forward": (cint, vp, vp, vp, vp, i64, i64, i64, cint),
    "dense_backward": (cint, vp, vp, vp, vp, vp, vp, vp, i64, i64, i64, cint),
    "activation_forward": (cint, vp, vp, i64, i64, cint), "activation_backward": (cint, vp, vp, vp, i64, i64, cint),
    "softmax_cross_entropy": (cint, vp, vp, vp, vp, vp, i64, i64, f64),
    "mse": (cint, vp, vp, vp, vp, i64), "mae": (cint, vp, vp, vp, vp, i64),
    "binary_cross_entropy": (cint, vp, vp, vp, vp, i64, f64),
    "dropout_forward": (cint, vp, vp, vp, i64, f64, ctypes.c_uint64),
    "dropout_backward": (cint, vp, vp, vp, i64, f64),
    "embedding_backward": (cint, vp, vp, vp, i64, i64, i64),
    "update": (cint, vp, i64, ctypes.POINTER(Step)),
}


def family(entry):
    """"adam_update_f32" -> "update", "gemm_f64" -> "gemm", "last_error" -> "last_error"."""
    base = re.sub(r"_f(32|64)$", "", entry)
    return "update" if base.endswith("_update") else base


class Table(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("size", ctypes.c_uint32),
                *((e, ctypes.CFUNCTYPE(*PROTOTYPES[family(e)])) for e in ENTRIES)]


@pytest.fixture(scope="module")
def table(lib, api):
    assert ctypes.sizeof(Table) == lib.header_table_size(), "the ctypes mirror is not the header's table"
    assert ctypes.sizeof(Step) == lib.header_step_size() and ctypes.sizeof(Tensor) == lib.header_tensor_size()
    return Table.from_address(api.value)


def test_the_mirror_covers_the_header():
    assert len(ENTRIES) == len(set(ENTRIES)) >= 48  # version 1: 4 + 2 x 11 + 2 x 10; version 2: + 2
    # so does Cython's declaration of the table, entry for entry and in order
    pxd = (pathlib.Path(nnfast.__file__).parent / "capi.pxd").read_text()
    declared = [a or b for a, b in re.findall(r"\(\*(\w+)\)\(|nnfast_update_f\d\d (\w+)\n", pxd)]
    assert [e for e in declared if not e.startswith("nnfast_")] == ENTRIES  # not the typedefs
    assert {family(e) for e in ENTRIES} == set(PROTOTYPES)
    assert {family(e) for e in LAYERS} == set(LAYER_CHECKS) and set(ENTRIES) - set(LAYERS) - set(UPDATES) == UNTYPED


# ---- optimizers ------------------------------------------------------------------------------------
# name: (state slots in nnfast.ops's order, whether ops takes `step`, [(convention, ops keywords)])
ADAM = dict(learning_rate=1e-2, beta_1=0.9, beta_2=0.999, epsilon=1e-7)
OPTIMIZERS = {
    "sgd": (1, True, [("keras", dict(learning_rate=0.1)), ("keras", dict(learning_rate=0.1, momentum=0.9)),
                      ("keras", dict(learning_rate=0.1, momentum=0.9, nesterov=True)),
                      ("torch", dict(learning_rate=0.1, momentum=0.9, dampening=0.1, weight_decay=0.01)),
                      ("torch", dict(learning_rate=0.1, momentum=0.9, nesterov=True, maximize=True)),
                      ("dlfs", dict(learning_rate=0.1, momentum=0.9, nesterov=True))]),
    "adagrad": (1, True, [("keras", dict(learning_rate=0.1, epsilon=1e-7)),
                          ("torch", dict(learning_rate=0.1, epsilon=1e-10, lr_decay=0.01, weight_decay=0.01))]),
    "rmsprop": (3, False, [("keras", dict(learning_rate=1e-3, rho=0.9, epsilon=1e-7)),
                           ("keras", dict(learning_rate=1e-3, rho=0.9, epsilon=1e-7, momentum=0.5, centered=True)),
                           ("torch", dict(learning_rate=1e-2, rho=0.99, epsilon=1e-8, centered=True, weight_decay=0.1)),
                           ("torch", dict(learning_rate=1e-2, rho=0.99, epsilon=1e-8, momentum=0.9, maximize=True))]),
    "adam": (3, True, [("keras", ADAM), ("keras", dict(ADAM, amsgrad=True, weight_decay=0.01)),
                       ("torch", dict(ADAM, amsgrad=True, weight_decay=0.01)),
                       ("torch", dict(ADAM, weight_decay=0.01, decoupled_weight_decay=True, maximize=True))]),
    "adamax": (2, True, [("keras", ADAM), ("torch", dict(ADAM, weight_decay=0.01))]),
    "nadam": (2, True, [("keras", ADAM), ("torch", dict(ADAM, momentum_decay=4e-3, weight_decay=0.01,
                                                        decoupled_weight_decay=True))]),
    "radam": (2, True, [("torch", ADAM), ("torch", dict(ADAM, weight_decay=0.01, decoupled_weight_decay=True))]),
    "adadelta": (2, False, [("keras", dict(learning_rate=1.0, rho=0.95, epsilon=1e-7)),
                            ("torch", dict(learning_rate=1.0, rho=0.9, epsilon=1e-6, weight_decay=0.01))]),
    "lion": (1, False, [("keras", dict(learning_rate=1e-3, beta_1=0.9, beta_2=0.99)),
                        ("keras", dict(learning_rate=1e-3, beta_1=0.9, beta_2=0.99, weight_decay=0.01))]),
    "ftrl": (2, False, [("keras", dict(learning_rate=0.1, learning_rate_power=-0.5, l1_regularization_strength=0.01,
                                       l2_regularization_strength=0.01, l2_shrinkage_regularization_strength=0.01,
                                       beta=0.1)),
                        ("keras", dict(learning_rate=0.1, learning_rate_power=-0.7))]),
}
STEP_NAMES = {"learning_rate_power": "lr_power", "l1_regularization_strength": "l1",
              "l2_regularization_strength": "l2", "l2_shrinkage_regularization_strength": "l2_shrinkage"}
UPDATES = [e for e in ENTRIES if family(e) == "update"]
CASES = [(e, c, kw) for e in UPDATES for c, kw in OPTIMIZERS[e.split("_update")[0]][2]]


def step_struct(convention, step, kwargs):
    s = Step(size=ctypes.sizeof(Step), convention=CONVENTIONS[convention], step=step)
    for key, value in kwargs.items():
        setattr(s, STEP_NAMES.get(key, key), value)
    return s


def start(rng, dtype, slots):
    """Parameters, three steps of gradients and random state (slot 0 in [0.5, 1), the rest in [0, 0.5):
    every square root and power of the updates stays real)."""
    params, grads = random_problem(rng, SIZES, dtype, steps=3)
    state = [[rng.uniform(0.5 if k == 0 else 0, 0.5 + 0.5 * (k == 0), n).astype(dtype) for n in SIZES]
             for k in range(slots)]
    return params, grads, state


def tensors(params, grads, state):
    out = (Tensor * len(params))()
    for i, (t, param, grad) in enumerate(zip(out, params, grads)):
        t.param, t.grad, t.size = param.ctypes.data, grad.ctypes.data, param.size
        for k, slot in enumerate(state):
            t.state[k] = slot[i].ctypes.data
    return out


@pytest.mark.parametrize("entry, convention, kwargs", CASES,
                         ids=[f"{e}-{c}-" + "-".join(f"{k}={v}" for k, v in kw.items()) for e, c, kw in CASES])
def test_optimizer_entry_equals_ops_bit_for_bit(table, rng, entry, convention, kwargs):
    name = entry.split("_update")[0]
    slots, takes_step, _ = OPTIMIZERS[name]
    params, grads, state = start(rng, DTYPES[entry[-3:]], slots)
    want = [a.copy() for a in params], [[a.copy() for a in slot] for slot in state]
    for step, g in enumerate(grads, 1):
        extra = dict(step=step) if takes_step else {}
        getattr(ops, f"{name}_update")(want[0], g, *want[1], **extra, **kwargs, convention=convention)

    def run():
        mine, mine_state = [a.copy() for a in params], [[a.copy() for a in slot] for slot in state]
        for step, g in enumerate(grads, 1):
            ts = tensors(mine, g, mine_state)
            assert getattr(table, entry)(ctypes.cast(ts, vp), len(ts), step_struct(convention, step, kwargs)) == OK
        return mine + [a for slot in mine_state for a in slot]

    got = on_both_thread_counts(run)
    for g, w in zip(got, want[0] + [a for slot in want[1] for a in slot]):
        assert_same_bits(g, w)
    assert not np.array_equal(got[len(SIZES) - 1], params[-1])  # the steps did something


@pytest.mark.parametrize("entry", UPDATES)
def test_optimizer_entry_rejects_bad_input_touching_nothing(table, lib, api, rng, entry):
    name = entry.split("_update")[0]
    slots, _, cases = OPTIMIZERS[name]
    convention, kwargs = cases[-1]
    params, grads, state = start(rng, DTYPES[entry[-3:]], 3)  # every slot given: the fullest check
    outputs = params + [a for slot in state for a in slot]
    fn = getattr(table, entry)

    def call(ts=None, s=None, count=6):
        ts = tensors(params, grads[0], state) if ts is None else ts
        return lambda: fn(ctypes.cast(ts, vp), count, s or step_struct(convention, 1, kwargs))

    ts = tensors(params, grads[0], state)
    ts[3].grad = None
    rejected(lib, api, NULL_POINTER, f"{entry}: tensors[3].grad must not be NULL (size 17)", *outputs, call=call(ts))
    ts = tensors(params, grads[0], state)
    ts[4].param = None
    rejected(lib, api, NULL_POINTER, "tensors[4].param must not be NULL", *outputs, call=call(ts))
    ts = tensors(params, grads[0], state)
    ts[2].size = -1
    rejected(lib, api, SIZE, "tensors[2].size must be in [0, ", *outputs, call=call(ts))
    rejected(lib, api, SIZE, f"{entry}: count must be >= 0, got -1", *outputs, call=call(count=-1))
    rejected(lib, api, NULL_POINTER, "s must not be NULL", *outputs, call=lambda: fn(ctypes.cast(
        tensors(params, grads[0], state), vp), len(SIZES), None))
    rejected(lib, api, VALUE, "s->learning_rate must be in [0, inf], got -1", *outputs,
             call=call(s=step_struct(convention, 1, dict(kwargs, learning_rate=-1.0))))
    missing = {0, 1, 2} - set(CONVENTIONS[c] for c, _ in cases) - ({2} if name != "sgd" else set())
    for code in sorted(missing | {7}):  # a convention this optimizer lacks
        bad = step_struct(convention, 1, kwargs)
        bad.convention = code
        rejected(lib, api, VALUE, "s->convention must be one of", *outputs, call=call(s=bad))


# ---- layers, losses, dropout -------------------------------------------------------------------------
# Each check returns (run, want): run() calls the entry and returns its outputs; want is nnfast.ops's.

def check_gemm(fn, dtype, rng, trans_a, trans_b, bias, act):
    m, n, k = 33, 17, 65
    a = rng.standard_normal((k, m) if trans_a else (m, k)).astype(dtype)
    b = rng.standard_normal((n, k) if trans_b else (k, n)).astype(dtype)
    bvec = rng.standard_normal(n).astype(dtype) if bias else None
    want = ops.gemm(a, b, trans_a=trans_a, trans_b=trans_b) + (0 if bvec is None else bvec)
    want = ops.activation_forward(want, ACTIVATIONS[act])

    def run():
        c = np.full((m, n + 3), -1.0, dtype)  # ldc > n: the last columns are left alone
        assert fn(p(c), n + 3, p(a), a.shape[1], p(b), b.shape[1], p(bvec), m, n, k, trans_a, trans_b, act) == OK
        assert (c[:, n:] == -1.0).all()
        return [c[:, :n].copy()]
    return run, [want]


def check_dense_forward(fn, dtype, rng, act):
    x, w, b = (rng.standard_normal(s).astype(dtype) for s in ((33, 17), (17, 9), (9,)))

    def run():
        y = np.full((33, 9), np.nan, dtype)
        assert fn(p(y), p(x), p(w), p(b), 33, 17, 9, act) == OK
        return [y]
    return run, [ops.dense_forward(x, w, b, ACTIVATIONS[act])]


def check_dense_backward(fn, dtype, rng, act):
    x, w = rng.standard_normal((33, 17)).astype(dtype), rng.standard_normal((17, 9)).astype(dtype)
    y, dy = ops.dense_forward(x, w, None, ACTIVATIONS[act]), rng.standard_normal((33, 9)).astype(dtype)

    def run():
        dx, dw, db = np.empty_like(x), np.empty_like(w), np.empty(9, dtype)
        assert fn(p(dx), p(dw), p(db), p(x), p(w), p(y), p(dy), 33, 17, 9, act) == OK
        return [dx, dw, db]
    return run, list(ops.dense_backward(x, w, y, dy, ACTIVATIONS[act]))


def check_activation_forward(fn, dtype, rng, act):
    z = rng.standard_normal((65, 17)).astype(dtype)

    def run():
        y = np.empty_like(z)
        assert fn(p(y), p(z), 65, 17, act) == OK
        return [y]
    return run, [ops.activation_forward(z, ACTIVATIONS[act])]


def check_activation_backward(fn, dtype, rng, act):
    y = ops.activation_forward(rng.standard_normal((65, 17)).astype(dtype), ACTIVATIONS[act])
    dy = rng.standard_normal((65, 17)).astype(dtype)

    def run():
        dz = np.empty_like(y)
        assert fn(p(dz), p(y), p(dy), 65, 17, act) == OK
        return [dz]
    return run, [ops.activation_backward(y, dy, ACTIVATIONS[act])]


def loss_run(fn, grad_like, arrays, *sizes):
    def run():  # holds the input arrays (not only their addresses) alive
        loss, grad = np.full(1, np.nan), np.full_like(grad_like, np.nan)
        assert fn(p(loss), p(grad), *map(p, arrays), *sizes) == OK
        return [loss, grad]
    return run


def check_pointwise(name):
    def check(fn, dtype, rng, n):
        pred = rng.uniform(0.05, 0.95, n).astype(dtype)  # probabilities too (binary_cross_entropy)
        target = (rng.integers(0, 2, n) if name == "binary_cross_entropy" else rng.standard_normal(n)).astype(dtype)
        extra = (0.1,) if name == "binary_cross_entropy" else ()
        loss, grad = getattr(ops, name)(pred, target, **({"label_smoothing": 0.1} if extra else {}))
        return loss_run(fn, pred, (pred, target), n, *extra), [np.array([loss]), grad]
    return check


def check_softmax_cross_entropy(fn, dtype, rng, by_labels):
    logits = rng.standard_normal((65, 7)).astype(dtype)
    labels = rng.integers(0, 7, 65)
    target = ops.activation_forward(rng.standard_normal((65, 7)).astype(dtype), "softmax")
    loss, grad = ops.softmax_cross_entropy(logits, labels if by_labels else target, label_smoothing=0.1)
    run = loss_run(fn, logits, (logits, labels if by_labels else None, None if by_labels else target), 65, 7, 0.1)
    return run, [np.array([loss]), grad]


def check_dropout_forward(fn, dtype, rng, n):
    x = rng.standard_normal(n).astype(dtype)

    def run():
        y, mask = np.full_like(x, np.nan), np.full(n, 7, np.uint8)
        assert fn(p(y), p(mask), p(x), n, 0.3, 2**64 - 5) == OK
        return [y, mask]
    return run, list(ops.dropout_forward(x, 0.3, 2**64 - 5))


def check_dropout_backward(fn, dtype, rng, n):
    dy, mask = rng.standard_normal(n).astype(dtype), ops.dropout_forward(np.ones(n, dtype), 0.3, 11)[1]

    def run():
        dx = np.full_like(dy, np.nan)
        assert fn(p(dx), p(dy), p(mask), n, 0.3) == OK
        return [dx]
    return run, [ops.dropout_backward(dy, mask, 0.3)]


def check_embedding_backward(fn, dtype, rng, n, rows, cols):
    dy = rng.standard_normal((n, cols)).astype(dtype)
    indices = rng.integers(0, rows, n)
    if n > 3:
        indices[:3] = rows - 1  # repeats: their order of summation matters to the last bit

    def run():
        dw = np.full((rows, cols), np.nan, dtype)
        assert fn(p(dw), p(dy), p(indices), n, rows, cols) == OK
        return [dw]
    return run, [ops.embedding_backward(dy, indices, rows)]


EVERY_ACT = [(a,) for a in range(len(ACTIVATIONS))]
ELEMENTWISE = [a for a in range(len(ACTIVATIONS)) if ACTIVATIONS[a] != "softmax"]
LENGTHS = [(n,) for n in SIZES]
LAYER_CHECKS = {  # family: (check, its argument lists)
    "gemm": (check_gemm, [(ta, tb, bias, act) for ta in (0, 1) for tb in (0, 1) for bias in (0, 1)
                          for act in ([0] if not bias else ELEMENTWISE)]),
    "dense_forward": (check_dense_forward, EVERY_ACT), "dense_backward": (check_dense_backward, EVERY_ACT),
    "activation_forward": (check_activation_forward, EVERY_ACT),
    "activation_backward": (check_activation_backward, EVERY_ACT),
    "softmax_cross_entropy": (check_softmax_cross_entropy, [(True,), (False,)]),
    "mse": (check_pointwise("mse"), LENGTHS), "mae": (check_pointwise("mae"), LENGTHS),
    "binary_cross_entropy": (check_pointwise("binary_cross_entropy"), LENGTHS),
    "dropout_forward": (check_dropout_forward, LENGTHS), "dropout_backward": (check_dropout_backward, LENGTHS),
    "embedding_backward": (check_embedding_backward, [(0, 5, 3), (1, 1, 1), (65, 7, 17), (2560, 500, 32),
                                                      (9, 1000, 65)]),
}
LAYERS = [e for e in ENTRIES if re.search(r"_f(32|64)$", e) and family(e) != "update"]
UNTYPED = {"status_message", "last_error", "set_num_threads", "get_num_threads"}  # test_thread_and_message_entries


@pytest.mark.parametrize("entry", LAYERS)
def test_layer_entry_equals_ops_bit_for_bit(table, rng, entry):
    check, arg_lists = LAYER_CHECKS[family(entry)]
    for args in arg_lists:
        run, want = check(getattr(table, entry), DTYPES[entry[-3:]], rng, *args)
        got = on_both_thread_counts(run)
        assert len(got) == len(want)
        for g, w in zip(got, want):
            assert_same_bits(g, np.asarray(w))


def test_embedding_entry_rejects_bad_input_touching_nothing(table, lib, api, rng):
    dy, dw = rng.standard_normal((4, 3)).astype(np.float32), np.full((5, 3), 7.0, np.float32)
    fn = table.embedding_backward_f32

    def call(indices=(0, 4, 2, 1), n=4, rows=5, out=dw, grads=dy):
        index = None if indices is None else np.array(indices, np.int64)
        return fn(p(out), p(grads), None if index is None else p(index), n, rows, 3)

    rejected(lib, api, INDEX, "indices must be rows of dw in [0, 5), got 5 at position 2", dw,
             call=lambda: call(indices=(0, 4, 5, 1)))
    rejected(lib, api, INDEX, "got -1 at position 0", dw, call=lambda: call(indices=(-1, 4, 2, 1)))
    rejected(lib, api, SIZE, "n must be >= 0, got -1", dw, call=lambda: call(n=-1))
    rejected(lib, api, NULL_POINTER, "embedding_backward_f32: indices must not be NULL", dw,
             call=lambda: call(indices=None))
    arena = np.zeros(40, np.float32)
    rejected(lib, api, ALIASING, "dw must not share memory with dy", arena,
             call=lambda: call(out=arena[:15], grads=arena[10:22]))
    assert table.status_message(INDEX) == b"an index is outside [0, rows)"
    assert call() == OK and np.array_equal(dw, ops.embedding_backward(dy, np.array([0, 4, 2, 1]), 5))


def test_thread_and_message_entries(table):
    n = ctypes.c_int(-1)
    with num_threads(nnfast.get_num_threads()):
        for threads in (2, 1):
            assert table.set_num_threads(threads) == OK and nnfast.get_num_threads() == threads
            assert table.get_num_threads(ctypes.addressof(n)) == OK and n.value == threads
        assert table.set_num_threads(4097) == VALUE and nnfast.get_num_threads() == 1
        assert table.last_error() == b"set_num_threads: n must be between 1 and 4096, got 4097"
        assert table.get_num_threads(None) == NULL_POINTER
        assert table.last_error() == b"get_num_threads: n must not be NULL"
    assert table.status_message(OK) == b"ok" and table.status_message(NULL_POINTER) == b"a required pointer is NULL"
