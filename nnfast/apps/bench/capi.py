"""C API section (docs/capi.md): what a call costs through nnfast's C API (the capsule nnfast._core._C_API)
against nnfast.ops. (1) Per call, float32, 1 thread: a dense forward 32 x 128 x 10 (bias, linear)
and an Adam step (Keras convention) on one tensor of 1000 parameters, called in a nogil Cython loop
through the C API (examples/cython_mlp's call_cost_* helpers) and from Python through nnfast.ops
(with `out=` for the dense layer, so neither allocates); and from C++ (`nnfast._core.capi_call_cost`):
straight through the kernel table (the kernels' floating-point mode set once around the loop), the
same with the mode set and restored around each call, and through the C API table. Target: the
C API adds <= 50 ns per call over the kernel table. (2) One epoch of the example's MLP (784-128 relu
-10 linear, softmax cross-entropy from logits, Adam lr 1e-3 eps 1e-7, batch 32, samples in order)
in its nogil Cython loop against the same model's `Sequential.fit(epochs=1, shuffle=False)`, which
runs whole epochs in one native call (after an untimed warm-up epoch each). Target: the Cython
epoch no slower than fit. The Cython parts need Cython, a C compiler and a source checkout's
examples/cython_mlp (built into a temporary folder); without them they are skipped."""
import functools
import importlib.util
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

import nnfast
from nnfast import _core, ops

from .timing import Timing, measure, section_config, settle, threads
from .training import FULL_SAMPLES, epoch_data

__all__ = ["run", "ratios", "markdown", "build_example", "EXAMPLE", "PARTS", "SIZES", "QUICK_SIZES"]

EXAMPLE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(nnfast.__file__))), "examples", "cython_mlp")
PARTS = ("per_call", "epoch")
TARGET_NS = 50.0
# iters: calls per timed loop of the per-call parts; rounds: loops (medians): many short rounds, the ways
# alternated, so the median of their differences holds to a few ns on a shared machine where a few
# long ones swing by tens; epoch_samples: samples per epoch; repeats: timed epochs per system
SIZES = {"iters": 2000, "rounds": 201, "epoch_samples": FULL_SAMPLES, "repeats": 3}
QUICK_SIZES = {"iters": 2000, "rounds": 3, "epoch_samples": 3200, "repeats": 3}
DIMS = (784, 128, 10)
BATCH_SIZE = 32


def build_example(dest, source=EXAMPLE):
    """examples/cython_mlp copied into dest and built in place with its own setup.py (this
    environment's setuptools and Cython, no network); returns the folder to put on sys.path."""
    project = os.path.join(dest, "cython_mlp")
    shutil.copytree(source, project)
    result = subprocess.run([sys.executable, "setup.py", "-q", "build_ext", "--inplace"], cwd=project,
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"building {source} failed:\n{result.stdout}\n{result.stderr}")
    return project


@functools.lru_cache(maxsize=1)
def _example():
    """(the built cython_mlp package, None) or (None, why it is skipped)."""
    if importlib.util.find_spec("Cython") is None:
        return None, "Cython is not installed"
    if not os.path.isdir(EXAMPLE):
        return None, "needs a source checkout (examples/cython_mlp)"
    folder = build_example(tempfile.mkdtemp(prefix="nnfast-capi-bench-"))
    sys.path.insert(0, folder)
    import cython_mlp
    return cython_mlp, None


def _row(case, system, seconds=None, reason=None, threads=1, **extra):
    skipped = seconds is None
    return dict(case=case, system=system, threads=threads, us=None if skipped else seconds.median * 1e6,
                spread=None if skipped else seconds.spread, skipped=skipped, reason=reason, **extra)


def quarter_page_apart(count, n):
    """`count` zeroed float32 arrays of n elements, 64-byte aligned and a quarter page apart in the low
    12 address bits. Adam reads and writes four arrays; where their starts happen to lie a few cache
    lines apart in those bits, its loads wait on its stores to another array (4K aliasing) and a step
    takes up to twice as long: a property of where NumPy put them, not of the call being measured.
    The C++ probe (nnfast._core.capi_call_cost) places its arrays the same way."""
    stride = (4096 + 1024) // 4
    slab = np.zeros(count * stride + 16, np.float32)
    start = (-slab.ctypes.data % 64) // 4
    return [slab[start + k * stride: start + k * stride + n] for k in range(count)]


def _per_call_rows(iters, rounds):
    rng = np.random.default_rng(0)
    x, w, b = (rng.standard_normal(s).astype(np.float32) for s in ((32, 128), (128, 10), (10,)))
    y = np.empty((32, 10), np.float32)
    p, g, m, v = quarter_page_apart(4, 1000)
    p[:] = rng.standard_normal(1000)
    g[:] = rng.standard_normal(1000) * 1e-3
    step = [0]

    def adam():
        step[0] += 1
        ops.adam_update([p], [g], [m], [v], None, step=step[0], learning_rate=1e-3, beta_1=0.9, beta_2=0.999,
                        epsilon=1e-7)

    module, reason = _example()
    cases = {"dense_forward 32x128x10": ("dense_forward", lambda: ops.dense_forward(x, w, b, "linear", out=y),
                                         lambda n: module.mlp.call_cost_dense_forward(y, x, w, b, n)),
             "adam_update 1e3 params": ("adam", adam, lambda n: module.mlp.call_cost_adam(p, g, m, v, n))}
    rows = []
    for case, (which, python_call, cython_ns) in cases.items():
        settle()
        cpp = _core.capi_call_cost(which, iters, rounds)
        for system, values in zip(("kernel table from C++", "kernel table + FP mode from C++", "C API from C++"), cpp):
            rows.append(_row(case, system, Timing.of([v * 1e-9 for v in values])))
        # the rounds ran the three ways back to back: their differences met the same load
        rows[-1]["added_ns"] = statistics.median(c - d for d, c in zip(cpp[0], cpp[2]))
        rows[-1]["mode_ns"] = statistics.median(m - d for d, m in zip(cpp[0], cpp[1]))
        if module is None:
            rows.append(_row(case, "C API from Cython", reason=reason))
        else:
            settle()
            cython_ns(iters)  # warm-up
            rows.append(_row(case, "C API from Cython", Timing.of([cython_ns(iters) * 1e-9 for _ in range(rounds)])))
        rows.append(_row(case, "nnfast.ops from Python", measure(python_call, repeats=min(rounds, 9))))
    return rows


