"""Keras models section (issue #12 item 9): its two models, and a third, as a Keras user writes
them, trained side by side by nnfast (`import nnfast.keras as keras`), real Keras 3 (the same
program; torch backend) and the equivalent PyTorch eager loop, per epoch, on the thread counts
stated. (1) The lecture notes' Fashion-MNIST model: Input(28, 28), Flatten, Dense 10 softmax,
Adam(), sparse categorical cross-entropy, metrics=["accuracy"], batch 32, on synthetic images of
Fashion-MNIST's shape (float32 in [0, 1), labels 0-9 given by a fixed random linear teacher, so
that the model can learn).
(2) A tabular MLP: Input(64), three blocks of Dense 256, BatchNormalization, ReLU, Dropout 0.3, then
Dense 1 sigmoid, Adam(), binary cross-entropy, metrics=["accuracy"], batch 256,
class_weight {0: 1.0, 1: 4.0}, on synthetic rows (64 standard-normal float32 features, 20%
positives set by four of them plus noise). (3) The same rows through a model that uses the
newer Keras-face features, which nnfast trains in its Python loop over native kernels: Input(64),
Dense 128 elu with kernel_constraint MaxNorm(3), GaussianNoise 0.1, Dense 128 swish, PReLU, Dense 1
sigmoid, Adam(), binary cross-entropy, class_weight, batch 256 (it has no target in the issue: the
table gives its ratios only). nnfast and Keras run one function, `build(keras, ...)`,
given either module, and `fit(epochs=1)`; PyTorch eager runs `nn.Sequential` (Flatten, Linear;
Linear, BatchNorm1d(momentum 0.01, eps 1e-3), ReLU, Dropout(0.3), ..., Linear, Sigmoid) with Keras's
glorot-uniform weights and zero biases, `CrossEntropyLoss` / `binary_cross_entropy` weighted per
sample by its class weight (the mean of weight x loss, as Keras), `Adam(eps=1e-7, fused=True)`, a
plain loop over `randperm` index batches (no DataLoader), and the epoch's mean loss and accuracy.
Each system trains one model: one warm-up epoch on the whole data set, then the timed epochs
(median of 3; --repeats N sets N >= 3), the systems' epochs in turns (a round trains one epoch of
each, the order rotating), each started once a short FMA probe shows its threads on whole cores,
and run again if the probe after it reads them halved (the placement check, around every epoch of
every system). The tables give each system's last training loss and accuracy and
the accuracy on 10000 held-out samples (not timed), so that equal work is visible, and whether
nnfast meets the issue's targets: >= 10x faster per epoch than Keras, >= 2x than PyTorch. For
the issue's two models a further table sets each system's epoch against the machine: the flops of
the Dense layers' products counted dense (the work Keras and PyTorch do), the fp32 FMA peak
measured on the same threads before the models run, how long that arithmetic takes at the peak,
and how long 10x Keras's epoch allows.
(4) An embedding-bag text classifier, as the Keras text tutorials write it, also trained in
nnfast's Python loop and given no target: Input(20) word ids of a 5000-word vocabulary,
Embedding 32, GlobalAveragePooling1D, Dense 32 relu, Dense 1 sigmoid, Adam(), binary
cross-entropy, batch 128, on synthetic reviews (ids uniform over the vocabulary, int64; the label
says whether the words' fixed hidden sentiments sum above 0). PyTorch runs nn.EmbeddingBag(mode=
"mean"), its idiomatic bag of words, with Keras's uniform(-0.05, 0.05) embeddings."""
import warnings

import numpy as np

from . import limits
from .timing import case, measure_together, section_config, threads
from .trainers import keras_module
from .training import ratios as training_ratios

__all__ = ["run", "ratios", "markdown", "build", "model_data", "trainer", "dense_flops_per_sample", "MODELS",
           "SYSTEMS", "TARGETS", "SIZES", "QUICK_SIZES"]

