"""Optimizer-step section: nnfast's fused multi-tensor kernels beside the NumPy reference and, when
installed, torch.optim (fused and foreach where torch offers them: torch 2.13 has fused SGD, Adagrad,
Adam and AdamW, foreach for Adamax, NAdam, RAdam, Adadelta and RMSprop, and no Lion and no Ftrl),
on the same data and hyperparameters, per size and thread count; with GB/s and the share of an
in-place memory stream of the same bytes (the systems and the stream timed in turns, and for SGD and
momentum the optimizer's kernel alone as well). Adamax, NAdam, RAdam and Adadelta run in the torch
convention with torch's defaults, Lion and Ftrl in the Keras one. Then one training epoch (MLP
784-128(relu)-10(softmax), Adam, batch 32, the training section's synthetic Fashion-MNIST-shaped
data) with an ExponentialDecay(1e-3, 1000, 0.96) learning-rate schedule beside the same epoch at a
constant 1e-3: the schedule is evaluated in C++ inside the native multi-step runs. The NumPy
reference runs as plain IEEE NumPy (its flush-to-zero emulation off), as a NumPy user computes."""
import numpy as np

from nnfast.utils import subnormals

from .limits import inplace_stream_function
from .timing import case, measure, measure_together, threads

# name -> (bytes moved per fp32 parameter, arrays updated in place)
OPTIMIZERS = {
    "sgd": (12, 1),
    "momentum": (20, 2),
    "adagrad": (20, 2),
    "rmsprop": (20, 2),
    "adam": (28, 3),
    "adamax": (28, 3),
    "nadam": (28, 3),
    "radam": (28, 3),
    "adadelta": (28, 3),
    "lion": (20, 2),
    "ftrl": (28, 3),
}
SIZES = {
    "1e3": [10**3], "1e4": [10**4], "1e5": [10**5], "1e6": [10**6], "1e7": [10**7],
    "100x1e4": [10**4] * 100,
}
# The training-epoch rows: samples per epoch (the quick one is scaled to 60000 in the table)
EPOCHS = {"epoch": 60000, "quick epoch": 6000}
QUICK_SIZES = ("1e3", "1e5", "100x1e4", "quick epoch")


def nnfast_optimizer(name, backend):
    """The nnfast optimizer the section runs for `name`, on the native kernels or (backend
    "reference") on nnfast.reference."""
    from nnfast import optimizers, reference
    opt = {
        "sgd": lambda: optimizers.SGD(learning_rate=0.01),
        "momentum": lambda: optimizers.SGD(learning_rate=0.01, momentum=0.9),
        "adagrad": lambda: optimizers.Adagrad(learning_rate=0.01),
        "rmsprop": lambda: optimizers.RMSprop(learning_rate=0.001),
        "adam": lambda: optimizers.Adam(learning_rate=0.001),
        "adamax": lambda: optimizers.Adamax(convention="torch"),
        "nadam": lambda: optimizers.Nadam(convention="torch"),
        "radam": lambda: optimizers.RAdam(convention="torch"),
        "adadelta": lambda: optimizers.Adadelta(convention="torch"),
        "lion": lambda: optimizers.Lion(learning_rate=1e-4),
        "ftrl": lambda: optimizers.Ftrl(learning_rate=0.01),
    }[name]()
    if backend == "reference":
        opt.ops = reference
    return opt


def _torch_optimizer(name, params, mode):
    import torch
    kw = {mode: True}
    make = {
        "sgd": lambda: torch.optim.SGD(params, lr=0.01, **kw),
        "momentum": lambda: torch.optim.SGD(params, lr=0.01, momentum=0.9, **kw),
        "adagrad": lambda: torch.optim.Adagrad(params, lr=0.01, **kw),
        "rmsprop": lambda: torch.optim.RMSprop(params, lr=0.001, **kw),
        "adam": lambda: torch.optim.Adam(params, lr=0.001, eps=1e-7, **kw),
        "adamax": lambda: torch.optim.Adamax(params, **kw),
        "nadam": lambda: torch.optim.NAdam(params, **kw),
        "radam": lambda: torch.optim.RAdam(params, **kw),
        "adadelta": lambda: torch.optim.Adadelta(params, **kw),
    }.get(name)
    return None if make is None else make()  # torch.optim has no Lion and no Ftrl


def step_data(sizes, seed=0):
    """(params, grads): float32 arrays of the given sizes, the data every system steps on."""
    rng = np.random.default_rng(seed)
    params = [rng.standard_normal(n).astype(np.float32) for n in sizes]
    grads = [(1e-2 * rng.standard_normal(n)).astype(np.float32) for n in sizes]
    return params, grads


