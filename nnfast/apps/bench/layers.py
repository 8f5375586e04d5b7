"""Layer-kernel section, float32: the element-wise layers around a Dense layer in a real model -
BatchNormalization in training (batch statistics, moving statistics updated) and Dropout (rate 0.3) -
forward and backward, at the tabular Keras model's shape (batch 256 x 256 features, issue #12) and
beside it a small and a large one. nnfast's `nnfast.ops` kernels (`batch_norm_forward` /
`batch_norm_backward`, `dropout_forward` / `dropout_backward`, writing into preallocated outputs),
a literal NumPy implementation (Keras's formulas: mean, biased variance, `(x - mean) * inv_std *
gamma + beta`; `uniform >= rate` from NumPy's generator) and torch (`F.batch_norm` in training,
`F.dropout`, backward by autograd), warm. Median microseconds, x = peer time / nnfast time, and
nnfast's effective bandwidth (the bytes a pass must read and write, over its time) as a share of the
in-place stream measured at that size and thread count."""
import numpy as np

from .limits import inplace_stream_seconds
from .timing import measure, optional_import, threads

__all__ = ["run", "markdown", "layer_function", "batch_data", "pass_bytes", "SIZES", "QUICK_SIZES", "SYSTEMS",
           "KINDS"]

# label -> (rows, features)
SIZES = {"32x128": (32, 128), "256x256": (256, 256), "1024x1024": (1024, 1024)}
QUICK_SIZES = ("32x128", "256x256")
SYSTEMS = ("nnfast", "numpy", "torch")
RATE = 0.3
MOMENTUM, EPSILON = 0.99, 1e-3  # Keras's BatchNormalization defaults
# kind -> (float32 arrays of the batch's shape read + written, bytes per element of uint8 masks)
KINDS = {
    "batch_norm forward": (3, 0),   # x twice (statistics, then the pass), y
    "batch_norm backward": (5, 0),  # x and dy for the sums, x, dy and dx for the pass
    "dropout forward": (2, 1),      # x, y, mask
    "dropout backward": (2, 1),     # dy, dx, mask
}


def batch_data(rows, cols, seed=0):
    """x, dy (rows, cols) and gamma, beta (cols), float32: the inputs every system gets."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((rows, cols), dtype=np.float32) * np.float32(2.0) + np.float32(0.5)
    dy = rng.standard_normal((rows, cols), dtype=np.float32)
    gamma = (1.0 + 0.1 * rng.standard_normal(cols)).astype(np.float32)
    beta = (0.1 * rng.standard_normal(cols)).astype(np.float32)
    return x, dy, gamma, beta


def _nnfast(kind, x, dy, gamma, beta):
    from nnfast import ops
    y, dx = np.empty_like(x), np.empty_like(x)
    cols = x.shape[1]
    moving_mean, moving_var = np.zeros(cols, np.float32), np.ones(cols, np.float32)
    mean, inv_std = np.empty(cols, np.float32), np.empty(cols, np.float32)
    dgamma, dbeta = np.empty(cols, np.float32), np.empty(cols, np.float32)
    mask = np.empty(x.shape, np.uint8)
    if kind == "batch_norm forward":
        return lambda: ops.batch_norm_forward(x, gamma, beta, moving_mean, moving_var, True, momentum=MOMENTUM,
                                              epsilon=EPSILON, out=y, mean_out=mean, inv_std_out=inv_std)
    if kind == "batch_norm backward":
        _, mean, inv_std = ops.batch_norm_forward(x, gamma, beta, moving_mean, moving_var, True,
                                                  momentum=MOMENTUM, epsilon=EPSILON)
        return lambda: ops.batch_norm_backward(x, gamma, mean, inv_std, dy, True, dx_out=dx, dgamma_out=dgamma,
                                               dbeta_out=dbeta)
    if kind == "dropout forward":
        return lambda: ops.dropout_forward(x, RATE, 7, out=y, mask_out=mask)
    _, mask = ops.dropout_forward(x, RATE, 7)
    return lambda: ops.dropout_backward(dy, mask, RATE, out=dx)


def _numpy(kind, x, dy, gamma, beta):
    cols = x.shape[1]
    moving_mean, moving_var = np.zeros(cols, np.float32), np.ones(cols, np.float32)
    rng = np.random.default_rng(7)
    scale = np.float32(1.0 / (1.0 - RATE))

    def bn_forward():
        mean = x.mean(axis=0)
        var = ((x - mean) ** 2).mean(axis=0)
        inv_std = np.float32(1.0) / np.sqrt(var + np.float32(EPSILON))
        moving_mean[:] = moving_mean * np.float32(MOMENTUM) + mean * np.float32(1 - MOMENTUM)
        moving_var[:] = moving_var * np.float32(MOMENTUM) + var * np.float32(1 - MOMENTUM)
        return (x - mean) * (inv_std * gamma) + beta, mean, inv_std

    def bn_backward(mean, inv_std):
        xhat = (x - mean) * inv_std
        dbeta, dgamma = dy.sum(axis=0), (dy * xhat).sum(axis=0)
        n = np.float32(x.shape[0])
        return gamma * inv_std * (dy - dbeta / n - xhat * (dgamma / n)), dgamma, dbeta

    def dropout_forward():
        keep = rng.random(x.shape, dtype=np.float32) >= np.float32(RATE)
        return np.where(keep, x * scale, np.float32(0)), keep

    if kind == "batch_norm forward":
        return bn_forward
    if kind == "batch_norm backward":
        _, mean, inv_std = bn_forward()
        return lambda: bn_backward(mean, inv_std)
    if kind == "dropout forward":
        return dropout_forward
    _, keep = dropout_forward()
    return lambda: np.where(keep, dy * scale, np.float32(0))


def _torch(kind, x, dy, gamma, beta):
    torch = optional_import("torch")
    if torch is None:
        return None
    from torch.nn import functional as F
    cols = x.shape[1]
    tx = torch.from_numpy(x).requires_grad_(kind.endswith("backward"))
    tdy = torch.from_numpy(dy)
    tg = torch.from_numpy(gamma).requires_grad_(kind == "batch_norm backward")
    tb = torch.from_numpy(beta).requires_grad_(kind == "batch_norm backward")
    rm, rv = torch.zeros(cols), torch.ones(cols)
    if kind.startswith("batch_norm"):
        # torch's momentum is the weight of the new statistic: Keras's 1 - momentum
        def fwd():
            return F.batch_norm(tx, rm, rv, tg, tb, training=True, momentum=1 - MOMENTUM, eps=EPSILON)
        if kind.endswith("forward"):
            return lambda: fwd().detach()
        y = fwd()
        return lambda: torch.autograd.grad(y, (tx, tg, tb), tdy, retain_graph=True)

    def fwd():
        return F.dropout(tx, RATE, training=True)
    if kind.endswith("forward"):
        return fwd
    y = fwd()
    return lambda: torch.autograd.grad(y, (tx,), tdy, retain_graph=True)


def layer_function(system, kind, rows, cols, seed=0):
    """(fn, None): a zero-argument callable for one `kind` pass (KINDS) of `system` on a
    (rows, cols) float32 batch; or (None, reason) when the system is not available."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {tuple(KINDS)}, got {kind!r}")
    x, dy, gamma, beta = batch_data(rows, cols, seed)
    if system == "nnfast":
        return _nnfast(kind, x, dy, gamma, beta), None
    if system == "numpy":
        return _numpy(kind, x, dy, gamma, beta), None
    fn = _torch(kind, x, dy, gamma, beta)
    return (fn, None) if fn is not None else (None, "torch is not installed")