SYSTEMS = ("nnfast", "keras", "torch")
MODELS = ("fashion", "tabular", "keras_face", "text")
TARGET_MODELS = ("fashion", "tabular")  # the two; keras_face is measured, with no target
CASES = {"fashion": "Fashion-MNIST Flatten-Dense 10, batch 32",
         "tabular": "tabular MLP 64-3x(256 BN ReLU Dropout)-1, class_weight, batch 256",
         "keras_face": "tabular 64-128 elu MaxNorm-noise-128 swish-PReLU-1, class_weight, batch 256",
         "text": "text: Embedding 5000x32-GlobalAveragePooling1D-32 relu-1, batch 128"}
BATCH_SIZES = {"fashion": 32, "tabular": 256, "keras_face": 256, "text": 128}
BINARY_MODELS = ("tabular", "keras_face", "text")
WEIGHTED_MODELS = ("tabular", "keras_face")  # trained with CLASS_WEIGHT
VOCABULARY, REVIEW_WORDS = 5000, 20
CLASS_WEIGHT = {0: 1.0, 1: 4.0}
TARGETS = {"keras": 10.0, "torch": 2.0}  # peer time / nnfast time the issue asks for
FULL_SAMPLES = 60000
POSITIVE_SHARE = 0.2

# samples: per timed epoch (the time is scaled to 60000); test_samples: held-out accuracy;
# repeats: timed epochs per system, model and thread count (at least 3)
SIZES = {"samples": FULL_SAMPLES, "test_samples": 10000, "repeats": 3}
QUICK_SIZES = {"samples": 6000, "test_samples": 2000, "repeats": 3}


# --------------------------------------------------------------------------------------------------
# data and models
# --------------------------------------------------------------------------------------------------

def model_data(model, samples, seed=0):
    """(x, y) of `model`: fashion (samples, 28, 28) float32 in [0, 1) with int64 labels 0-9 from a
    fixed linear teacher; tabular (samples, 64) float32 with float32 0/1 labels, 20% ones; text
    (samples, 20) int64 word ids with float32 0/1 labels, about half ones. The teacher (seed 12) is
    the same whatever `seed`, so a test set of another seed has the same rule."""
    rng, teacher = np.random.default_rng(seed), np.random.default_rng(12)
    if model == "text":  # a tenth of the words carry a sentiment of +-1
        sentiment = teacher.choice([-1.0, 0.0, 1.0], VOCABULARY, p=[0.05, 0.9, 0.05])
        x = rng.integers(0, VOCABULARY, (samples, REVIEW_WORDS))
        return x, (sentiment[x].sum(axis=1) + 0.1 * rng.standard_normal(samples) > 0).astype(np.float32)
    if model == "fashion":
        x = rng.random((samples, 28, 28), dtype=np.float32)
        w = teacher.standard_normal((784, 10)).astype(np.float32)
        return x, ((x.reshape(samples, -1) - 0.5) @ w).argmax(axis=1)
    if model in BINARY_MODELS:
        x = rng.standard_normal((samples, 64), dtype=np.float32)
        score = x[:, :4] @ np.array([1.5, 1.0, -1.0, 0.5], np.float32) + 0.5 * rng.standard_normal(samples)
        # the threshold is the standard normal score's quantile (sd sqrt(4.75)), not the sample's
        return x, (score > 0.8416 * np.sqrt(4.75)).astype(np.float32)
    raise ValueError(f"unknown model {model!r}; expected one of {MODELS}")


def build(keras, model):
    """The compiled model, written as a Keras user writes it; `keras` is nnfast.keras or Keras 3."""
    layers = keras.layers
    if model == "fashion":
        net = keras.Sequential([keras.Input((28, 28)), layers.Flatten(), layers.Dense(10, activation="softmax")])
        loss = "sparse_categorical_crossentropy"
    elif model == "tabular":
        blocks = [keras.Input((64,))]
        for _ in range(3):
            blocks += [layers.Dense(256), layers.BatchNormalization(), layers.ReLU(), layers.Dropout(0.3)]
        net = keras.Sequential(blocks + [layers.Dense(1, activation="sigmoid")])
        loss = "binary_crossentropy"
    elif model == "text":
        net = keras.Sequential([keras.Input((REVIEW_WORDS,)), layers.Embedding(VOCABULARY, 32),
                                layers.GlobalAveragePooling1D(), layers.Dense(32, activation="relu"),
                                layers.Dense(1, activation="sigmoid")])
        loss = "binary_crossentropy"
    else:
        net = keras.Sequential([keras.Input((64,)),
                                layers.Dense(128, activation="elu", kernel_constraint=keras.constraints.MaxNorm(3)),
                                layers.GaussianNoise(0.1), layers.Dense(128, activation="swish"), layers.PReLU(),
                                layers.Dense(1, activation="sigmoid")])
        loss = "binary_crossentropy"
    net.compile(optimizer=keras.optimizers.Adam(), loss=loss, metrics=["accuracy"])
    return net


