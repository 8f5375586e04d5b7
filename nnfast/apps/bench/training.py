"""Training section: whole training loops, each system on the same data, architecture and
hyperparameters, on the thread counts stated. (1) One epoch of an MLP 784-128(relu)-10(softmax),
Adam (lr 1e-3, betas 0.9/0.999, eps 1e-7), sparse categorical cross-entropy, shuffled minibatches of
32 and 128, on synthetic data of Fashion-MNIST's shape (60000 x 784 float32 uniform in [0, 1), seed
0) with two kinds of labels: random (0-9, nothing to learn) and learnable (the argmax of each row's
first 10 features: training grows confident, and its softmax terms and moments underflow to
subnormals where nothing flushes them); every system also computes the epoch's mean loss: nnfast
`Sequential.fit`; a from-scratch NumPy MLP (forward, softmax cross-entropy, backward, the book's
Adam with temporaries, fancy-indexed minibatches); PyTorch eager (`nn.Sequential(Linear, ReLU,
Linear)`, `CrossEntropyLoss`, `Adam(fused=True)`, `randperm` index batching, no DataLoader); JAX
(the whole epoch one `jit`-compiled function: shuffle, `lax.scan` over the batches, Adam from optax;
compiled ahead of time, run in a worker process limited to the thread count's CPUs); Keras 3 `fit`;
scikit-learn `MLPClassifier(solver="adam", alpha=0, max_iter=1).partial_fit` (one epoch that keeps
the Adam state). NumPy, Keras and scikit-learn run on the random labels only. Each system trains one
model: a warm-up epoch of 1000 samples, then the timed epochs in a row, as epochs 2, 3, ... of real
training (nnfast and Keras in one `fit` call of one more epoch, a callback timing the epochs between
their ends, so that what a fit call does once, before its first epoch, is not counted in every
epoch). The batch-128 epoch's speed is also given in GFLOP/s of its 6 x 60000 x 101632 multiply-add
flops (forward, and the two backward GEMMs) and as a share of the FMA peak measured on the same
thread count. nnfast computes fewer than those, with the same bits: its weight gradients skip the
zeros ReLU leaves, and its first layer stops computing the hidden units it has proven dead over the
data set (output +0 for every sample while their weights keep their bits), which takes a full epoch
after they stop moving: the first timed epoch is slower than the next ones, and the spread shows it
(docs/design.md, "The first layer's dead units"). (2) The seed notes' 2-3-1 sigmoid network (no
biases, float64) on the three study-hours samples: one full-batch gradient step with MSE (SGD lr
1.5, which is the notes' `w += X.T @ delta`), in microseconds: nnfast `train_on_batch`, the notes'
NumPy class (derivatives taken from the activations), PyTorch (`Linear(bias=False)`, `Sigmoid`,
`MSELoss`, `SGD`), Keras `train_on_batch`. (3) scikit-learn's digits (1437 train / 360 test):
64-64(relu)-10(softmax), Adam 1e-3, batch 32, a fresh model per run, wall time of the whole training
and test accuracy; with both thread counts, also nnfast's runs on 1 and 2 threads in alternating
pairs (each pair's time ratio). Threads: nnfast `set_num_threads`, `torch.set_num_threads` (also
Keras on its torch backend), NumPy and scikit-learn through threadpoolctl's BLAS limit, JAX by the
CPUs its worker process may use."""
import time

import numpy as np

from . import jax_peer, limits
from .timing import Timing, case, measure, optional_import, section_config, settle, threads
from .trainers import SYSTEMS, keras_description, keras_module, mlp_trainer, seed_step_function, timed_epochs

__all__ = ["run", "ratios", "markdown", "epoch_data", "mlp_trainer", "seed_step_function", "keras_module",
           "keras_description", "SYSTEMS", "PARTS", "SIZES", "QUICK_SIZES"]

PARTS = ("epoch", "seed", "digits")
SEED_SYSTEMS = ("nnfast", "numpy", "torch", "keras")  # sklearn has no 2-3-1 sigmoid regressor step
EPOCH_SYSTEMS = SYSTEMS + ("jax",)  # JAX runs the epoch only, in a worker process (jax_peer.py)
LABELS = ("random", "learnable")
LEARNABLE_SYSTEMS = ("nnfast", "torch", "jax")  # the slow peers run on random labels only
BATCH_SIZES = (32, 128)
MLP_DIMS = (784, 128, 10)
MLP_WEIGHTS = 784 * 128 + 128 * 10  # 101632 multiply-adds per sample per GEMM pass
FULL_SAMPLES = 60000
WARMUP_SAMPLES = 1000

