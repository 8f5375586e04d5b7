"""Dense-layer section, float32. First the GEMM: nnfast's packed kernel (`nnfast.ops.gemm`) beside
NumPy's `@` (OpenBLAS) and `torch.mm`, all writing into a preallocated output, in GFLOP/s on squares
and on the training shapes' forward products x @ w (M x K times K x N), with nnfast's share of the
machine's fp32 FMA peak (the better of a probe before and one after each thread count's runs).
Then a Dense layer with relu and bias at the training shapes: forward, backward (dx, dw and db from
the activated output) and forward+backward, in microseconds and GFLOP/s (2MKN, 4MKN and 6MKN
flops): nnfast's fused `dense_forward` / `dense_backward`, a literal NumPy implementation
(`x @ w + b`, `maximum`; `dz = dy * (y > 0)`, `x.T @ dz`, `dz.sum(0)`, `dz @ w.T`) and torch
autograd through `F.linear` + `relu` with torch's own (out, in) weight layout, warm. One more
Dense shape has an input of 35% nonzeros, as a hidden layer after relu and dropout 0.3 gets it,
which nnfast's forward and weight gradient skip (float32 at the avx512 and avx2 levels; same bits): its
GFLOP/s count the dense product's flops."""
import numpy as np

from .limits import fma_peak_gflops
from .timing import measure, optional_import, threads

SQUARES = (64, 128, 256, 512, 1024, 2048)
# ..., (256, 256, 1): a binary classifier's output layer (the tabular Keras model's); (1, 784, 128):
# one sample's forward
TRAINING_SHAPES = ((32, 784, 128), (128, 784, 256), (1024, 784, 256), (32, 128, 10), (256, 1024, 1024),
                   (256, 256, 1), (1, 784, 128))
# label -> (M, K, N); squares get the GEMM table only, training shapes both tables
SIZES = {**{f"{s}x{s}x{s}": (s, s, s) for s in SQUARES},
         **{"x".join(map(str, shape)): shape for shape in TRAINING_SHAPES}}
TRAINING = tuple("x".join(map(str, shape)) for shape in TRAINING_SHAPES)
# label -> (M, K, N, share of nonzeros in x): Dense table only
SPARSE_INPUTS = {"256x256x256 (x 35% nonzero)": (256, 256, 256, 0.35)}
SIZES.update({label: shape[:3] for label, shape in SPARSE_INPUTS.items()})
QUICK_SIZES = ("128x128x128", "512x512x512", "32x784x128", "128x784x256", "32x128x10", *SPARSE_INPUTS)
SYSTEMS = ("nnfast", "numpy", "torch")
PASSES = {"forward": 2, "backward": 4, "fwd+bwd": 6}  # flops per M*K*N


