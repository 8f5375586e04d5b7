"""nnfast's C API from plain C: tests/capi_plain.c compiled as C99 against nnfast/nnfast.h and loaded
with ctypes, the table taken from the capsule nnfast._core._C_API. Results equal nnfast.ops's bit for
bit; every kind of bad input returns its status, has a message and touches no output; the header's
loader raises a clear ImportError when nnfast is missing or too old; docs/capi.md's example builds."""
import ctypes
import re
import shutil
import subprocess
import sys
import sysconfig

import numpy as np
import pytest
from capi_build import ROOT, compile_c, load_extension, require

import nnfast
from nnfast import _core, ops

OK, NULL_POINTER, SIZE, ALIASING, ACTIVATION, LABEL, VALUE, VERSION, INTERNAL, INDEX = range(10)
LINEAR, RELU, SOFTMAX = 0, 1, 5
KERAS, TORCH = 0, 1


@pytest.fixture(scope="module")
def lib(tmp_path_factory):
    path = compile_c(ROOT / "tests" / "capi_plain.c", tmp_path_factory.mktemp("capi") / "capi_plain.so")
    lib = ctypes.PyDLL(str(path))  # PyDLL: calls keep the GIL (load_table uses the Python C API)
    lib.load_table.restype = ctypes.py_object
    for name in ("status_message", "last_error"):
        getattr(lib, name).restype = ctypes.c_char_p
    return lib


def capsule_pointer():
    get = ctypes.pythonapi.PyCapsule_GetPointer
    get.restype, get.argtypes = ctypes.c_void_p, [ctypes.py_object, ctypes.c_char_p]
    return get(_core._C_API, b"nnfast._core._C_API")


@pytest.fixture(scope="module")
def api(lib):
    return ctypes.c_void_p(capsule_pointer())


def p(a):
    """An array's data pointer (None: NULL)."""
    return None if a is None else ctypes.c_void_p(a.ctypes.data)


def i64(*values):
    return [ctypes.c_int64(v) for v in values]


def test_the_capsule_serves_this_header(lib, api):
    assert lib.load_table() == api.value
    assert lib.compatible(api) == 1
    assert _core.C_API_VERSION == lib.header_version() == 2
    assert lib.compatible(None) == 0
    # version and size fields lead the table: the library's own
    version, size = np.frombuffer(ctypes.string_at(api.value, 8), np.uint32)
    assert version == 2 and size == lib.header_table_size()


def test_dense_forward_and_backward_equal_ops_bit_for_bit(lib, api, rng):
    for dtype, fn in ((np.float32, lib.dense_forward_f32), (np.float64, lib.dense_forward_f64)):
        x, w, b = (rng.standard_normal(s).astype(dtype) for s in ((33, 17), (17, 9), (9,)))
        y = np.full((33, 9), np.nan, dtype)
        assert fn(api, p(y), p(x), p(w), p(b), *i64(33, 17, 9), RELU) == OK
        assert np.array_equal(y, ops.dense_forward(x, w, b, "relu"))
    x, w = rng.standard_normal((33, 17), np.float32), rng.standard_normal((17, 9), np.float32)
    y = ops.dense_forward(x, w, None, "relu")
    dy = rng.standard_normal((33, 9), np.float32)
    dx, dw, db = np.empty_like(x), np.empty_like(w), np.empty(9, np.float32)
    assert lib.dense_backward_f32(api, p(dx), p(dw), p(db), p(x), p(w), p(y), p(dy), *i64(33, 17, 9), RELU) == OK
    for got, want in zip((dx, dw, db), ops.dense_backward(x, w, y, dy, "relu")):
        assert np.array_equal(got, want)


def test_gemm_with_transposes_and_leading_dimensions(lib, api, rng):
    a = rng.standard_normal((12, 7), np.float32)   # op(a) = a.T: (7, 12), stored (12, 7) with lda 7
    b = rng.standard_normal((5, 12), np.float32)   # op(b) = b.T: (12, 5)
    c = np.full((7, 8), -1.0, np.float32)          # ldc 8 > n: the last 3 columns are left alone
    assert lib.gemm_f32(api, p(c), *i64(8), p(a), *i64(7), p(b), *i64(12), None, *i64(7, 5, 12), 1, 1, LINEAR) == OK
    assert np.array_equal(c[:, :5], ops.gemm(a, b, trans_a=True, trans_b=True))
    assert (c[:, 5:] == -1.0).all()


