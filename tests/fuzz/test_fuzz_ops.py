"""Fuzzing of every function of nnfast.ops against nnfast.reference (issue #17, item 2).

Each example builds a valid call of one function (random dtype, shapes from empty to 4-D, values
with NaN, Inf, subnormals and huge numbers), then replaces one argument with something hostile
(another dtype, ndim, size or layout, a huge zero-stride view, a list, a scalar, None, an array
aliasing another argument, an out-of-range hyperparameter) or leaves it valid. The property is
hostile.check's: the reference's answer or a named TypeError/ValueError/MemoryError, nothing
written by a refused call, no leaked reference.
"""
import inspect
import warnings

import numpy as np
import pytest
from hostile import FLOATS, WEIRD, check, copies, hostile_array, values
from hypothesis import given
from hypothesis import strategies as st

from nnfast import ops, reference

ACTS = ("linear", None, "relu", "leaky_relu", "sigmoid", "tanh", "softmax")
POINTWISE = ("mse", "mae", "binary_cross_entropy", "sigmoid_cross_entropy", "mape", "msle", "huber", "log_cosh",
             "hinge", "squared_hinge", "poisson")
ROWWISE = ("kl_divergence", "categorical_hinge", "cosine_similarity", "categorical_cross_entropy",
           "softmax_cross_entropy")
UPDATES = tuple(sorted(name for name in dir(ops) if name.endswith("_update") and name != "prepare_update"))
# Valid hyperparameters of every update function (each also keeps its own defaults).
HYPER = dict(step=3, learning_rate=0.01, beta_1=0.9, beta_2=0.999, epsilon=1e-7, rho=0.9)
GEMM_LIKE = ("gemm", "dense_forward", "dense_backward")


def dims(draw, n, lo=0, hi=5):
    return tuple(draw(st.integers(lo, hi)) for _ in range(n))


def state_parameters(fn):
    """The state arguments of an update function: its positional parameters after params and grads."""
    sig = inspect.signature(fn)
    return [p for p in list(sig.parameters)[2:] if sig.parameters[p].kind is inspect.Parameter.POSITIONAL_OR_KEYWORD]


def update_case(draw, name, dtype, rng, special):
    """A valid call of an optimizer update: 1-3 tensors of any shape, every state slot an array."""
    sig = inspect.signature(getattr(reference, name))
    slots = state_parameters(getattr(reference, name))
    shapes = [dims(draw, draw(st.integers(0, 3))) for _ in range(draw(st.integers(1, 3)))]
    kw = {"params": [values(rng, s, dtype, special) for s in shapes],
          "grads": [values(rng, s, dtype, special) for s in shapes]}
    for slot in slots:
        kw[slot] = [values(rng, s, dtype, 0.0, positive=True) for s in shapes]
    for pname, p in sig.parameters.items():
        if p.kind is inspect.Parameter.KEYWORD_ONLY and pname in HYPER:
            kw[pname] = HYPER[pname]
    options = {"momentum": 0.5, "nesterov": True, "centered": True, "amsgrad": True, "weight_decay": 0.01,
               "maximize": True, "decoupled_weight_decay": True, "convention": "torch"}
    for option, value in options.items():
        if option in sig.parameters and draw(st.booleans()):
            kw[option] = value
    if name == "sgd_update" and kw.get("convention") == "torch" and kw.get("nesterov"):
        kw["momentum"] = 0.5
    return kw


