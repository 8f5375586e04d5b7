"""The side-by-side report: machine, measured limits, then each requested section, as Markdown;
optionally one bar chart per section of the ratios peer time / nnfast time (needs matplotlib)."""
import contextlib
import dataclasses
import datetime
import importlib.metadata
import inspect
import os
import platform
import sys

from nnfast import config

from . import (capi, dense, keras_models, layers, limits, optimizers, sklearn_models, subnormal, timing, torch_optim,
               training)
from .jax_peer import description as jax_description
from .progress import Progress
from .timing import optional_import

SECTIONS = {
    "optimizers": optimizers,
    "dense": dense,
    "layers": layers,
    "training": training,
    "keras_models": keras_models,
    "subnormal": subnormal,
    "torch_optim": torch_optim,
    "sklearn": sklearn_models,
    "capi": capi,
}
# quick mode: each section's QUICK_SIZES and this time budget per measurement (seconds)
QUICK_MAX_TOTAL_TIME = 0.15


def machine_description():
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            names = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    c = config()
    peers = []
    for name in ("numpy", "torch", "keras", "sklearn", "jax"):
        if name == "jax":
            peers.append(jax_description())
        elif name == "keras":  # Keras needs a backend chosen before its import
            peers.append(training.keras_description())
        elif name == "sklearn" and "sklearn" not in sys.modules:
            try:  # importing scikit-learn takes a second: its version is enough here
                peers.append(f"sklearn {importlib.metadata.version('scikit-learn')}")
            except importlib.metadata.PackageNotFoundError:
                peers.append("sklearn: not installed (skipped)")
        else:
            mod = optional_import(name)
            peers.append(f"{name} {mod.__version__}" if mod else f"{name}: not installed (skipped)")
    return (f"- machine: {cpu}, {os.cpu_count()} logical cores, {platform.system()} {platform.machine()}\n"
            f"- nnfast {c['version']}: ISA {c['isa']} ({c['isa_features'].strip()}), "
            f"OpenMP {'on' if c['openmp'] else 'off'}, compiler {c['compiler']}\n"
            f"- peers: {', '.join(peers)}\n"
            f"- date: {datetime.datetime.now().isoformat(timespec='seconds')}")


def limits_table(thread_counts):
    lines = ["| threads | in-place stream, 1e7 fp32 x 4 arrays (GB/s) | in-place stream, 1e6 (GB/s) "
             "| fp32 FMA peak (GFLOP/s) |",
             "|---|---|---|---|"]
    from .timing import threads
    measured = {}
    for nt in thread_counts:
        with threads(nt):
            big = 28 * 10**7 / limits.inplace_stream_seconds(10**7, 3) / 1e9
            small = 28 * 10**6 / limits.inplace_stream_seconds(10**6, 3) / 1e9
            peak = limits.fma_peak_gflops(nt)
        measured[nt] = dict(stream_dram=big, stream_cache=small, fma_peak=peak)
        lines.append(f"| {nt} | {big:.1f} | {small:.1f} | {peak:.1f} |")
    return "\n".join(lines), measured


@contextlib.contextmanager
def _fixed_repeats(module, repeats):
    """Within the block, every `measure` (and `measure_together`) call of a section module that has
    no `repeats` parameter times exactly `repeats` repeats (at least 3, as measure requires),
    whatever its time budget."""
    names = [name for name in ("measure", "measure_together") if hasattr(module, name)]
    originals = {name: getattr(module, name) for name in names}

    def fixed(name):
        def call(fn, **kwargs):
            kwargs.update(repeats=repeats, max_total_time=1e12)  # no time cap: exactly `repeats`
            return getattr(timing, name)(fn, **kwargs)
        return call
    for name in names:
        setattr(module, name, fixed(name))
    try:
        yield
    finally:
        for name, original in originals.items():
            setattr(module, name, original)