# epoch_samples: samples per timed epoch (the time is scaled to 60000); digits_epochs: epochs per
# digits run; repeats: timed epochs (part 1) and timed runs (part 3) per system and thread count;
# digits_pairs: nnfast's digits runs on 1 and 2 threads in alternation (part 3, both counts run)
SIZES = {"epoch_samples": FULL_SAMPLES, "digits_epochs": 50, "repeats": 3, "digits_pairs": 9}
QUICK_SIZES = {"epoch_samples": 6000, "digits_epochs": 5, "repeats": 3, "digits_pairs": 3}


# --------------------------------------------------------------------------------------------------
# measurement
# --------------------------------------------------------------------------------------------------

def epoch_data(samples=FULL_SAMPLES, seed=0, labels="random"):
    """Synthetic data of Fashion-MNIST's shape: (samples, 784) float32 in [0, 1) and int64 labels 0-9,
    random or learnable (the argmax of each row's first 10 features); x is the same for both."""
    if labels not in LABELS:
        raise ValueError(f"labels must be one of {LABELS}, got {labels!r}")
    rng = np.random.default_rng(seed)
    x, y = rng.random((samples, 784), dtype=np.float32), rng.integers(0, 10, samples)
    return (x, y) if labels == "random" else (x, x[:, :10].argmax(axis=1).astype(np.int64))


def _epoch_rows(nt, systems, batch_sizes, samples, repeats, labels, files):
    rows = []
    for kind in labels:
        x, y = epoch_data(samples, labels=kind)
        for bs in batch_sizes:
            for system in [s for s in systems if kind == "random" or s in LEARNABLE_SYSTEMS]:
                case(f"MLP epoch, batch {bs}, {kind} labels: {system}")
                row = dict(part="epoch", case=f"MLP epoch, batch {bs}, {kind} labels", batch_size=bs, labels=kind,
                           threads=nt, system=system, samples=samples, scale=FULL_SAMPLES / samples)
                rows.append(dict(row, **_epoch_measurement(system, x, y, bs, nt, repeats, files.paths(kind, x, y)
                                                           if system == "jax" else None)))
    return rows


def _epoch_measurement(system, x, y, bs, nt, repeats, paths):
    """The fields of one epoch row: time, spread, repeats and loss, or skipped and why."""
    scale = FULL_SAMPLES / len(x)
    if system == "jax":
        reason = jax_peer.reason()
        if reason:
            return dict(skipped=True, reason=reason)
        settle()
        seconds, losses = jax_peer.timed_epochs(paths, MLP_DIMS, bs, nt, repeats, WARMUP_SAMPLES)
        t, loss = Timing.of(seconds), losses[-1]
    else:
        trainer, reason = mlp_trainer(system, MLP_DIMS, bs)
        if trainer is None:
            return dict(skipped=True, reason=reason)
        trainer.epoch(x[:WARMUP_SAMPLES], y[:WARMUP_SAMPLES])
        t, loss = _timed_epochs(trainer, x, y, repeats)
    return dict(skipped=False, seconds=t.median * scale, spread=t.spread, repeats=t.repeats, loss=loss)


def _timed_epochs(trainer, x, y, repeats):
    """The Timing of `repeats` epochs of `trainer` on (x, y) in a row, after the settle pause, and the
    last epoch's loss (trainers.timed_epochs)."""
    settle()
    seconds, loss = timed_epochs(trainer, x, y, repeats)
    return Timing.of(seconds), loss


def _seed_rows(nt, systems, max_total_time):
    rows = []
    for system in systems:
        row = dict(part="seed", case="2-3-1 sigmoid, 3 samples", threads=nt, system=system)
        fn, reason = seed_step_function(system)
        if fn is None:
            rows.append(dict(row, skipped=True, reason=reason))
            continue
        t = measure(fn, max_total_time=max_total_time)
        rows.append(dict(row, skipped=False, seconds=t.median, spread=t.spread, repeats=t.repeats))
    return rows