@st.composite
def valid_case(draw, name):
    """(kwargs, written): a valid call of ops.NAME and the names of the arguments it writes."""
    dtype = draw(st.sampled_from(FLOATS))
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    special = draw(st.sampled_from((0.0, 0.0, 0.1, 0.5)))

    def arr(shape, positive=False, sp=special):
        return values(rng, shape, dtype, sp, positive)

    out = draw(st.booleans())
    if name in UPDATES:
        kw = update_case(draw, name, dtype, rng, special)
        return kw, [k for k in kw if k != "grads" and isinstance(kw[k], list)]
    if name in ("activation_forward", "activation_backward"):
        act = draw(st.sampled_from(ACTS))
        shape = dims(draw, draw(st.integers(1 if act == "softmax" else 0, 4)))
        kw = {"z": arr(shape)} if name == "activation_forward" else {"y": arr(shape), "dy": arr(shape)}
        kw["activation"] = act
    elif name in GEMM_LIKE:
        m, k, n = dims(draw, 3, 0, 9)
        act = draw(st.sampled_from(ACTS)) if name != "gemm" else None
        if name == "gemm":
            ta, tb = draw(st.booleans()), draw(st.booleans())
            kw = {"a": arr((k, m) if ta else (m, k)), "b": arr((n, k) if tb else (k, n)), "trans_a": ta, "trans_b": tb}
        elif name == "dense_forward":
            kw = {"x": arr((m, k)), "w": arr((k, n)), "b": arr((n,)) if draw(st.booleans()) else None,
                  "activation": act}
        else:
            kw = {"x": arr((m, k)), "w": arr((k, n)), "y": arr((m, n)), "dy": arr((m, n)), "activation": act,
                  "need_dx": draw(st.booleans()), "need_db": draw(st.booleans())}
            if out:
                kw.update(dx_out=np.empty((m, k), dtype), dw_out=np.empty((k, n), dtype), db_out=np.empty(n, dtype))
            return kw, ["dx_out", "dw_out", "db_out"]
    elif name in POINTWISE:
        shape = dims(draw, draw(st.integers(0, 4)))
        if name in ("hinge", "squared_hinge"):
            target = np.sign(arr(shape, sp=0.0)).astype(dtype)
        elif name in ("binary_cross_entropy", "poisson", "msle", "kl_divergence"):
            target = arr(shape, positive=True)
        else:
            target = arr(shape)
        pred = arr(shape, positive=name in ("binary_cross_entropy", "poisson"))
        if name == "binary_cross_entropy":
            pred = np.minimum(pred, 1).astype(dtype)
        kw = {"pred" if name not in ("binary_cross_entropy", "sigmoid_cross_entropy") else
              ("prob" if name == "binary_cross_entropy" else "logits"): pred, "target": target}
        if name in ("binary_cross_entropy", "sigmoid_cross_entropy"):
            kw["label_smoothing"] = draw(st.sampled_from((0.0, 0.1)))
        if name == "huber":
            kw["delta"] = draw(st.sampled_from((1.0, 0.5, 0.0)))
    elif name in ROWWISE:
        b, c = draw(st.integers(0, 6)), draw(st.integers(1, 6))
        first = {"categorical_cross_entropy": "prob", "softmax_cross_entropy": "logits"}.get(name, "pred")
        second = "labels" if name.endswith("cross_entropy") else "target"
        kw = {first: arr((b, c), positive=name != "softmax_cross_entropy" and name != "cosine_similarity")}
        if second == "labels" and draw(st.booleans()):
            kw[second] = rng.integers(0, c, b).astype(draw(st.sampled_from((np.int32, np.int64))))
        else:
            kw[second] = arr((b, c), positive=True)
        if second == "labels":
            kw["label_smoothing"] = draw(st.sampled_from((0.0, 0.1)))
    elif name == "dropout_forward":
        kw = {"x": arr(dims(draw, draw(st.integers(0, 4)))), "rate": draw(st.sampled_from((0.0, 0.3, 0.99))),
              "seed": draw(st.integers(-2 ** 63, 2 ** 64 - 1))}
        if out:
            kw.update(out=np.empty_like(kw["x"]), mask_out=np.empty(kw["x"].shape, np.uint8))
        return kw, ["out", "mask_out"]
    elif name == "dropout_backward":
        shape = dims(draw, draw(st.integers(0, 4)))
        kw = {"dy": arr(shape), "mask": (rng.random(shape) < 0.5).astype(np.uint8), "rate": 0.5}
    elif name in ("batch_norm_forward", "layer_norm_forward", "normalization_forward"):
        b, f = draw(st.integers(1, 6)), draw(st.integers(1, 6))
        kw = {"x": arr((b, f))}
        if name == "normalization_forward":
            kw.update(mean=arr((f,)), variance=arr((f,), positive=True), invert=draw(st.booleans()))
        else:
            kw.update(gamma=arr((f,)) if draw(st.booleans()) else None, beta=arr((f,)) if draw(st.booleans()) else None)
        if name == "batch_norm_forward":
            kw.update(moving_mean=arr((f,)), moving_var=arr((f,), positive=True), training=draw(st.booleans()))
        return kw, ["moving_mean", "moving_var", "out", "mean_out", "inv_std_out"]
    elif name in ("batch_norm_backward", "layer_norm_backward"):
        b, f = draw(st.integers(1, 6)), draw(st.integers(1, 6))
        stats = (f,) if name == "batch_norm_backward" else (b,)
        kw = {"x": arr((b, f)), "gamma": arr((f,)) if draw(st.booleans()) else None, "mean": arr(stats),
              "inv_std": arr(stats, positive=True), "dy": arr((b, f)),
              "need_dgamma": draw(st.booleans()), "need_dbeta": draw(st.booleans())}
        if name == "batch_norm_backward":
            kw["training"] = draw(st.booleans())
        return kw, ["dx_out", "dgamma_out", "dbeta_out"]
    elif name == "embedding_backward":
        n, rows = draw(st.integers(0, 9)), draw(st.integers(1, 9))
        kw = {"dy": arr((n, draw(st.integers(0, 6)))), "rows": rows,
              "indices": rng.integers(0, rows, n).astype(draw(st.sampled_from((np.int32, np.int64, np.uint8))))}
    elif name == "normalization_backward":
        f = draw(st.integers(1, 6))
        kw = {"dy": arr((draw(st.integers(0, 6)), f)), "variance": arr((f,), positive=True),
              "invert": draw(st.booleans())}
    else:
        raise AssertionError(f"no valid case for {name}")
    if out and "out" in inspect.signature(getattr(ops, name)).parameters:
        with np.errstate(all="ignore"):
            result = getattr(reference, name)(**{k: np.copy(v) if isinstance(v, np.ndarray) else v
                                                 for k, v in kw.items()})
        first = result[1] if isinstance(result, tuple) and isinstance(result[0], float) else result
        first = first[0] if isinstance(first, tuple) else first
        kw["out"] = np.empty_like(first)
    return kw, ["out"]


