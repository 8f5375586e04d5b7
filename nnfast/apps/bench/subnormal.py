"""Subnormal section: the cost of values below the smallest normal float, with nnfast's flush-to-zero
on (the default, `nnfast.set_flush_denormal`) and off (IEEE gradual underflow), against the same
work on data that keeps every value normal. (1) The learnable-label epoch of issue #13: the MLP
784-128(relu)-10(softmax), Adam (lr 1e-3, eps 1e-7), batch 32, 1 thread, on x uniform in [0, 1) of
Fashion-MNIST's shape with y = argmax of the first 10 features. Units that never fire (x >= 0 makes
some dead from the start) leave their Adam moments decaying by 0.9 per step into subnormals. The
normal data is the same x centered (x - 0.5), the same labels: no unit starts dead and no value of
Adam's state goes subnormal (the "subnormal state" column counts them after the timed epochs). PyTorch
(IEEE, fused Adam) trains the same runs. (2) One Adam step (Keras convention, zero gradients) over
1e6 float32 parameters whose moments m and v have decayed below 1.2e-38, against the same step on
normal moments; PyTorch's fused Adam and the NumPy reference as plain IEEE NumPy (flushing off: as
a NumPy user computes) beside it. Each timed step starts from the same state (restored untimed).
Target: with flushing on, the subnormal runs within 10% of the normal ones."""
import time

import numpy as np

import nnfast
from nnfast.utils import subnormals

from .timing import Timing, section_config, settle, threads
from .trainers import mlp_trainer
from .training import FULL_SAMPLES, epoch_data

__all__ = ["run", "ratios", "markdown", "learnable_data", "adam_step", "PARTS", "SIZES", "QUICK_SIZES"]

PARTS = ("epoch", "adam")
DATA = ("learnable", "normal")
BATCH_SIZE = 32
TARGET = 1.10
# epoch_samples: samples per epoch (times scaled to 60000); warmup_epochs: untimed epochs first (about
# 1000 steps or more, so moments of units that stopped firing can decay); repeats: timed epochs;
# adam_params: parameters of the Adam step; adam_repeats: timed steps
SIZES = {"epoch_samples": FULL_SAMPLES, "warmup_epochs": 1, "repeats": 3, "adam_params": 10**6,
         "adam_repeats": 21}
QUICK_SIZES = {"epoch_samples": 6000, "warmup_epochs": 6, "repeats": 3, "adam_params": 10**6, "adam_repeats": 9}
# system -> (trainer system, nnfast flushing); torch runs in its IEEE default
SYSTEMS = {"nnfast flush": ("nnfast", True), "nnfast ieee": ("nnfast", False), "torch": ("torch", None)}


def learnable_data(samples, centered=False):
    """x (samples, 784) float32 uniform in [0, 1) (minus 0.5 when centered), y = argmax of x's first
    10 features."""
    x, _ = epoch_data(samples)
    y = x[:, :10].argmax(axis=1)
    return (x - np.float32(0.5) if centered else x), y


def _timed(fn, repeats, reset):
    """Timing of `repeats` calls of fn(), each after an untimed reset()."""
    settle()
    seconds = []
    for _ in range(repeats):
        reset()
        start = time.perf_counter()
        fn()
        seconds.append(time.perf_counter() - start)
    return Timing.of(seconds)


def _subnormal_share(arrays):
    arrays = [a for a in arrays if a.size]
    count = sum(int(np.count_nonzero((np.abs(a) < np.finfo(a.dtype).tiny) & (a != 0))) for a in arrays)
    return count / max(1, sum(a.size for a in arrays))