def _digits_runs(system, train, valid, epochs, repeats):
    """(seconds, final loss, validation accuracy) of `repeats` runs of `epochs` epochs, each from
    freshly initialized weights (seed 0), after the settle pause as every measurement."""
    (xt, yt), (xv, yv) = train, valid
    settle()
    runs = []
    for _ in range(repeats):
        trainer = mlp_trainer(system, (64, 64, 10), 32, seed=0)[0]
        start = time.perf_counter()
        loss = trainer.train(xt, yt, epochs)
        runs.append((time.perf_counter() - start, loss, trainer.accuracy(xv, yv)))
    return runs


def _digits_rows(nt, systems, epochs, repeats):
    case = f"digits 64-64-10, {epochs} epochs"
    try:
        from nnfast import datasets
        (xt, yt), (xv, yv) = datasets.load_digits(seed=0)
    except ImportError as err:
        return [dict(part="digits", case=case, threads=nt, system=s, skipped=True, reason=str(err))
                for s in systems]
    rows = []
    for system in systems:
        row = dict(part="digits", case=case, epochs=epochs, threads=nt, system=system)
        warm, reason = mlp_trainer(system, (64, 64, 10), 32, seed=1)
        if warm is None:
            rows.append(dict(row, skipped=True, reason=reason))
            continue
        warm.train(xt, yt, 1)
        runs = _digits_runs(system, (xt, yt), (xv, yv), epochs, repeats)
        t = Timing.of([r[0] for r in runs])
        rows.append(dict(row, skipped=False, seconds=t.median, spread=t.spread, repeats=t.repeats,
                         loss=runs[-1][1], accuracy=runs[-1][2]))
    return rows


def _digits_pairs(epochs, pairs):
    """nnfast's digits run on 2 threads against 1, measured in alternation (the order swapping from
    pair to pair) after one settle pause: [time on 2 threads / time on 1] per pair. The rows above
    time each thread count minutes apart, where the shared host's drift alone moves a run by
    5-13%; a pair's two runs are a second apart. Issue #15 asks that 2 threads be no slower."""
    from nnfast import datasets
    (xt, yt), _ = datasets.load_digits(seed=0)
    settle()
    ratios = []
    for pair in range(pairs):
        seconds = {}
        for nt in ((1, 2) if pair % 2 == 0 else (2, 1)):
            with threads(nt):
                trainer = mlp_trainer("nnfast", (64, 64, 10), 32, seed=0)[0]
                start = time.perf_counter()
                trainer.train(xt, yt, epochs)
                seconds[nt] = time.perf_counter() - start
        ratios.append(seconds[2] / seconds[1])
    return ratios


def _digits_pair_rows(epochs, pairs):
    case_text = f"digits 64-64-10, {epochs} epochs"
    case(f"{case_text}: nnfast on 2 threads against 1, alternated")
    try:
        ratios = _digits_pairs(epochs, pairs)
    except ImportError as err:
        return [dict(part="digits-pairs", case=case_text, system="nnfast", threads=2, skipped=True,
                     reason=str(err))]
    return [dict(part="digits-pairs", case=case_text, system="nnfast", threads=2, skipped=False, ratios=ratios,
                 ratio=float(np.median(ratios)))]


def run(thread_counts=(1, 2), sizes=None, parts=PARTS, systems=EPOCH_SYSTEMS, batch_sizes=BATCH_SIZES,
        repeats=None, max_total_time=2.0, labels=LABELS):
    """Rows of measurements: one per (part, case, threads, system); skipped rows say why.

    sizes: SIZES (full) or QUICK_SIZES, or a dict with any of their keys; repeats overrides
    sizes["repeats"]; max_total_time bounds the repeats of the 2-3-1 step (the training runs are
    timed `repeats` times each); labels: the epoch's kinds of labels (LABELS). Epoch rows carry the
    FMA peak measured on their thread count (fma_peak_gflops)."""
    cfg = section_config(SIZES, dict(sizes or {}, **({} if repeats is None else {"repeats": repeats})), parts,
                         PARTS, "part")
    unknown = [k for k in labels if k not in LABELS]
    if unknown:
        raise ValueError(f"unknown labels {unknown}; expected some of {LABELS}")
    rows = []
    files = jax_peer.DataFiles()
    try:
        for nt in thread_counts:
            with threads(nt):
                if "epoch" in parts:
                    case("FMA peak")
                    peak = limits.fma_peak_gflops(nt)
                    rows += [dict(r, fma_peak_gflops=peak) for r in
                             _epoch_rows(nt, systems, batch_sizes, cfg["epoch_samples"], cfg["repeats"], labels, files)]
                if "seed" in parts:
                    rows += _seed_rows(nt, [s for s in systems if s in SEED_SYSTEMS], max_total_time)
                if "digits" in parts:
                    rows += _digits_rows(nt, [s for s in systems if s in SYSTEMS], cfg["digits_epochs"],
                                         cfg["repeats"])
        if "digits" in parts and {1, 2} <= set(thread_counts) and "nnfast" in systems:
            rows += _digits_pair_rows(cfg["digits_epochs"], cfg["digits_pairs"])
    finally:
        files.close()
    return rows