def _epoch_rows(samples, repeats):
    from nnfast.layers import Dense
    from nnfast.losses import SparseCategoricalCrossentropy
    from nnfast.models import Sequential
    from nnfast.optimizers import Adam
    x, y = epoch_data(samples)
    y = y.astype(np.int64)
    case = f"epoch {DIMS[0]}-{DIMS[1]}-{DIMS[2]}, batch {BATCH_SIZE}, {samples} samples"
    model = Sequential([Dense(DIMS[1], activation="relu", input_dim=DIMS[0]), Dense(DIMS[2])], seed=0)
    model.compile(optimizer=Adam(learning_rate=1e-3, epsilon=1e-7),
                  loss=SparseCategoricalCrossentropy(from_logits=True))
    weights = [np.ascontiguousarray(a, np.float32) for a in model.get_weights()]
    module, reason = _example()
    runs = {"Sequential.fit": lambda: model.fit(x, y, batch_size=BATCH_SIZE, epochs=1, shuffle=False, verbose=0)}
    if module is not None:
        mlp = module.MLP(*weights, learning_rate=1e-3, epsilon=1e-7)
        runs["Cython example (C API)"] = lambda: mlp.fit_epoch(x, y, BATCH_SIZE)
    seconds = {name: [] for name in runs}
    for fn in runs.values():
        fn()  # warm-up: fit's first step builds the optimizer state in Python
    for _ in range(repeats):  # alternated, so both meet the same phases of a shared machine
        for name, fn in runs.items():
            settle()
            start = time.perf_counter()
            fn()
            seconds[name].append(time.perf_counter() - start)
    rows = [_row(case, name, Timing.of(s)) for name, s in seconds.items()]
    if module is None:
        rows.append(_row(case, "Cython example (C API)", reason=reason))
    return rows


def run(thread_counts=(1,), sizes=None, parts=PARTS, max_total_time=None, repeats=None):
    """Rows of the section, on 1 thread (small calls stay on one thread anyway)."""
    cfg = section_config(SIZES, sizes, parts, PARTS, "part")
    if repeats is not None:
        cfg["repeats"] = cfg["rounds"] = max(3, repeats)
    del thread_counts, max_total_time  # one thread; the sizes set the time
    rows = []
    with threads(1):
        if "per_call" in parts:
            rows += _per_call_rows(cfg["iters"], cfg["rounds"])
        if "epoch" in parts:
            rows += _epoch_rows(cfg["epoch_samples"], cfg["repeats"])
    return rows


def ratios(rows):
    """[(case, threads, system, its time / the C API's)] where the C API's row of the case is the
    Cython one (per call) or the Cython epoch."""
    base = {r["case"]: r for r in rows if r["system"] in ("C API from Cython", "Cython example (C API)")
            and not r["skipped"]}
    return [(r["case"], r["threads"], r["system"], r["us"] / base[r["case"]]["us"]) for r in rows
            if r["case"] in base and r is not base[r["case"]] and not r["skipped"]]


def _time(us):
    return f"{us * 1e3:.0f} ns" if us < 1 else f"{us:.2f} us" if us < 1000 else f"{us / 1e6:.3f} s"


def markdown(rows):
    lines = ["| case | system | time per call | spread |", "|---|---|---|---|"]
    for r in rows:
        cell = f"skipped: {r['reason']}" if r["skipped"] else _time(r["us"])
        spread = "" if r["skipped"] else f"+-{r['spread'] * 100:.0f}%"
        lines.append(f"| {r['case']} | {r['system']} | {cell} | {spread} |")
    by = {(r["case"], r["system"]): r for r in rows if not r["skipped"]}
    notes = []
    for case in dict.fromkeys(r["case"] for r in rows):
        capi = by.get((case, "C API from C++"))
        if capi:
            added = capi["added_ns"]
            verdict = "met" if added <= TARGET_NS else "missed"
            notes.append(f"- {case}: the C API adds {added:.0f} ns per call over the kernel table (median of the "
                         f"rounds' differences; {capi['mode_ns']:.0f} ns of it is setting and restoring the "
                         f"floating-point mode) (target <= {TARGET_NS:.0f} ns: {verdict})")
        fit, cython = by.get((case, "Sequential.fit")), by.get((case, "Cython example (C API)"))
        if fit and cython:
            notes.append(f"- {case}: the Cython epoch takes {cython['us'] / fit['us']:.2f}x fit's time "
                         f"(target <= 1: {'met' if cython['us'] <= fit['us'] else 'missed'})")
    return "\n".join(lines + [""] + notes)