def layer_data(m, k, n, seed=0, density=1.0):
    """(x, w, b, dy) of a Dense layer x (M, K) -> (M, N), float32, x with a share `density` of
    nonzeros."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((m, k), dtype=np.float32)
    if density < 1.0:
        x[rng.random((m, k)) >= density] = 0.0
    w = (rng.standard_normal((k, n), dtype=np.float32) / np.float32(np.sqrt(k)))
    b = rng.standard_normal(n, dtype=np.float32) * np.float32(0.1)
    dy = rng.standard_normal((m, n), dtype=np.float32)
    return x, w, b, dy


def _nnfast_missing(*names):
    from nnfast import ops
    missing = [name for name in names if not hasattr(ops, name)]
    return f"nnfast.ops.{', '.join(missing)} not in this build" if missing else None


def gemm_function(system, m, k, n, seed=0):
    """(fn, None): a zero-argument callable computing (M, K) @ (K, N) into a preallocated output
    for `system`; or (None, reason) when the system is not available."""
    a, b, _, _ = layer_data(m, k, n, seed)
    c = np.empty((m, n), np.float32)
    if system == "nnfast":
        reason = _nnfast_missing("gemm")
        if reason:
            return None, reason
        from nnfast import ops
        return (lambda: ops.gemm(a, b, False, False, c)), None
    if system == "numpy":
        return (lambda: np.matmul(a, b, out=c)), None
    torch = optional_import("torch")
    if torch is None:
        return None, "torch is not installed"
    ta, tb, tc = torch.from_numpy(a), torch.from_numpy(b), torch.from_numpy(c)
    return (lambda: torch.mm(ta, tb, out=tc)), None


def _numpy_dense(x, w, b, dy):
    def forward():
        z = x @ w
        z += b
        return np.maximum(z, 0.0, out=z)

    def backward(y):
        dz = dy * (y > 0)
        return dz @ w.T, x.T @ dz, dz.sum(axis=0)
    return forward, backward


def dense_function(system, kind, m, k, n, seed=0, density=1.0):
    """(fn, None): a zero-argument callable for one pass (`kind` in PASSES) of a relu Dense layer
    with bias, x (M, K) -> y (M, N) where x has a share `density` of nonzeros, for `system`; or
    (None, reason)."""
    if kind not in PASSES:
        raise ValueError(f"kind must be one of {tuple(PASSES)}, got {kind!r}")
    x, w, b, dy = layer_data(m, k, n, seed, density)
    if system == "nnfast":
        reason = _nnfast_missing("dense_forward", "dense_backward")
        if reason:
            return None, reason
        from nnfast import ops
        y = ops.dense_forward(x, w, b, "relu")
        fwd = lambda: ops.dense_forward(x, w, b, "relu")  # noqa: E731
        bwd = lambda y: ops.dense_backward(x, w, y, dy, "relu")  # noqa: E731
    elif system == "numpy":
        fwd, bwd = _numpy_dense(x, w, b, dy)
        y = fwd()
    else:
        torch = optional_import("torch")
        if torch is None:
            return None, "torch is not installed"
        from torch.nn import functional as F
        tx = torch.from_numpy(x).requires_grad_()
        tw = torch.from_numpy(np.ascontiguousarray(w.T)).requires_grad_()  # nn.Linear's (out, in)
        tb = torch.from_numpy(b).requires_grad_()
        tdy = torch.from_numpy(dy)
        leaves = (tx, tw, tb)
        fwd = lambda: F.relu(F.linear(tx, tw, tb))  # noqa: E731
        y = fwd()
        if kind == "backward":
            return (lambda: torch.autograd.grad(y, leaves, tdy, retain_graph=True)), None
        if kind == "forward":
            return fwd, None
        return (lambda: torch.autograd.grad(fwd(), leaves, tdy)), None
    if kind == "forward":
        return fwd, None
    if kind == "backward":
        return (lambda: bwd(y)), None
    return (lambda: bwd(fwd())), None


def _blas_threads_controlled():
    return optional_import("threadpoolctl") is not None


def gemm_setup():
    """The ISA level in use and nnfast's float32 GEMM blocking, as the report states them."""
    import nnfast
    c = nnfast.config()
    b, k = c["gemm_blocking"]["float32"], c["caches"]
    tile = f"NNFAST_GEMM_MR={c['gemm_tile_override']}" if c["gemm_tile_override"] else "chosen for this CPU"
    origin = (f"NNFAST_BLOCKING={c['blocking_override']}" if c["blocking_override"] else
              f"derived from L1d {k['l1d'] // 1024} KiB, L2 {k['l2'] // 1024} KiB, "
              f"L3 {k['l3_per_core'] // 1024} KiB per core")
    return (f"ISA level {c['isa']}; float32 GEMM tile {b['mr']} x {b['nr']} ({tile}), KC {b['kc']}, "
            f"MC {b['mc']}, NC {b['nc']} ({origin})")