# --------------------------------------------------------------------------------------------------
# output
# --------------------------------------------------------------------------------------------------

def _key(r):
    return (r["part"], r["case"], r["threads"])


def ratios(rows):
    """[(case, threads, peer, peer time / nnfast time)] for every measured peer beside a measured nnfast."""
    base = {_key(r): r for r in rows if r["system"] == "nnfast" and not r["skipped"]}
    out = []
    for r in rows:
        b = base.get(_key(r))
        if r["system"] != "nnfast" and not r["skipped"] and b is not None:
            out.append((r["case"], r["threads"], r["system"], r["seconds"] / b["seconds"]))
    return out


def _fmt_seconds(s):
    return f"{s * 1e6:.1f} us" if s < 1e-3 else f"{s * 1e3:.1f} ms" if s < 1 else f"{s:.2f} s"


def _cell(r, base):
    if r is None:
        return "-"
    if r["skipped"]:
        return "skipped"
    text = f"{_fmt_seconds(r['seconds'])} ±{100 * r['spread']:.0f}%"
    if r is not base and base is not None and not base["skipped"]:
        text += f" {r['seconds'] / base['seconds']:.2f}x"
    return text


def _table(rows, head, systems):
    out = ["| " + " | ".join(head + systems) + " |", "|" + "---|" * (len(head) + len(systems))]
    keys = []
    for r in rows:
        if _key(r) not in keys:
            keys.append(_key(r))
    for key in keys:
        cells = {r["system"]: r for r in rows if _key(r) == key}
        base = cells.get("nnfast")
        out.append("| " + " | ".join([key[1], str(key[2])] + [_cell(cells.get(s), base) for s in systems]) + " |")
    return out


def _measured(rows, **match):
    """The measured row that has every field of `match`, or None."""
    return next((r for r in rows if not r["skipped"] and all(r.get(k) == v for k, v in match.items())), None)


def _scaling_table(epoch, systems):
    """Time on 1 thread / time on 2 threads of every epoch run measured on both."""
    if not {1, 2} <= {r["threads"] for r in epoch}:
        return []
    out = ["\n**Two threads against one** (epoch time on 1 thread / on 2 threads; above 1: the second thread "
           "helps)\n", "| run | " + " | ".join(systems) + " |", "|" + "---|" * (len(systems) + 1)]
    for label in dict.fromkeys(r["case"] for r in epoch):
        cells = []
        for s in systems:
            one, two = (_measured(epoch, case=label, system=s, threads=n) for n in (1, 2))
            cells.append(f"{one['seconds'] / two['seconds']:.2f}" if one and two else "-")
        out.append(f"| {label} | " + " | ".join(cells) + " |")
    return out


def _peak_table(epoch, systems):
    """The batch-128 epochs in GFLOP/s of 6 x 60000 x 101632 flops and as a share of the FMA peak."""
    runs = [r for r in epoch if r["batch_size"] == 128]
    if not runs:
        return []
    flops = 6 * FULL_SAMPLES * MLP_WEIGHTS
    out = [f"\n**The batch-128 epoch against the FMA peak** (GFLOP/s of its 6 x {FULL_SAMPLES} x {MLP_WEIGHTS} "
           "flops: forward and both backward GEMMs; in brackets the share of the fp32 FMA peak measured on the "
           "same threads)\n", "| run | threads | FMA peak | " + " | ".join(systems) + " |",
           "|" + "---|" * (len(systems) + 3)]
    for label, nt in dict.fromkeys((r["case"], r["threads"]) for r in runs):
        peak = next(r["fma_peak_gflops"] for r in runs if (r["case"], r["threads"]) == (label, nt))
        cells = []
        for s in systems:
            r = _measured(runs, case=label, system=s, threads=nt)
            cells.append(f"{flops / r['seconds'] / 1e9:.1f} ({100 * flops / r['seconds'] / 1e9 / peak:.0f}%)"
                         if r else "-")
        out.append(f"| {label} | {nt} | {peak:.0f} GFLOP/s | " + " | ".join(cells) + " |")
    return out


