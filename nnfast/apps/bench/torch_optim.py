"""torch.optim section: nnfast.compat.torch (torch.optim's optimizers on nnfast's fused kernels)
beside torch.optim's fused and foreach implementations, on the same tensors and hyperparameters.
"step": one optimizer.step(), Python included, with gradients already in place, for a 784-128-10
MLP's 4 tensors (101,770 parameters), 100 tensors of 1e4 and one of 1e6. "epoch": one epoch of a
PyTorch training loop of that MLP (zero_grad, forward, cross-entropy, backward, step; batch 64) on
synthetic data, with each optimizer. x = time / nnfast.compat.torch time."""
import numpy as np

from .timing import measure, optional_import, threads

MLP_SHAPES = [(128, 784), (128,), (10, 128), (10,)]
SIZES = {"mlp": MLP_SHAPES, "100x1e4": [(10**4,)] * 100, "1e6": [(10**6,)]}
QUICK_SIZES = ("mlp", "100x1e4")
OPTIMIZERS = {  # name -> (torch.optim class name, keyword arguments)
    "sgd": ("SGD", dict(lr=0.01)),
    "momentum": ("SGD", dict(lr=0.01, momentum=0.9)),
    "adagrad": ("Adagrad", dict(lr=0.01)),
    "rmsprop": ("RMSprop", dict(lr=0.001)),
    "adam": ("Adam", dict(lr=0.001)),
    "adamw": ("AdamW", dict(lr=0.001)),
    "nadam": ("NAdam", dict()),
    "radam": ("RAdam", dict()),
    "adamax": ("Adamax", dict()),
    "adadelta": ("Adadelta", dict()),
}
QUICK_OPTIMIZERS = ("momentum", "adam")
SYSTEMS = ("nnfast", "torch-fused", "torch-foreach")
SYSTEM_LABELS = {"nnfast": "nnfast.compat.torch", "torch-fused": "torch fused", "torch-foreach": "torch foreach"}
EPOCH_SAMPLES, QUICK_EPOCH_SAMPLES, BATCH = 8192, 1024, 64


def make_optimizer(system, name, params):
    """The optimizer of `system` for `params`, or None when it does not offer `name` in that mode."""
    import torch
    cls_name, kwargs = OPTIMIZERS[name]
    if system == "nnfast":
        import nnfast.compat.torch as compat
        return getattr(compat, cls_name)(params, **kwargs)
    mode = system.split("-", 1)[1]
    try:
        return getattr(torch.optim, cls_name)(params, **kwargs, **{mode: True})
    except (RuntimeError, TypeError, ValueError):  # e.g. no fused RMSprop
        return None


def step_function(system, name, shapes, seed=0):
    """A zero-argument callable doing one step of `system`, or None (reported as skipped)."""
    torch = optional_import("torch")
    if torch is None:
        return None
    rng = np.random.default_rng(seed)
    params = [torch.nn.Parameter(torch.from_numpy(rng.standard_normal(s).astype(np.float32))) for s in shapes]
    for p in params:
        p.grad = torch.from_numpy((1e-2 * rng.standard_normal(p.shape)).astype(np.float32))
    opt = make_optimizer(system, name, params)
    if opt is None:
        return None
    try:
        opt.step()
    except (RuntimeError, TypeError, ValueError):
        return None
    return opt.step


def epoch_function(system, name, samples, seed=0):
    """A zero-argument callable training the 784-128-10 MLP for one epoch, or None."""
    torch = optional_import("torch")
    if torch is None:
        return None
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(samples, 784, generator=gen)
    y = torch.randint(0, 10, (samples,), generator=gen)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model = torch.nn.Sequential(torch.nn.Linear(784, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
    opt = make_optimizer(system, name, model.parameters())
    if opt is None:
        return None
    loss_fn = torch.nn.CrossEntropyLoss()

    def epoch():
        for start in range(0, samples, BATCH):
            opt.zero_grad()
            loss_fn(model(x[start:start + BATCH]), y[start:start + BATCH]).backward()
            opt.step()
    return epoch


def run(thread_counts=(1, 2), sizes=tuple(SIZES), names=tuple(OPTIMIZERS), systems=SYSTEMS, max_total_time=2.0,
        epoch_samples=None):
    """Rows: one per (kind, optimizer, size, threads, system); kind is "step" or "epoch"."""
    quick = tuple(sizes) == QUICK_SIZES
    if quick and tuple(names) == tuple(OPTIMIZERS):
        names = QUICK_OPTIMIZERS
    samples = epoch_samples or (QUICK_EPOCH_SAMPLES if quick else EPOCH_SAMPLES)
    cases = [("step", size, lambda s, n, size=size: step_function(s, n, SIZES[size])) for size in sizes]
    cases.append(("epoch", f"{samples} samples", lambda s, n: epoch_function(s, n, samples)))
    rows = []
    for nt in thread_counts:
        with threads(nt):
            for kind, size, make in cases:
                for name in names:
                    for system in systems:
                        row = dict(kind=kind, optimizer=name, size=size, threads=nt, system=system)
                        fn = make(system, name)
                        if fn is None:
                            rows.append(dict(row, skipped=True))
                            continue
                        t = measure(fn, max_total_time=max_total_time, **({"repeats": 5} if kind == "epoch" else {}))
                        rows.append(dict(row, skipped=False, us=t.median * 1e6, spread=t.spread))
    return rows


def markdown(rows):
    """One table per thread count: median us per step (ms per epoch) of each system, x = time /
    nnfast.compat.torch time, and nnfast.compat.torch / torch fused (the issue's target ratio)."""
    out = []
    systems = [s for s in SYSTEMS if any(r["system"] == s for r in rows)]
    for nt in sorted({r["threads"] for r in rows}):
        out.append(f"\n**{nt} thread{'s' if nt > 1 else ''}** (median us per step, ms per epoch; "
                   "x = time / nnfast.compat.torch time)\n")
        head = ["", "optimizer", "tensors"] + [SYSTEM_LABELS[s] for s in systems] + ["nnfast / fused"]
        out.append("| " + " | ".join(head) + " |")
        out.append("|" + "---|" * len(head))
        keys = list(dict.fromkeys((r["kind"], r["optimizer"], r["size"]) for r in rows if r["threads"] == nt))
        for kind, name, size in keys:
            cells = {r["system"]: r for r in rows if r["threads"] == nt and (r["kind"], r["optimizer"], r["size"])
                     == (kind, name, size)}
            base = cells.get("nnfast")
            scale = 1e-3 if kind == "epoch" else 1.0
            line = [kind, name, size]
            for s in systems:
                r = cells.get(s)
                if r is None or r["skipped"]:
                    line.append("skipped")
                elif s == "nnfast" or base is None or base["skipped"]:
                    line.append(f"{r['us'] * scale:.1f}")
                else:
                    line.append(f"{r['us'] * scale:.1f} ({r['us'] / base['us']:.2f}x)")
            fused = cells.get("torch-fused")
            ok = base and fused and not base["skipped"] and not fused["skipped"]
            line.append(f"{base['us'] / fused['us']:.2f}" if ok else "-")
            out.append("| " + " | ".join(line) + " |")
    return "\n".join(out)