def dense_flops_per_sample(net):
    """Flops per sample of one training step's products in the Dense layers of `net` (a Keras or
    nnfast.keras model), counted dense, as Keras and PyTorch compute them: 2 x in x out each for
    the forward and the weight gradient, and for the input gradient of every Dense layer after the
    first (whose input is the data, which needs none)."""
    shapes = [tuple(layer.kernel.shape) for layer in net.layers if type(layer).__name__ == "Dense"]
    return sum((4 if i == 0 else 6) * fan_in * fan_out for i, (fan_in, fan_out) in enumerate(shapes))


class _KerasProgram:
    """nnfast or Keras 3 running build()'s model: epoch(x, y) -> (loss, accuracy) of one fit epoch."""

    def __init__(self, keras, model, seed):
        keras.utils.set_random_seed(seed)
        self.net = build(keras, model)
        self.fit_args = dict(batch_size=BATCH_SIZES[model], verbose=0,
                             class_weight=CLASS_WEIGHT if model in WEIGHTED_MODELS else None)
        self.binary = model in BINARY_MODELS

    def epoch(self, x, y):
        history = self.net.fit(x, y, epochs=1, **self.fit_args).history
        return float(history["loss"][-1]), float(history["accuracy"][-1])

    def test_accuracy(self, x, y):
        with warnings.catch_warnings():
            # Keras 3.x's torch backend converts with np.array(tensor), which NumPy 2 deprecates
            warnings.simplefilter("ignore", DeprecationWarning)
            out = np.asarray(self.net.predict(x, batch_size=1024, verbose=0))
        pred = (out[:, 0] > 0.5) if self.binary else out.argmax(axis=1)
        return float(np.mean(pred == y))

    def path(self):
        """How nnfast trained: the one-call native step when its planner built a step, else the
        Python loop over the native kernels."""
        planner = getattr(self.net, "native_planner", None)
        return "one-call native step" if planner is not None and planner.batch_sizes else \
            "Python loop over native kernels"


def torch_gaussian_noise(stddev):
    """A torch module for Keras's GaussianNoise: x + N(0, stddev^2) while training."""
    import torch
    from torch import nn

    class GaussianNoise(nn.Module):
        def forward(self, x):
            return x + stddev * torch.randn_like(x) if self.training else x

    return GaussianNoise()