def _epoch_rows(samples, repeats, warmup_epochs):
    """Per system, one model on each data, trained warmup_epochs untimed epochs (long enough for
    Adam's moments to decay), then timed epochs alternating between the two data, so both meet the
    same phases of a shared machine."""
    data = {d: learnable_data(samples, centered=d == "normal") for d in DATA}
    scale = FULL_SAMPLES / samples
    rows = []
    for system, (trainer_system, flush) in SYSTEMS.items():
        base = dict(part="epoch", case=f"MLP epoch, batch {BATCH_SIZE}", threads=1, system=system)
        with nnfast.flush_denormal(bool(flush)):
            trainers = {d: mlp_trainer(trainer_system, (784, 128, 10), BATCH_SIZE) for d in DATA}
            if any(t is None for t, _ in trainers.values()):
                rows += [dict(base, data=d, skipped=True, reason=trainers[d][1]) for d in DATA]
                continue
            for d in DATA:
                for _ in range(warmup_epochs):
                    trainers[d][0].epoch(*data[d])
            seconds, losses = {d: [] for d in DATA}, {}
            settle()
            for _ in range(repeats):
                for d in DATA:
                    start = time.perf_counter()
                    losses[d] = trainers[d][0].epoch(*data[d])
                    seconds[d].append(time.perf_counter() - start)
        for d in DATA:
            t = Timing.of(seconds[d])
            rows.append(dict(base, data=d, skipped=False, seconds=t.median * scale, spread=t.spread,
                             repeats=t.repeats, loss=losses[d],
                             subnormal_share=_subnormal_share(_state_arrays(trainers[d][0]))))
    return rows


def _state_arrays(trainer):
    """Adam's moments after the epochs, as NumPy arrays."""
    if hasattr(trainer, "model") and hasattr(trainer.model, "optimizer"):
        return [a for arrays in trainer.model.optimizer.get_state()["slots"].values() for a in arrays]
    return [v.numpy() for s in trainer.opt.state.values() for v in s.values() if v.ndim]


def adam_moments(n, subnormal, seed=0):
    """(w, g, m, v) float32: zero gradients; m and v below the smallest normal, or normal."""
    rng = np.random.default_rng(seed)
    tiny = float(np.finfo(np.float32).tiny)
    w = rng.standard_normal(n).astype(np.float32)
    if subnormal:
        m = (tiny * rng.uniform(0.01, 1.0, n) * rng.choice([-1.0, 1.0], n)).astype(np.float32)
        v = (tiny * rng.uniform(0.01, 1.0, n)).astype(np.float32)
    else:
        m = (1e-3 * rng.standard_normal(n)).astype(np.float32)
        v = (1e-6 * rng.uniform(0.5, 1.0, n)).astype(np.float32)
    return w, np.zeros(n, np.float32), m, v


def adam_step(system, n, subnormal):
    """(step, reset, (w, m, v)) for one Adam step of `system` from the chosen state (for torch, w
    is the parameter's memory and m, v are copies of the start), or (None, reason, None)."""
    w0, g, m0, v0 = adam_moments(n, subnormal)
    w, m, v = w0.copy(), m0.copy(), v0.copy()

    def reset():
        np.copyto(w, w0), np.copyto(m, m0), np.copyto(v, v0)

    kwargs = dict(step=10, learning_rate=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-7)
    if system in ("nnfast flush", "nnfast ieee"):
        return (lambda: nnfast.ops.adam_update([w], [g], [m], [v], None, **kwargs)), reset, (w, m, v)
    if system == "numpy":
        step = subnormals.plain(lambda: nnfast.reference.adam_update([w], [g], [m], [v], None, **kwargs))
        return step, reset, (w, m, v)
    try:
        import torch
    except ImportError:
        return None, "not installed", None
    p = torch.from_numpy(w).requires_grad_()
    p.grad = torch.from_numpy(g)
    opt = torch.optim.Adam([p], lr=1e-3, eps=1e-7, fused=True)
    opt.step()
    state = opt.state[p]

    def torch_reset():
        reset()
        state["exp_avg"].copy_(torch.from_numpy(m0))
        state["exp_avg_sq"].copy_(torch.from_numpy(v0))

    def step():
        with torch.no_grad():
            opt.step()
    return step, torch_reset, (w, m, v)


