"""The side-by-side report: machine, measured limits, then each requested section, as Markdown."""
import datetime
import os
import platform

from .. import config
from . import dense, limits, optimizers
from .timing import _optional

SECTIONS = {
    "optimizers": optimizers,
    "dense": dense,
}


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
    for name in ("numpy", "torch", "keras", "sklearn"):
        mod = _optional(name)
        peers.append(f"{name} {mod.__version__}" if mod else f"{name}: not installed (skipped)")
    return (f"- machine: {cpu}, {os.cpu_count()} logical cores, {platform.system()} {platform.machine()}\n"
            f"- nnfast {c['version']}: ISA {c['isa']} ({c['isa_features'].strip()}), "
            f"OpenMP {'on' if c['openmp'] else 'off'}, compiler {c['compiler']}\n"
            f"- peers: {', '.join(peers)}\n"
            f"- date: {datetime.datetime.now().isoformat(timespec='seconds')}")


def limits_table(thread_counts):
    lines = ["| threads | in-place stream, 1e7 fp32 x 4 arrays (GB/s) | in-place stream, 1e6 (GB/s) | fp32 FMA peak (GFLOP/s) |",
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


def build(sections=tuple(SECTIONS), thread_counts=(1, 2), quick=False):
    """The whole report as Markdown text."""
    parts = ["# nnfast benchmark report", "", machine_description(), "",
             "Medians over repeats after warm-up; ratios are peer time / nnfast time (above 1: nnfast "
             "is faster). Peers that are not installed are listed as skipped.", "",
             "## Machine limits (measured with native probes)", ""]
    table, _ = limits_table(thread_counts)
    parts.append(table)
    for name in sections:
        module = SECTIONS[name]
        kwargs = dict(thread_counts=thread_counts)
        if quick:
            kwargs.update(sizes=module.QUICK_SIZES, max_total_time=0.3)
        rows = module.run(**kwargs)
        parts += ["", f"## {name}", "", module.__doc__.strip(), module.markdown(rows)]
    return "\n".join(parts) + "\n"