def run_section(name, thread_counts=(1, 2), quick=False, repeats=None):
    """The rows of one section, with the report's quick-mode sizes and time budget."""
    module = SECTIONS[name]
    kwargs = dict(thread_counts=thread_counts)
    if quick:
        kwargs.update(sizes=module.QUICK_SIZES, max_total_time=QUICK_MAX_TOTAL_TIME)
    if repeats is not None and repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    accepts = "repeats" in inspect.signature(module.run).parameters
    if repeats is not None and accepts:
        kwargs["repeats"] = repeats
    with (_fixed_repeats(module, repeats) if repeats is not None and not accepts else contextlib.nullcontext()):
        return module.run(**kwargs)


def _generic_ratios(rows):
    """[(label, threads, peer, peer us / nnfast us)] for sections whose rows carry `us`: a row's case is
    its text fields other than system and reason."""
    def key(r):
        return tuple(str(v) for k, v in r.items() if isinstance(v, str) and k not in ("system", "reason"))
    base = {(key(r), r["threads"]): r for r in rows if r["system"] == "nnfast" and not r["skipped"]}
    out = []
    for r in rows:
        b = base.get((key(r), r["threads"]))
        if r["system"] != "nnfast" and not r["skipped"] and b is not None:
            out.append((" ".join(key(r)), r["threads"], r["system"], r["us"] / b["us"]))
    return out


def ratios(name, rows):
    """[(case label, threads, peer, peer time / nnfast time)] of one section's rows."""
    module = SECTIONS[name]
    return module.ratios(rows) if hasattr(module, "ratios") else _generic_ratios(rows)


def write_chart(name, rows, path):
    """A PNG bar chart of the ratios peer time / nnfast time, one panel per thread count (log scale;
    right of the line at 1, nnfast is faster). Returns the path, or None when nothing was measured."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib import ticker
    except ImportError as err:
        raise ImportError("bar charts need matplotlib: pip install 'nnfast[plot]'") from err
    import numpy as np
    pairs = ratios(name, rows)
    if not pairs:
        return None
    thread_counts = sorted({t for _, t, _, _ in pairs})
    peers = list(dict.fromkeys(p for _, _, p, _ in pairs))
    labels = list(dict.fromkeys(label for label, _, _, _ in pairs))
    value = {(label, t, p): v for label, t, p, v in pairs}
    height = 1.6 + 0.16 * len(labels) * len(peers) + 0.12 * len(labels)
    fig, axes = plt.subplots(1, len(thread_counts), figsize=(5.5 * len(thread_counts) + 2.5, height),
                             sharey=True, squeeze=False)
    bar = 0.8 / len(peers)
    pos = np.arange(len(labels))
    finite = [v for v in value.values() if v > 0]
    lo, hi = min(finite + [1.0]), max(finite + [1.0])
    for ax, t in zip(axes[0], thread_counts):
        for j, peer in enumerate(peers):
            vals = np.array([value.get((label, t, peer), np.nan) for label in labels])
            ys = pos + (j - (len(peers) - 1) / 2) * bar
            # bars grow from 1: right for peers slower than nnfast, left for faster ones
            ax.barh(ys, vals - 1.0, height=bar, left=1.0, label=peer, color=f"C{j}")
            for y, v in zip(ys, vals):
                if np.isfinite(v):
                    ax.annotate(f"{v:.2g}", (v, y), xytext=(2 if v >= 1 else -2, 0), textcoords="offset points",
                                ha="left" if v >= 1 else "right", va="center", fontsize=6)
        ax.axvline(1.0, color="black", linewidth=1)
        ax.set_xscale("log")
        ax.set_xlim(min(lo, 1.0) / 1.8, max(hi, 1.0) * 1.8)
        ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}"))
        ax.set_title(f"{t} thread{'s' if t > 1 else ''}")
        ax.set_xlabel("peer time / nnfast time (right of 1: nnfast faster)")
        ax.grid(axis="x", which="both", alpha=0.3)
    axes[0][0].set_yticks(pos)
    axes[0][0].set_yticklabels(labels)
    axes[0][0].invert_yaxis()
    axes[0][-1].legend(loc="best", fontsize="small")
    fig.suptitle(f"nnfast bench: {name}")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _skipped_note(rows, text):
    """'Skipped: ...' for rows the section's own Markdown does not already list."""
    if "Skipped" in text:
        return ""
    systems = sorted({r["system"] + (f" ({r['reason']})" if r.get("reason") else
                                     " (not installed, or not offered for the cells marked skipped)")
                      for r in rows if r["skipped"]})
    return "\nSkipped: " + "; ".join(systems) + "." if systems else ""