class _TorchProgram:
    """The equivalent PyTorch eager model and plain training loop."""

    def __init__(self, model, seed):
        import torch
        from torch import nn
        self.torch, self.binary, self.batch_size = torch, model in BINARY_MODELS, BATCH_SIZES[model]
        self.weighted = model in WEIGHTED_MODELS
        self.max_norm = None  # (layer, its max norm): renormed after every step, as Keras's constraint
        with torch.random.fork_rng():  # seeded weights without touching the caller's RNG
            torch.manual_seed(seed)
            if model == "text":
                bag = nn.EmbeddingBag(VOCABULARY, 32, mode="mean")
                nn.init.uniform_(bag.weight, -0.05, 0.05)  # Keras's "uniform"
                self.net = nn.Sequential(bag, nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 1), nn.Sigmoid())
            elif model == "keras_face":
                first = nn.Linear(64, 128)
                self.net = nn.Sequential(first, nn.ELU(), torch_gaussian_noise(0.1), nn.Linear(128, 128), nn.SiLU(),
                                         nn.PReLU(128, init=0.0), nn.Linear(128, 1), nn.Sigmoid())
                self.max_norm = (first, 3.0)
            elif self.binary:
                blocks, width = [], 64
                for _ in range(3):
                    blocks += [nn.Linear(width, 256), nn.BatchNorm1d(256, momentum=0.01, eps=1e-3), nn.ReLU(),
                               nn.Dropout(0.3)]
                    width = 256
                self.net = nn.Sequential(*blocks, nn.Linear(256, 1), nn.Sigmoid())
            else:
                self.net = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))  # softmax inside the loss
            for layer in self.net:
                if isinstance(layer, nn.Linear):  # Keras's initial weights
                    nn.init.xavier_uniform_(layer.weight)
                    nn.init.zeros_(layer.bias)
        self.opt = torch.optim.Adam(self.net.parameters(), lr=1e-3, eps=1e-7, fused=True)
        self.class_weight = torch.tensor([CLASS_WEIGHT[0], CLASS_WEIGHT[1]])
        self.gen = torch.Generator().manual_seed(seed)

    def loss_and_correct(self, xb, yb):
        torch = self.torch
        out = self.net(xb)
        if self.binary:
            p = out[:, 0]
            weight = self.class_weight[yb.long()] if self.weighted else None
            loss = torch.nn.functional.binary_cross_entropy(p, yb, weight=weight)
            return loss, ((p > 0.5) == (yb > 0.5)).sum()
        return torch.nn.functional.cross_entropy(out, yb), (out.argmax(dim=1) == yb).sum()

    def epoch(self, x, y):
        torch = self.torch
        self.net.train()
        xt, yt = torch.from_numpy(x), torch.from_numpy(y)
        perm = torch.randperm(len(x), generator=self.gen)
        total, correct = 0.0, 0
        for start in range(0, len(x), self.batch_size):
            idx = perm[start:start + self.batch_size]
            self.opt.zero_grad()
            loss, right = self.loss_and_correct(xt[idx], yt[idx])
            loss.backward()
            self.opt.step()
            if self.max_norm is not None:  # each unit's incoming weights (a row of torch's (out, in))
                layer, bound = self.max_norm
                with torch.no_grad():
                    layer.weight.copy_(torch.renorm(layer.weight, 2, 0, bound))
            total += loss.item() * len(idx)
            correct += right.item()
        return total / len(x), correct / len(x)

    def test_accuracy(self, x, y):
        self.net.eval()
        with self.torch.no_grad():
            out = self.net(self.torch.from_numpy(x)).numpy()
        pred = (out[:, 0] > 0.5) if self.binary else out.argmax(axis=1)
        return float(np.mean(pred == y))

    def path(self):
        return ""


def trainer(system, model, seed=0):
    """(trainer, None) for `model` on `system`, or (None, why it is skipped)."""
    if system == "nnfast":
        import nnfast.keras
        return _KerasProgram(nnfast.keras, model, seed), None
    if system == "keras":
        keras, reason = keras_module()
        return (None, reason) if keras is None else (_KerasProgram(keras, model, seed), None)
    if system == "torch":
        try:
            return _TorchProgram(model, seed), None
        except ImportError:
            return None, "torch is not installed"
    raise ValueError(f"unknown system {system!r}; expected one of {SYSTEMS}")


# --------------------------------------------------------------------------------------------------
# measurement
# --------------------------------------------------------------------------------------------------

def _timed_epochs(programs, x, y, repeats):
    """{system: (Timing of one epoch, the last epoch's (loss, accuracy), the epochs trained)} of the
    programs, their epochs in turns (measure_together): a round trains one epoch of each, the order
    rotating, so that a slow spell of the shared host falls on every system alike (an epoch of
    Keras lasts seconds, and the systems' epochs in a row were timed up to a minute apart). warmup=0
    and no minimum repeat time: the first, untimed call of each is its warm-up epoch; every epoch
    starts once the threads get whole cores and runs again when the placement check after it
    fails, so systems may train different numbers of epochs, which the equal-work table states."""
    results = {system: [] for system in programs}
    fns = {system: (lambda s=system: results[s].append(programs[s].epoch(x, y))) for system in programs}
    timings = measure_together(fns, repeats=repeats, warmup=0, min_repeat_time=0.0, max_total_time=1e12,
                               check_each_repeat=True)
    return {system: (timings[system], results[system][-1], len(results[system])) for system in programs}