def pass_bytes(kind, rows, cols):
    """The bytes one pass must read and write (KINDS), the numerator of the bandwidth share."""
    arrays, mask_bytes = KINDS[kind]
    return rows * cols * (4 * arrays + mask_bytes)


def run(thread_counts=(1, 2), sizes=tuple(SIZES), systems=SYSTEMS, max_total_time=1.0):
    """Rows of measurements: one per (size, kind, threads, system); skipped rows say why."""
    rows = []
    for nt in thread_counts:
        with threads(nt):
            for label in sizes:
                m, n = SIZES[label]
                # the stream's bandwidth at this size: reading one array and updating one in place
                # moves 3 arrays' bytes
                stream = 3 * 4 * m * n / inplace_stream_seconds(m * n, 1)
                for kind in KINDS:
                    for system in systems:
                        fn, reason = layer_function(system, kind, m, n)
                        row = dict(kind=kind, size=label, threads=nt, system=system)
                        if fn is None:
                            rows.append(dict(row, skipped=True, reason=reason))
                            continue
                        t = measure(fn, max_total_time=max_total_time)
                        rows.append(dict(row, skipped=False, us=t.median * 1e6, spread=t.spread,
                                         bandwidth=pass_bytes(kind, m, n) / t.median, stream=stream))
    return rows


def markdown(rows):
    """Per thread count, one table: median us per pass, x = peer time / nnfast time (above 1: nnfast
    is faster), and nnfast's effective bandwidth as a share of the in-place stream."""
    out = []
    systems = [s for s in SYSTEMS if any(r["system"] == s for r in rows)]
    for nt in sorted({r["threads"] for r in rows}):
        mine = [r for r in rows if r["threads"] == nt]
        out.append(f"\n**{nt} thread{'s' if nt > 1 else ''}**: median us per pass; x = time / nnfast time\n")
        cols = ["rows x features", "pass"] + systems + ["nnfast GB/s (% of stream)"]
        out.append("| " + " | ".join(cols) + " |")
        out.append("|" + "---|" * len(cols))
        keys = []
        for r in mine:
            if (r["size"], r["kind"]) not in keys:
                keys.append((r["size"], r["kind"]))
        for size, kind in keys:
            cells = {r["system"]: r for r in mine if r["size"] == size and r["kind"] == kind}
            base = cells.get("nnfast")
            line = [size, kind]
            for s in systems:
                r = cells.get(s)
                if r is None or r["skipped"]:
                    line.append("-" if r is None else "skipped")
                    continue
                text = f"{r['us']:.1f}"
                if r is not base and base is not None and not base["skipped"]:
                    text += f" {r['us'] / base['us']:.2f}x"
                line.append(text)
            if base is not None and not base["skipped"]:
                line.append(f"{base['bandwidth'] / 1e9:.1f} ({100 * base['bandwidth'] / base['stream']:.0f}%)")
            else:
                line.append("-")
            out.append("| " + " | ".join(line) + " |")
        out.append("")
    reasons = sorted({f"{r['system']}: {r['reason']}" for r in rows if r["skipped"]})
    if reasons:
        out.append("Skipped: " + "; ".join(reasons) + ".")
    return "\n".join(out)