def run(thread_counts=(1, 2), sizes=tuple(SIZES), systems=SYSTEMS, max_total_time=2.0):
    """Rows of measurements: one per (table, shape, pass, threads, system); skipped rows say why."""
    rows = []
    controlled = _blas_threads_controlled()
    setup = gemm_setup()
    for nt in thread_counts:
        with threads(nt):
            first = len(rows)
            peak = fma_peak_gflops(nt)
            for label in sizes:
                m, k, n = shape = SIZES[label]
                density = SPARSE_INPUTS[label][3] if label in SPARSE_INPUTS else 1.0
                jobs = [] if label in SPARSE_INPUTS else [
                    ("gemm", "x @ w", 2, lambda s, shape=shape: gemm_function(s, *shape))]
                if label in TRAINING or label in SPARSE_INPUTS:
                    jobs += [("dense", kind, f, lambda s, kind=kind, shape=shape, density=density:
                              dense_function(s, kind, *shape, density=density)) for kind, f in PASSES.items()]
                for table, kind, flops_per, make in jobs:
                    flops = flops_per * m * k * n
                    for system in systems:
                        fn, reason = make(system)
                        row = dict(table=table, kind=kind, size=label, m=m, k=k, n=n, threads=nt,
                                   system=system, flops=flops, blas_threads_controlled=controlled, setup=setup)
                        if fn is None:
                            rows.append(dict(row, skipped=True, reason=reason))
                            continue
                        t = measure(fn, max_total_time=max_total_time)
                        rows.append(dict(row, skipped=False, us=t.median * 1e6, spread=t.spread,
                                         gflops=flops / t.median / 1e9))
            # the machine is shared: the peak is the better of a probe before and one after
            peak = max(peak, fma_peak_gflops(nt))
            for r in rows[first:]:
                r["peak_gflops"] = peak
                if not r["skipped"]:
                    r["peak_share"] = r["gflops"] / peak
    return rows


def _cell(r, base, unit):
    if r is None:
        return "-"
    if r["skipped"]:
        return "skipped"
    text = f"{r['gflops']:.1f}" if unit == "gflops" else f"{r['us']:.1f} ({r['gflops']:.1f})"
    if r is not base and base is not None and not base["skipped"]:
        text += f" {r['us'] / base['us']:.2f}x"
    return text


def markdown(rows):
    """Per thread count: the ISA level and GEMM blocking nnfast used, the GEMM table (GFLOP/s,
    nnfast's % of the FMA peak measured at that level) and the Dense table
    (median us per pass, GFLOP/s in brackets); x = peer time / nnfast time (above 1: nnfast is
    faster). Skipped systems are listed with their reason below the tables."""
    out = []
    systems = [s for s in SYSTEMS if any(r["system"] == s for r in rows)]
    for nt in sorted({r["threads"] for r in rows}):
        mine = [r for r in rows if r["threads"] == nt]
        peak = mine[0]["peak_gflops"]
        out.append(f"\n**{nt} thread{'s' if nt > 1 else ''}** (fp32 FMA peak {peak:.1f} GFLOP/s at this ISA level)\n")
        if mine[0].get("setup"):
            out.append(f"nnfast: {mine[0]['setup']}.\n")
        for table, head, unit in (("gemm", ["GEMM M x K x N"], "gflops"),
                                  ("dense", ["Dense relu M x K x N", "pass"], "us")):
            keys = []
            for r in mine:
                key = (r["size"], r["kind"])
                if r["table"] == table and key not in keys:
                    keys.append(key)
            if not keys:
                continue
            what = "GFLOP/s" if unit == "gflops" else "median us (GFLOP/s)"
            out.append(f"{'GEMM' if table == 'gemm' else 'Dense layer'}: {what}; x = time / nnfast time\n")
            cols = head + systems + ["nnfast % of FMA peak"]
            out.append("| " + " | ".join(cols) + " |")
            out.append("|" + "---|" * len(cols))
            for size, kind in keys:
                cells = {r["system"]: r for r in mine
                         if r["table"] == table and r["size"] == size and r["kind"] == kind}
                base = cells.get("nnfast")
                line = [size] if table == "gemm" else [size, kind]
                line += [_cell(cells.get(s), base, unit) for s in systems]
                line.append(f"{100 * base['peak_share']:.0f}%" if base and not base["skipped"] else "-")
                out.append("| " + " | ".join(line) + " |")
            out.append("")
    if any(r["size"] in SPARSE_INPUTS for r in rows):
        out.append("The rows whose x has 35% nonzeros count the dense product's flops: nnfast skips the zero "
                   "terms (same bits), so its share of the FMA peak there can exceed 100%.")
    reasons = sorted({f"{r['system']}: {r['reason']}" for r in rows if r["skipped"]})
    if reasons:
        out.append("Skipped: " + "; ".join(reasons) + ".")
    if rows and not rows[0]["blas_threads_controlled"]:
        out.append("Note: threadpoolctl is not installed, so NumPy's BLAS thread count was not set: its "
                   "1-thread rows may use every core.")
    return "\n".join(out)