def test_losses_and_dropout_equal_ops(lib, api, rng):
    logits, labels = rng.standard_normal((10, 4), np.float32), rng.integers(0, 4, 10)
    loss, grad = ctypes.c_double(), np.empty_like(logits)
    assert lib.softmax_cross_entropy_f32(api, ctypes.byref(loss), p(grad), p(logits), p(labels), None,
                                         *i64(10, 4), ctypes.c_double(0.1)) == OK
    want_loss, want_grad = ops.softmax_cross_entropy(logits, labels, label_smoothing=0.1)
    assert loss.value == want_loss and np.array_equal(grad, want_grad)
    pred, target = rng.standard_normal(77), rng.standard_normal(77)
    grad = np.empty_like(pred)
    assert lib.mse_f64(api, ctypes.byref(loss), p(grad), p(pred), p(target), *i64(77)) == OK
    want_loss, want_grad = ops.mse(pred, target)
    assert loss.value == want_loss and np.array_equal(grad, want_grad)
    prob, target = rng.uniform(0, 1, 65).astype(np.float32), rng.integers(0, 2, 65).astype(np.float32)
    grad = np.empty_like(prob)
    assert lib.binary_cross_entropy_f32(api, ctypes.byref(loss), p(grad), p(prob), p(target), *i64(65),
                                        ctypes.c_double(0.0)) == OK
    want_loss, want_grad = ops.binary_cross_entropy(prob, target)
    assert loss.value == want_loss and np.array_equal(grad, want_grad)
    x = rng.standard_normal(1000).astype(np.float32)
    y, mask = np.empty_like(x), np.empty(1000, np.uint8)
    rejected(lib, api, ALIASING, "mask must not share memory with x", x, y, call=lambda: lib.dropout_forward_f32(
        api, p(y), p(x), p(x), *i64(1000), ctypes.c_double(0.3), ctypes.c_uint64(7)))
    assert lib.dropout_forward_f32(api, p(y), p(mask), p(x), *i64(1000), ctypes.c_double(0.3),
                                   ctypes.c_uint64(7)) == OK
    want_y, want_mask = ops.dropout_forward(x, 0.3, 7)
    assert np.array_equal(y, want_y) and np.array_equal(mask, want_mask)


@pytest.mark.parametrize("convention", [KERAS, TORCH])
@pytest.mark.parametrize("amsgrad", [0, 1])
def test_adam_multi_tensor_equals_ops_bit_for_bit(lib, api, rng, convention, amsgrad):
    shapes = [(0,), (1,), (17,), (65, 3)]
    params = [rng.standard_normal(s) for s in shapes]
    grads = [rng.standard_normal(s) for s in shapes]
    state = [[rng.uniform(0, 1, s) for s in shapes] for _ in range(3)]
    mine = [[a.copy() for a in group] for group in (params, *state)]
    name = ("keras", "torch")[convention]
    for step in (1, 2, 3):
        ops.adam_update(params, grads, *state, step=step, learning_rate=1e-2, beta_1=0.9, beta_2=0.999,
                        epsilon=1e-7, amsgrad=bool(amsgrad), convention=name)
        ptrs = [(ctypes.c_void_p * 4)(*(a.ctypes.data for a in group)) for group in (*mine, grads)]
        sizes = (ctypes.c_int64 * 4)(*(a.size for a in grads))
        assert lib.adam_update_f64(api, ptrs[0], ptrs[4], ptrs[1], ptrs[2], ptrs[3], sizes, ctypes.c_int64(4),
                                   ctypes.c_int64(step), ctypes.c_double(1e-2), convention, amsgrad) == OK
    for want, got in zip((params, *state), mine):
        for w, g in zip(want, got):
            assert np.array_equal(w, g)


def test_threads_through_the_table(lib, api):
    before = nnfast.get_num_threads()
    try:
        n = ctypes.c_int()
        assert lib.set_threads(api, 1) == OK and lib.get_threads(api, ctypes.byref(n)) == OK and n.value == 1
        assert nnfast.get_num_threads() == 1
        assert lib.set_threads(api, 0) == VALUE and b"between 1 and 4096" in lib.last_error(api)
        assert lib.get_threads(api, None) == NULL_POINTER
    finally:
        nnfast.set_num_threads(before)


def rejected(lib, api, status, words, *outputs, call):
    """call() returns `status`, its message says `words`, and no output changed."""
    before = [o.copy() for o in outputs]
    assert call() == status, lib.last_error(api)
    message = lib.last_error(api).decode()
    assert words in message, message
    for b, o in zip(before, outputs):
        assert np.array_equal(b.view(np.uint8), o.view(np.uint8)), "a rejected call changed an output"