def markdown(rows):
    """One table per part: median time ± half the interquartile range, and x = peer time / nnfast
    time (above 1: nnfast is faster); digits also gives test accuracy. Skipped peers are listed
    with their reason below the tables."""
    out = []
    systems = [s for s in EPOCH_SYSTEMS if any(r["system"] == s for r in rows)]
    epoch = [r for r in rows if r["part"] == "epoch"]
    if epoch:
        done = [r for r in epoch if not r["skipped"]]
        samples = done[0]["samples"] if done else FULL_SAMPLES
        reps = sorted({r["repeats"] for r in done})
        how = ("" if samples == FULL_SAMPLES else
               f"; quick mode: measured on {samples}-sample epochs and scaled x{FULL_SAMPLES / samples:g}")
        out.append(f"\n**One training epoch, MLP 784-128-10, Adam** (time per {FULL_SAMPLES}-sample epoch, "
                   f"median of {'/'.join(map(str, reps)) or '-'} epochs after a {WARMUP_SAMPLES}-sample warm-up"
                   f"{how}; x = time / nnfast time)\n")
        out += _table(epoch, ["run", "threads"], systems)
        out += _scaling_table(epoch, systems) + _peak_table(epoch, systems)
    seed = [r for r in rows if r["part"] == "seed"]
    if seed:
        out.append("\n**Seed 2-3-1 network** (time per full-batch training step, median; x = time / nnfast time)\n")
        out += _table(seed, ["network", "threads"], [s for s in systems if s in SEED_SYSTEMS])
    digits = [r for r in rows if r["part"] == "digits"]
    if digits:
        reps = sorted({r["repeats"] for r in digits if not r["skipped"]})
        out.append(f"\n**Digits** (wall time of a whole training run, median of {'/'.join(map(str, reps)) or '-'} "
                   "runs from the same initial state; final training loss; test accuracy)\n")
        out.append("| run | threads | system | wall time | x nnfast | final loss | test accuracy |")
        out.append("|---|---|---|---|---|---|---|")
        for r in digits:
            base = next((b for b in digits if _key(b) == _key(r) and b["system"] == "nnfast"), None)
            if r["skipped"]:
                out.append(f"| {r['case']} | {r['threads']} | {r['system']} | skipped | - | - | - |")
                continue
            ratio = (f"{r['seconds'] / base['seconds']:.2f}x" if base is not None and not base["skipped"] else "-")
            out.append(f"| {r['case']} | {r['threads']} | {r['system']} | {_fmt_seconds(r['seconds'])} "
                       f"±{100 * r['spread']:.0f}% | {ratio} | {r['loss']:.4f} | {r['accuracy']:.4f} |")
    for r in rows:
        if r["part"] == "digits-pairs" and not r["skipped"]:
            verdict = "met" if r["ratio"] <= 1.0 else f"missed by {100 * (r['ratio'] - 1):.1f}%"
            out.append(f"\nnnfast on 2 threads against 1, {r['case']}, {len(r['ratios'])} pairs of runs in "
                       f"alternation (time on 2 threads / on 1): median {r['ratio']:.3f}, range "
                       f"{min(r['ratios']):.3f}-{max(r['ratios']):.3f} (2 threads no slower than 1: {verdict})")
    reasons = sorted({f"{r['system']}: {r['reason']}" for r in rows if r["skipped"]})
    if reasons:
        out.append("\nSkipped: " + "; ".join(reasons) + ".")
    if rows and optional_import("threadpoolctl") is None:
        out.append("Note: threadpoolctl is not installed, so the BLAS thread count of NumPy and scikit-learn "
                   "was not set.")
    return "\n".join(out)