@st.composite
def fuzz_case(draw, name):
    """(kwargs, written, the argument an error must name: None for any argument)."""
    kw, written = draw(valid_case(name))
    mode = draw(st.sampled_from(("valid", "array", "array", "scalar", "alias")))
    arrays = [k for k, v in kw.items() if isinstance(v, np.ndarray) or isinstance(v, list) and v
              and isinstance(v[0], np.ndarray)]
    others = [k for k in inspect.signature(getattr(ops, name)).parameters if k not in arrays]
    if mode == "array" and arrays:
        target = draw(st.sampled_from(arrays))
        if isinstance(kw[target], list):
            i = draw(st.integers(0, len(kw[target]) - 1))
            _, kw[target][i] = draw(hostile_array(kw[target][i]))
        else:
            _, kw[target] = draw(hostile_array(kw[target]))
        return kw, written, None  # a wrong shape may be reported on the argument it disagrees with
    if mode == "scalar" and others:
        target = draw(st.sampled_from(others))
        kw[target] = draw(st.sampled_from(WEIRD))
        return kw, written, None  # a value valid for its argument may be refused as another's partner
    if mode == "alias" and len(arrays) > 1:
        a, b = draw(st.permutations(arrays))[:2]
        kw[a] = kw[b]
        return kw, written, None
    return kw, written, None


def assert_close(got, want, name, tol, what):
    """Equal NaN / Inf patterns and finite values within `tol` (exact when tol is 0)."""
    if isinstance(want, float) or isinstance(got, float):
        assert isinstance(got, float) and isinstance(want, float), f"{what}: {got!r} != {want!r}"
        got, want = np.array(got), np.array(want)
    assert got.dtype == want.dtype and got.shape == want.shape, \
        f"{what}: {got.dtype}{got.shape} != reference {want.dtype}{want.shape}"
    if tol == 0:
        same = (got == want) | (np.isnan(got) & np.isnan(want))
    else:
        with np.errstate(all="ignore"):
            g64, w64 = got.astype(np.float64), want.astype(np.float64)
            same = (g64 == w64) | (np.isnan(g64) & np.isnan(w64)) | (np.abs(g64 - w64) <= tol * (1 + np.abs(w64)))
    assert same.all(), f"{what} of {name}: native {got[~same][:4]} != reference {want[~same][:4]}"