def _rows(model, nt, systems, cfg, peak):
    samples = cfg["samples"]
    x, y = model_data(model, samples, seed=0)
    xv, yv = model_data(model, cfg["test_samples"], seed=1)
    scale = FULL_SAMPLES / samples
    import nnfast.keras
    flops = dense_flops_per_sample(build(nnfast.keras, model))
    rows, programs = {}, {}
    for system in systems:
        rows[system] = dict(part=model, case=CASES[model], threads=nt, system=system, samples=samples, scale=scale,
                            fma_peak_gflops=peak, dense_flops_per_sample=flops)
        program, reason = trainer(system, model)
        if program is None:
            rows[system].update(skipped=True, reason=reason)
        else:
            programs[system] = program
    timed = _timed_epochs(programs, x, y, cfg["repeats"]) if programs else {}
    for system, (t, (loss, accuracy), epochs) in timed.items():
        program = programs[system]
        path = program.path()  # before predict, which prepares the model afresh
        rows[system].update(skipped=False, seconds=t.median * scale, spread=t.spread, repeats=t.repeats,
                            epochs=epochs, loss=loss, accuracy=accuracy, test_accuracy=program.test_accuracy(xv, yv),
                            path=path)
    return list(rows.values())


def run(thread_counts=(1, 2), sizes=None, models=MODELS, systems=SYSTEMS, max_total_time=None):
    """Rows of measurements: one per (model, threads, system); skipped rows say why. Every row
    carries the FMA peak measured on its thread count (fma_peak_gflops) and its model's
    dense_flops_per_sample.

    sizes: SIZES (full) or QUICK_SIZES, or a dict with any of their keys. max_total_time is
    accepted for the report's quick mode and not used: each system trains `repeats` timed epochs."""
    del max_total_time
    cfg = section_config(SIZES, sizes, models, MODELS, "model")
    rows = []
    for nt in thread_counts:
        with threads(nt):
            case("FMA peak")
            peak = limits.fma_peak_gflops(nt)
            for model in models:
                rows += _rows(model, nt, systems, cfg, peak)
    return rows


# --------------------------------------------------------------------------------------------------
# output
# --------------------------------------------------------------------------------------------------

def ratios(rows):
    """[(case, threads, peer, peer time / nnfast time)] for every measured peer beside a measured nnfast."""
    return training_ratios(rows)


def target_verdicts(rows):
    """[(case, threads, peer, ratio, target, met)] for the peers the issue sets a target against."""
    targeted = {r["case"] for r in rows if r["part"] in TARGET_MODELS}
    return [(case, nt, peer, ratio, TARGETS[peer], ratio >= TARGETS[peer])
            for case, nt, peer, ratio in ratios(rows) if peer in TARGETS and case in targeted]


def _time_cell(r):
    return "skipped" if r["skipped"] else f"{r['seconds'] * 1e3:.0f} ms ±{100 * r['spread']:.0f}%"


def _ratio_cell(ratio, target, met):
    if met:
        return f"{ratio:.2f}x (>= {target:g}x: met)"
    return f"{ratio:.2f}x (>= {target:g}x: missed, nnfast needs {target / ratio:.2f}x less time)"