def build(sections=tuple(SECTIONS), thread_counts=(1, 2), quick=False, repeats=None, charts=None,
          progress_stream=None):
    """The whole report as Markdown text; with `charts` (a folder), also one PNG bar chart of the
    ratios per section, named after the section; with `progress_stream` (sys.stderr for the command
    line), progress lines there while it runs (progress.py)."""
    if charts is not None:
        os.makedirs(charts, exist_ok=True)
    progress = (Progress(("limits",) + tuple(sections), thread_counts, quick=quick, stream=progress_stream)
                if progress_stream is not None else contextlib.nullcontext())
    with progress:
        return _build(sections, thread_counts, quick, repeats, charts, progress)


def _build(sections, thread_counts, quick, repeats, charts, progress):
    begin = getattr(progress, "begin_section", lambda name: None)
    parts = ["# nnfast benchmark report", "", machine_description(), "",
             "Medians over repeats after warm-up; ratios are peer time / nnfast time (above 1: nnfast "
             "is faster). Each measurement starts after a pause of "
             f"{timing.settle_seconds()} s, so worker threads another library left spinning "
             "have gone to sleep. Peers that are not installed are listed as skipped.", "",
             "## Machine limits (measured with native probes)", ""]
    checks_before = dataclasses.replace(timing.placement)
    begin("limits")
    table, _ = limits_table(thread_counts)
    parts.append(table)
    for name in sections:
        module = SECTIONS[name]
        begin(name)
        rows = run_section(name, thread_counts, quick=quick, repeats=repeats)
        text = module.markdown(rows)
        parts += ["", f"## {name}", "", module.__doc__.strip(), text + _skipped_note(rows, text)]
        if charts is not None:
            path = write_chart(name, rows, os.path.join(charts, f"{name}.png"))
            if path:
                parts += ["", f"Chart of the ratios: `{path}`"]
    parts += ["", placement_note(checks_before, timing.placement)]
    return "\n".join(parts) + "\n"


def placement_note(before, after):
    """What the measurements' placement checks (timing.await_full_placement) did."""
    checks, retries, gave_up = (after.checks - before.checks, after.retries - before.retries,
                                after.gave_up - before.gave_up)
    discarded = after.discarded - before.discarded
    if not checks:
        return "Placement checks: none (no settle pause)."
    share = f"{timing.FULL_PLACEMENT_SHARE:.0%}"
    return (f"Placement checks: each of the {checks} measurements (in keras_models, each timed epoch) "
            "started once a short FMA probe on its "
            f"threads read at least {share} of the best such probe on that thread count (after an idle "
            "pause, the host of a shared machine sometimes gives the threads about half their cores "
            f"for as long as they stay busy); {retries} probes read less and were retried after a "
            f"pause, and {gave_up} measurements started after {timing.MAX_PLACEMENT_TRIES} tries "
            "without it. In keras_models a probe also follows each timed epoch: "
            f"{discarded} epochs after which it read less were discarded and run again."
            + handoff_note(before, after))


def handoff_note(before, after):
    """The hand-off part of the placement checks, when a pass ran on 2 threads or more."""
    if after.handoff_best == float("inf"):
        return ""
    return (f" On 2 threads the checks also waited until a 2-thread team's empty hand-off between the "
            f"cores read at most {timing.HANDOFF_SLOWDOWN:g}x the best seen ({after.handoff_best * 1e9:.0f} ns; "
            "the host sometimes places the two vCPUs far apart, and every parallel part pays it): "
            f"{after.far_apart - before.far_apart} probes read more.")