def step_function(system, name, sizes, seed=0):
    """A zero-argument callable doing one optimizer step for `system`, or None when the system is
    not installed or does not offer that mode (then it is reported as skipped)."""
    params, grads = step_data(sizes, seed)
    if system in ("nnfast", "numpy-reference"):
        opt = nnfast_optimizer(name, "native" if system == "nnfast" else "reference")
        if system == "numpy-reference":  # plain IEEE NumPy, as a NumPy user runs it: no flushing
            return subnormals.plain(lambda: opt.apply(params, grads))
        return lambda: opt.apply(params, grads)
    try:
        import torch
    except ImportError:
        return None
    tensors = [torch.from_numpy(p).requires_grad_() for p in params]
    for t, g in zip(tensors, grads):
        t.grad = torch.from_numpy(g)
    mode = system.split("-", 1)[1]  # torch-fused / torch-foreach
    try:
        opt = _torch_optimizer(name, tensors, mode)
        if opt is None:
            return None
        opt.step()
    except (RuntimeError, TypeError, ValueError):
        return None

    def step():
        with torch.no_grad():
            opt.step()
    return step


def kernel_function(name, params, grads):
    """A zero-argument callable running nnfast's update kernel itself on (params, grads), after one
    step of the optimizer object has built the state: the prepared native call the object makes
    from its second step on (nnfast.ops.prepare_update), with the object's constant arguments. It is
    one Python call into native code, as the stream probe it is compared with is. What the object
    costs beyond its kernel is the difference between their times."""
    from nnfast import ops
    opt = nnfast_optimizer(name, "native")
    opt.apply(params, grads)  # builds the state
    native = opt.native_update()
    call = ops.prepare_update(native.kernel, native.hyperparameters, native.state, native.learning_rate)
    return lambda: call(params, grads, 2)


SYSTEMS = ("nnfast", "numpy-reference", "torch-fused", "torch-foreach")


EPOCH_SYSTEMS = ("nnfast", "nnfast-constant-lr")  # with the schedule, and at a constant rate


def epoch_function(system, samples, batch_size=32):
    """A zero-argument callable training one epoch of the MLP on `samples` samples, with the
    ExponentialDecay schedule ("nnfast") or at a constant learning rate ("nnfast-constant-lr"), the
    model warmed up (optimizer state built) by one epoch on 1000 samples."""
    from nnfast import layers, models, optimizers

    from .training import epoch_data
    x, y = epoch_data(samples)
    lr = (optimizers.schedules.ExponentialDecay(1e-3, 1000, 0.96) if system == "nnfast" else 1e-3)
    m = models.Sequential([layers.Dense(128, activation="relu", input_dim=784), layers.Dense(10, activation="softmax")],
                          seed=0)
    m.compile(optimizer=optimizers.Adam(learning_rate=lr), loss="sparse_categorical_crossentropy")
    m.fit(x[:1000], y[:1000], batch_size=batch_size, epochs=1, verbose=0)
    return lambda: m.fit(x, y, batch_size=batch_size, epochs=1, verbose=0)


def _epoch_rows(nt, size_label, max_total_time):
    samples = EPOCHS[size_label]
    rows = []
    for system in EPOCH_SYSTEMS:
        case(f"{size_label}, {system}")
        t = measure(epoch_function(system, samples), repeats=5, max_total_time=max_total_time)
        rows.append(dict(part="epoch", optimizer="adam", size=size_label, params=samples, threads=nt,
                         system=system, skipped=False, us=t.median * 1e6, spread=t.spread,
                         seconds=t.median * EPOCHS["epoch"] / samples))
    return rows


def run(thread_counts=(1, 2), sizes=tuple(SIZES) + ("epoch",), names=tuple(OPTIMIZERS), systems=SYSTEMS,
        max_total_time=2.0):
    """Rows of measurements: one per (optimizer, size, threads, system), and per (epoch size,
    threads, schedule or constant) for the epoch sizes (EPOCHS)."""
    rows = []
    for nt in thread_counts:
        with threads(nt):
            for size_label in sizes:
                if size_label in EPOCHS:
                    rows += _epoch_rows(nt, size_label, max_total_time)
                    continue
                for name in names:
                    case(f"{name} {size_label}")
                    rows += _step_rows(name, size_label, nt, systems, max_total_time)
    return rows


def _step_rows(name, size_label, nt, systems, max_total_time):
    """One row per system for one optimizer step at one size: the systems and the in-place stream of
    the same bytes are timed in turns (measure_together), so that their ratios compare the same
    spells of the shared host; at 1e7 (DRAM) a neighbour's traffic moves every time by 20% or more."""
    total = sum(SIZES[size_label])
    nbytes, updated = OPTIMIZERS[name]
    fns = {system: step_function(system, name, SIZES[size_label]) for system in systems}
    timed = {system: fn for system, fn in fns.items() if fn is not None}
    probes = dict(stream=inplace_stream_function(total, updated))
    if name in STREAM_TARGETS and "nnfast" in timed:
        probes["kernel"] = kernel_function(name, *step_data(SIZES[size_label]))
    timings = measure_together(dict(timed, **probes), max_total_time=max_total_time)
    stream = timings["stream"].median
    rows = []
    for system in systems:
        row = dict(optimizer=name, size=size_label, params=total, threads=nt, system=system, bytes_per_param=nbytes)
        if system not in timed:
            rows.append(dict(row, skipped=True))
            continue
        t = timings[system]
        rows.append(dict(row, skipped=False, us=t.median * 1e6, spread=t.spread, gbps=nbytes * total / t.median / 1e9,
                         stream_share=stream / t.median))
        if system == "nnfast" and "kernel" in timings:
            kernel = timings["kernel"].median
            rows[-1].update(kernel_us=kernel * 1e6, kernel_stream_share=stream / kernel)
    return rows