def _peak_table(done, systems):
    """The target models' epochs against the FMA peak: their Dense products' flops counted dense,
    that arithmetic's time at the peak, what 10x Keras's epoch allows, and each system's GFLOP/s
    with its share of the peak."""
    runs = [r for r in done if r["part"] in TARGET_MODELS and "fma_peak_gflops" in r]
    if not runs:
        return []
    out = ["\n**The issue's models against the FMA peak** (flops of one epoch's Dense-layer products counted "
           "dense, the work Keras and PyTorch do: forward, weight gradient, and input gradient after the first "
           "layer; the fp32 FMA peak measured on the same threads; each system's GFLOP/s of that work, in "
           "brackets its share of the peak. nnfast skips the zeros of a mostly-zero input, so its share can "
           "pass 100%)\n",
           "| model | threads | FMA peak | GFLOP an epoch | at the peak | 10x Keras allows | "
           + " | ".join(systems) + " |",
           "|" + "---|" * (6 + len(systems))]
    for label, nt in dict.fromkeys((r["case"], r["threads"]) for r in runs):
        cells = {r["system"]: r for r in runs if (r["case"], r["threads"]) == (label, nt)}
        first = next(iter(cells.values()))
        peak, flops = first["fma_peak_gflops"], first["dense_flops_per_sample"] * FULL_SAMPLES
        at_peak = flops / (peak * 1e9)
        keras = cells.get("keras")
        allows = (f"{keras['seconds'] / TARGETS['keras'] * 1e3:.0f} ms "
                  f"({keras['seconds'] / TARGETS['keras'] / at_peak:.2f}x the time at the peak)" if keras else "-")
        speeds = [f"{flops / cells[s]['seconds'] / 1e9:.1f} ({100 * flops / cells[s]['seconds'] / 1e9 / peak:.0f}%)"
                  if s in cells else "-" for s in systems]
        out.append(f"| {label} | {nt} | {peak:.0f} GFLOP/s | {flops / 1e9:.2f} | {at_peak * 1e3:.0f} ms | {allows} | "
                   + " | ".join(speeds) + " |")
    return out


def markdown(rows):
    """The epoch times side by side with the ratios and targets, then each system's final loss and
    accuracies; skipped peers with their reason below."""
    done = [r for r in rows if not r["skipped"]]
    samples = done[0]["samples"] if done else FULL_SAMPLES
    reps = sorted({r["repeats"] for r in done})
    how = ("" if samples == FULL_SAMPLES else
           f"; quick mode: measured on {samples}-sample epochs and scaled x{FULL_SAMPLES / samples:g}")
    systems = [s for s in SYSTEMS if any(r["system"] == s for r in rows)]
    peers = [s for s in systems if s != "nnfast"]
    verdict = {(case, nt, peer): (ratio, target, met) for case, nt, peer, ratio, target, met in target_verdicts(rows)}
    out = [f"\n**Time per {FULL_SAMPLES}-sample epoch** (median of {'/'.join(map(str, reps)) or '-'} epochs after "
           f"a warm-up epoch{how}; x = peer time / nnfast time, target: >= "
           + ", ".join(f"{TARGETS[p]:g}x vs {p}" for p in peers if p in TARGETS) + ")\n",
           "| model | threads | " + " | ".join(systems) + " | " + " | ".join(f"x {p} (target)" for p in peers)
           + " | nnfast path |",
           "|" + "---|" * (3 + len(systems) + len(peers))]
    keys = list(dict.fromkeys((r["case"], r["threads"]) for r in rows))
    for case, nt in keys:
        cells = {r["system"]: r for r in rows if (r["case"], r["threads"]) == (case, nt)}
        times = [_time_cell(cells[s]) if s in cells else "-" for s in systems]
        plain = {(c, n, p): r for c, n, p, r in ratios(rows)}  # a model without a target: its ratio alone
        marks = [_ratio_cell(*verdict[(case, nt, p)]) if (case, nt, p) in verdict
                 else f"{plain[(case, nt, p)]:.2f}x (no target)" if (case, nt, p) in plain else "-" for p in peers]
        base = cells.get("nnfast")
        path = base["path"] if base is not None and not base["skipped"] else "-"
        out.append(f"| {case} | {nt} | " + " | ".join(times + marks) + f" | {path} |")
    out += _peak_table(done, systems)
    out += ["\n**Equal work** (epochs trained, the warm-up and any run again after a failed placement check "
            "included; the last epoch's training loss and accuracy; accuracy on held-out samples)\n",
            "| model | threads | system | epochs | loss | accuracy | held-out accuracy |",
            "|---|---|---|---|---|---|---|"]
    out += [f"| {r['case']} | {r['threads']} | {r['system']} | {r.get('epochs', '-')} | {r['loss']:.4f} "
            f"| {r['accuracy']:.4f} | {r['test_accuracy']:.4f} |" for r in done]
    reasons = sorted({f"{r['system']}: {r['reason']}" for r in rows if r["skipped"]})
    if reasons:
        out.append("\nSkipped: " + "; ".join(reasons) + ".")
    return "\n".join(out)