def reference_check(name, kw, written, before):
    """The compare() of ops.NAME: its result and the arrays it wrote equal the reference's."""
    ref_fn = getattr(reference, name)
    accepted = inspect.signature(ref_fn).parameters
    ref_kw = {k: v for k, v in before.items() if k in accepted}
    first = [v[0] if isinstance(v, list) else v for v in ref_kw.values()
             if isinstance(v, np.ndarray) or isinstance(v, list) and v and isinstance(v[0], np.ndarray)]
    dtype = first[0].dtype if first else np.dtype(np.float64)
    eps = float(np.finfo(dtype).eps) if dtype.kind == "f" else 0.0
    if name in UPDATES or name.startswith("dropout") or name == "embedding_backward":
        tol = 0
    elif name in GEMM_LIKE:
        tol = 64 * eps * (1 + max(a.shape[0] if a.ndim else 1 for a in ref_kw.values() if isinstance(a, np.ndarray)))
    else:
        tol = 256 * eps

    def compare(result):
        try:
            expected = ref_fn(**ref_kw)
        except (TypeError, ValueError) as error:
            raise AssertionError(f"native {name} accepted a call the reference refuses: {error}") from error
        if name in UPDATES:
            for arg in written:
                if any(kw[arg] is kw[other] for other in kw if other != arg):
                    continue  # an unused state list aliasing another one (the reference got two copies)
                for i, (got, want) in enumerate(zip(kw[arg], ref_kw[arg])):
                    # (an unused state argument may hold anything: a huge view, objects; its bytes are checked)
                    if isinstance(got, np.ndarray) and got.dtype.kind == "f" and got.size < 1 << 24:
                        assert_close(got, want, name, tol, f"{arg}[{i}]")
            return
        got = result if isinstance(result, tuple) else (result,)
        want = expected if isinstance(expected, tuple) else (expected,)
        assert len(got) == len(want), f"{name}: {len(got)} results, reference {len(want)}"
        for i, (g, w) in enumerate(zip(got, want)):
            w = np.asarray(w) if isinstance(w, np.generic) else w  # NumPy's 0-d results are scalars
            if w is None or g is None:
                assert g is None and w is None, f"{name} result {i}: {g!r} vs reference {w!r}"
            else:
                with np.errstate(all="ignore"):
                    assert_close(g, w, name, tol if not isinstance(w, float) else max(tol, 1e-5), f"result {i}")
    return compare


FUNCTIONS = sorted(n for n in dir(ops) if callable(getattr(ops, n)) and not n.startswith("_")
                   and n not in ("call_with_views", "prepare_update"))  # (prepared: test_prepared_update_fuzz)


def prepared(name):
    """ops.NAME's calling form run through ops.prepare_update: its constants, state lists and
    learning rate checked once, then the prepared call on params, grads and step."""
    sig = inspect.signature(getattr(ops, name))
    state_names = state_parameters(getattr(ops, name))

    def call(*args, **kwargs):
        bound = sig.bind(*args, **kwargs)
        arguments = dict(bound.arguments)
        params, grads = arguments.pop("params"), arguments.pop("grads")
        state = tuple(arguments.pop(p) for p in state_names)
        step, learning_rate = arguments.pop("step", 1), arguments.pop("learning_rate")
        ops.prepare_update(name, arguments, state, learning_rate)(params, grads, step)
    call.__signature__ = sig
    return call


def test_every_ops_function_is_fuzzed():
    assert set(FUNCTIONS) == set(UPDATES) | set(POINTWISE) | set(ROWWISE) | set(GEMM_LIKE) | {
        "activation_forward", "activation_backward", "dropout_forward", "dropout_backward", "batch_norm_forward",
        "batch_norm_backward", "layer_norm_forward", "layer_norm_backward", "normalization_forward",
        "normalization_backward", "embedding_backward"}


def fuzz_call(fn, name, data, label):
    """One hostile case of ops.NAME run through fn (ops.NAME itself or its prepared twin) under the
    fuzz property, held to the reference."""
    kw, written, mutated = data.draw(fuzz_case(name), label="case")
    before = {k: copies(v) for k, v in kw.items()}
    names = {mutated} if mutated else None
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(fn, kw, names=names, compare=reference_check(name, kw, written, before), name=label)


@pytest.mark.parametrize("name", FUNCTIONS)
@given(data=st.data())
def test_ops_fuzz(name, data):
    fuzz_call(getattr(ops, name), name, data, name)


@pytest.mark.parametrize("name", UPDATES)
@given(data=st.data())
def test_prepared_update_fuzz(name, data):
    """The prepared call of every update function under the same hostile cases as the function."""
    fuzz_call(prepared(name), name, data, f"prepare_update:{name}")