def markdown(rows):
    """One table per thread count: microseconds per step (GB/s) per system, nnfast's share of an
    in-place stream of the same bytes, and each peer's time relative to nnfast."""
    out = []
    epochs = [r for r in rows if r.get("part") == "epoch"]
    rows = [r for r in rows if r.get("part") != "epoch"]
    systems = [s for s in SYSTEMS if any(r["system"] == s for r in rows)]
    for nt in sorted({r["threads"] for r in rows}):
        out.append(f"\n**{nt} thread{'s' if nt > 1 else ''}** (median us per step, GB/s in brackets; "
                   "x = time / nnfast time)\n")
        head = ["optimizer", "params"] + systems + ["nnfast % of stream"]
        out.append("| " + " | ".join(head) + " |")
        out.append("|" + "---|" * len(head))
        keys = [(r["optimizer"], r["size"]) for r in rows if r["threads"] == nt and r["system"] == "nnfast"]
        for name, size in keys:
            cells = {r["system"]: r for r in rows
                     if r["threads"] == nt and r["optimizer"] == name and r["size"] == size}
            base = cells["nnfast"]
            line = [name, size]
            for s in systems:
                r = cells.get(s)
                if r is None or r["skipped"]:
                    line.append("skipped")
                elif s == "nnfast":
                    line.append(f"{r['us']:.1f} ({r['gbps']:.0f})")
                else:
                    line.append(f"{r['us']:.1f} ({r['gbps']:.0f}) {r['us'] / base['us']:.2f}x")
            line.append(f"{100 * base['stream_share']:.0f}%")
            out.append("| " + " | ".join(line) + " |")
    out += _stream_summary(rows)
    if epochs:
        out.append(_epoch_markdown(epochs))
    return "\n".join(out)


STREAM_TARGETS = ("sgd", "momentum")  # issue #15: >= 90% of the stream from 1e5 up, faster than torch fused


def _stream_summary(rows):
    """SGD and momentum from 1e5 up: nnfast's share of the in-place stream of the same bytes, and
    torch fused's time / nnfast's (above 1: nnfast is faster)."""
    sizes = [s for s in ("1e5", "1e6", "1e7", "100x1e4") if any(r["size"] == s for r in rows)]
    cells = {(r["optimizer"], r["size"], r["threads"], r["system"]): r for r in rows if not r["skipped"]}
    keys = [(nt, name) for nt in sorted({r["threads"] for r in rows}) for name in STREAM_TARGETS
            if any((name, s, nt, "nnfast") in cells for s in sizes)]
    if not keys:
        return []
    out = ["\n**SGD and momentum against the memory stream** (nnfast's share of an in-place stream of the "
           "same bytes, the stream and every system timed in turns: the optimizer object's `apply`, then its "
           "kernel alone, the prepared native call it makes (nnfast.ops.prepare_update), called from Python as "
           "the stream probe is; in brackets torch fused's time / the object's, above 1: nnfast is faster)\n",
           "| threads | optimizer | " + " | ".join(sizes) + " |", "|" + "---|" * (len(sizes) + 2)]
    for nt, name in keys:
        line = []
        for size in sizes:
            base, torch = cells.get((name, size, nt, "nnfast")), cells.get((name, size, nt, "torch-fused"))
            text = f"{100 * base['stream_share']:.0f}%" if base else "-"
            if base and "kernel_stream_share" in base:
                text += f", kernel {100 * base['kernel_stream_share']:.0f}%"
            line.append(text + (f" ({torch['us'] / base['us']:.2f}x)" if base and torch else ""))
        out.append(f"| {nt} | {name} | " + " | ".join(line) + " |")
    return out


def _epoch_markdown(rows):
    """The epoch table: seconds per 60000-sample epoch with the schedule and at a constant rate."""
    out = ["\n**One training epoch, MLP 784-128-10, Adam, batch 32** (median seconds per 60000 samples; "
           "quick epochs are scaled; schedule / constant: the schedule's cost)\n",
           "| epoch | threads | ExponentialDecay schedule | constant learning rate | schedule / constant |",
           "|---|---|---|---|---|"]
    cells = {(r["size"], r["threads"], r["system"]): r for r in rows}
    for size, nt in dict.fromkeys((r["size"], r["threads"]) for r in rows):
        sched, const = cells[(size, nt, "nnfast")], cells[(size, nt, "nnfast-constant-lr")]
        out.append(f"| {size} ({sched['params']} samples) | {nt} | {sched['seconds']:.3f} s | "
                   f"{const['seconds']:.3f} s | {sched['us'] / const['us']:.3f} |")
    return "\n".join(out)