def test_bad_input_returns_a_status_with_a_message_and_touches_nothing(lib, api, rng):
    x, w, b = (rng.standard_normal(s).astype(np.float32) for s in ((8, 4), (4, 3), (3,)))
    y = np.full((8, 3), 7.0, np.float32)

    def forward(out=y, w=w, sizes=(8, 4, 3), act=RELU):
        return lib.dense_forward_f32(api, p(out), p(x), p(w), p(b), *i64(*sizes), act)

    rejected(lib, api, SIZE, "m must be >= 0, got -1", y, call=lambda: forward(sizes=(-1, 4, 3)))
    rejected(lib, api, SIZE, "x has", y, call=lambda: forward(sizes=(1 << 40, 1 << 40, 3)))
    rejected(lib, api, NULL_POINTER, "dense_forward_f32: w must not be NULL", y, call=lambda: forward(w=None))
    rejected(lib, api, ALIASING, "y must not share memory with x", x, call=lambda: forward(out=x))
    rejected(lib, api, ACTIVATION, "got 9", y, call=lambda: forward(act=9))
    rejected(lib, api, ACTIVATION, "got -1", y, call=lambda: forward(act=-1))
    # gemm: a too-small leading dimension, softmax (not element-wise)
    c = np.zeros((8, 3), np.float32)
    rejected(lib, api, SIZE, "lda must be >= max(1, 4)", c, call=lambda: lib.gemm_f32(
        api, p(c), *i64(3), p(x), *i64(3), p(w), *i64(3), None, *i64(8, 3, 4), 0, 0, LINEAR))
    rejected(lib, api, ACTIVATION, "element-wise", c, call=lambda: lib.gemm_f32(
        api, p(c), *i64(3), p(x), *i64(4), p(w), *i64(3), None, *i64(8, 3, 4), 0, 0, SOFTMAX))
    # two outputs of dense_backward sharing memory; activation in place is fine but a shifted alias is not
    dw, arena = np.zeros((4, 3), np.float32), np.zeros(40, np.float32)
    rejected(lib, api, ALIASING, "share memory", dw, arena, call=lambda: lib.dense_backward_f32(
        api, p(arena), p(dw), p(arena[30:]), p(x), p(w), p(y), p(y), *i64(8, 4, 3), LINEAR))
    z = rng.standard_normal(16).astype(np.float32)
    rejected(lib, api, ALIASING, "exact alias", z, call=lambda: lib.activation_forward_f32(
        api, p(z[1:]), p(z), *i64(1, 15), RELU))
    assert lib.activation_forward_f32(api, p(z), p(z), *i64(4, 4), RELU) == OK and (z >= 0).all()
    # an out-of-range label: neither the gradient nor the loss is written
    logits, labels = rng.standard_normal((5, 3)).astype(np.float32), np.array([0, 1, 2, 3, 1])
    grad, loss = np.full((5, 3), 2.0, np.float32), np.full(1, 5.0)
    rejected(lib, api, LABEL, "in [0, 3), got 3 at position 3", grad, loss, call=lambda: lib.softmax_cross_entropy_f32(
        api, p(loss), p(grad), p(logits), p(labels), None, *i64(5, 3), ctypes.c_double(0.0)))
    rejected(lib, api, VALUE, "label_smoothing must be in [0, 1], got 2", grad, loss,
             call=lambda: lib.softmax_cross_entropy_f32(api, p(loss), p(grad), p(logits), p(labels % 3), None,
                                                        *i64(5, 3), ctypes.c_double(2.0)))
    rejected(lib, api, ALIASING, "loss must not share memory with grad", grad, call=lambda: lib.mse_f64(
        api, p(grad), p(grad), p(grad), p(grad), *i64(1)))