def _adam_rows(thread_counts, n, repeats):
    rows = []
    for nt in thread_counts:
        with threads(nt):
            for moments in ("subnormal", "normal"):
                for system in ("nnfast flush", "nnfast ieee", "torch", "numpy"):
                    row = dict(part="adam", case=f"Adam step, {n:.0e} params", data=moments, threads=nt,
                               system=system)
                    step, reset, _ = adam_step(system, n, moments == "subnormal")
                    if step is None:
                        rows.append(dict(row, skipped=True, reason=reset))
                        continue
                    with nnfast.flush_denormal(system != "nnfast ieee"):
                        t = _timed(step, repeats, reset)
                    rows.append(dict(row, skipped=False, seconds=t.median, spread=t.spread, repeats=t.repeats))
    return rows


def run(thread_counts=(1, 2), sizes=None, parts=PARTS, repeats=None, max_total_time=None):
    """Rows of measurements, one per (part, data, threads, system); skipped rows say why. The epoch
    runs on 1 thread only; the Adam step on each of thread_counts. max_total_time is accepted for
    the report's quick mode (every figure here is a fixed number of timed runs)."""
    cfg = section_config(SIZES, dict(sizes or {}, **({} if repeats is None else {"repeats": repeats})), parts,
                         PARTS, "part")
    rows = []
    if "epoch" in parts:
        with threads(1):
            rows += _epoch_rows(cfg["epoch_samples"], cfg["repeats"], cfg["warmup_epochs"])
    if "adam" in parts:
        rows += _adam_rows(thread_counts, cfg["adam_params"], cfg["adam_repeats"])
    return rows


def _find(rows, part, data, threads, system):
    return next((r for r in rows if (r["part"], r["data"], r["threads"], r["system"]) == (part, data, threads, system)
                 and not r["skipped"]), None)


def ratios(rows):
    """[(case, threads, system, time / nnfast-flush time)] on the same data, for the charts."""
    out = []
    for r in rows:
        base = _find(rows, r["part"], r["data"], r["threads"], "nnfast flush")
        if r["system"] != "nnfast flush" and not r["skipped"] and base is not None:
            out.append((f"{r['case']}, {r['data']}", r["threads"], r["system"], r["seconds"] / base["seconds"]))
    return out


def _fmt(s):
    return f"{s * 1e3:.2f} ms" if s < 1 else f"{s:.2f} s"


def markdown(rows):
    """Per part and thread count: each system's median on subnormal-producing and normal data, and
    their ratio (the target: at most 1.10 with flushing on)."""
    out = []
    for part, title in (("epoch", "**Learnable-label epoch** (time per 60000-sample epoch, 1 thread, after "
                                  "the untimed warm-up epochs; the two data alternate)"),
                        ("adam", "**Adam step over decayed moments** (time per step)")):
        mine = [r for r in rows if r["part"] == part]
        if not mine:
            continue
        subnormal_data = "learnable" if part == "epoch" else "subnormal"
        extra = " | loss (subnormal data) | subnormal state (subnormal / normal data)" if part == "epoch" else ""
        out += ["", title, "", f"| threads | system | subnormal data | normal data | ratio{extra} |",
                "|---|---|---|---|---|" + ("---|---|" if extra else "")]
        for nt in sorted({r["threads"] for r in mine}):
            for system in dict.fromkeys(r["system"] for r in mine):
                a, b = _find(rows, part, subnormal_data, nt, system), _find(rows, part, "normal", nt, system)
                if a is None or b is None:
                    out.append(f"| {nt} | {system} | skipped | skipped | - |" + (" - | - |" if extra else ""))
                    continue
                ratio = a["seconds"] / b["seconds"]
                mark = (" (target <= 1.10: " + ("met" if ratio <= TARGET else "missed") + ")"
                        if system == "nnfast flush" else "")
                line = (f"| {nt} | {system} | {_fmt(a['seconds'])} ±{100 * a['spread']:.0f}% | "
                        f"{_fmt(b['seconds'])} ±{100 * b['spread']:.0f}% | {ratio:.2f}{mark} |")
                if extra:
                    line += (f" {a['loss']:.4f} | {100 * a['subnormal_share']:.1f}% / "
                             f"{100 * b['subnormal_share']:.1f}% |")
                out.append(line)
    reasons = sorted({f"{r['system']}: {r['reason']}" for r in rows if r["skipped"]})
    if reasons:
        out.append("\nSkipped: " + "; ".join(reasons) + ".")
    return "\n".join(out)