def test_optimizer_bad_input(lib, api, rng):
    param, grad, buf = (rng.standard_normal(9).astype(np.float32) for _ in range(3))

    def sgd(param=param, grad=grad, buf=buf, size=9, step=1, lr=0.1, momentum=0.9, nesterov=0, convention=KERAS,
            struct_size=0):
        return lib.sgd_update_f32(api, p(param), p(grad), p(buf), *i64(size, step), ctypes.c_double(lr),
                                  ctypes.c_double(momentum), nesterov, convention, ctypes.c_uint32(struct_size))

    rejected(lib, api, ALIASING, "tensors[0].state[0] must not share memory with tensors[0].param", param, buf,
             call=lambda: sgd(buf=param))
    rejected(lib, api, ALIASING, "(it is written)", param, call=lambda: sgd(grad=param))
    rejected(lib, api, NULL_POINTER, "tensors[0].state[0] must not be NULL", param, call=lambda: sgd(buf=None))
    rejected(lib, api, SIZE, "tensors[0].size must be in", param, buf, call=lambda: sgd(size=-2))
    rejected(lib, api, VALUE, "s->momentum must be in [0, 1], got 1.5", param, buf, call=lambda: sgd(momentum=1.5))
    rejected(lib, api, VALUE, "s->learning_rate", param, buf, call=lambda: sgd(lr=float("nan")))
    rejected(lib, api, VALUE, "s->step must be >= 1", param, buf, call=lambda: sgd(step=0))
    rejected(lib, api, VALUE, "s->convention must be one of", param, buf, call=lambda: sgd(convention=7))
    rejected(lib, api, VALUE, "requires momentum > 0", param, buf, call=lambda: sgd(momentum=0.0, nesterov=1,
                                                                                     convention=TORCH))
    rejected(lib, api, VERSION, "s->size must be >=", param, buf, call=lambda: sgd(struct_size=8))
    # without momentum the buffer is not needed (and may be NULL), as in nnfast.ops
    want = param.copy()
    ops.sgd_update([want], [grad], None, step=1, learning_rate=0.1)
    assert sgd(buf=None, momentum=0.0) == OK and np.array_equal(param, want)


def test_every_status_has_a_message(lib, api):
    messages = [lib.status_message(api, s).decode() for s in range(10)]
    assert messages[0] == "ok" and all(messages) and len(set(messages)) == 10
    assert "unknown" in lib.status_message(api, 99).decode()


def test_the_loader_raises_a_clear_import_error(lib, monkeypatch):
    monkeypatch.delattr(_core, "_C_API")
    with pytest.raises(ImportError, match="has no C API .*upgrade nnfast"):
        lib.load_table()
    # a table of an older version (or a smaller size) than this header's
    old = (ctypes.c_uint32 * 2)(0, 8)
    new = ctypes.pythonapi.PyCapsule_New
    new.restype, new.argtypes = ctypes.py_object, [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p]
    monkeypatch.setattr(_core, "_C_API", new(ctypes.addressof(old), b"nnfast._core._C_API", None), raising=False)
    with pytest.raises(ImportError, match="C API is version 0 .* older than version 2"):
        lib.load_table()
    monkeypatch.setattr(_core, "_C_API", object())
    with pytest.raises(ImportError, match="is not an nnfast._core._C_API capsule"):
        lib.load_table()
    monkeypatch.setitem(sys.modules, "nnfast._core", None)
    with pytest.raises(ImportError, match="needs nnfast installed"):
        lib.load_table()


def test_the_python_wrappers_keep_their_exceptions(rng):
    x = rng.standard_normal((2, 3)).astype(np.float32)
    with pytest.raises(ValueError, match="activation must be one of"):
        ops.dense_forward(x, x.T.copy(), activation="swish")
    with pytest.raises(ValueError, match="labels must be class indices in \\[0, 3\\), got 5"):
        ops.softmax_cross_entropy(x, np.array([0, 5]))


def test_the_docs_example_compiles_and_runs(tmp_path, rng):
    text = (ROOT / "docs" / "capi.md").read_text()
    source = re.search(r"```c\n(/\* tinynet\.c.*?)```", text, re.S).group(1)
    (tmp_path / "tinynet.c").write_text(source)
    module = load_extension("tinynet", compile_c(tmp_path / "tinynet.c", tmp_path / "tinynet.so"))
    x, w, b = rng.standard_normal((4, 3)), rng.standard_normal((3, 2)), rng.standard_normal(2)
    out = np.empty((4, 2))
    module.dense(out, x, w, b, RELU)
    assert np.array_equal(out, ops.dense_forward(x, w, b, "relu"))
    with pytest.raises(ValueError, match="dense_forward_f64: act must be one of"):
        module.dense(out, x, w, b, 9)
    with pytest.raises(ValueError, match="shapes must be"):
        module.dense(out, x, w[:2], b, RELU)


def test_the_header_compiles_as_cpp(tmp_path):
    cxx = shutil.which("c++") or shutil.which("g++") or shutil.which("clang++")
    require("a C++ compiler", cxx)
    source = tmp_path / "user.cpp"
    source.write_text('#include <Python.h>\n#include "nnfast/nnfast.h"\n'
                      "int call(const nnfast_capi* api, float* y, const float* x) {\n"
                      "    return api->activation_forward_f32(y, x, 1, 1, NNFAST_RELU);\n}\n"
                      "const nnfast_capi* load() { return nnfast_import(); }\n")
    result = subprocess.run([cxx, "-std=c++11", "-Wall", "-Wextra", "-Werror", "-fsyntax-only", "-I",
                             nnfast.get_include(), "-I", sysconfig.get_paths()["include"], str(source)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
