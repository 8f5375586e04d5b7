"""nnfast: fast small-network training on the CPU.

C++ kernels (SIMD chosen at import, OpenMP) under a Keras-like Python layer. Every native op in
``nnfast.ops`` has a pure-NumPy twin in ``nnfast.reference`` that defines the right answer.
"""
import contextlib
import os

from . import (
    _core,
    activations,
    callbacks,
    compat,
    datasets,
    initializers,
    layers,
    losses,
    metrics,
    models,
    ops,
    optimizers,
    preprocessing,
    reference,
    regularizers,
)
from .models import Input, Model, Sequential, load_model
from .utils import checks, subnormals

__version__ = _core.__version__

__all__ = ["ops", "reference", "optimizers", "compat", "initializers", "regularizers", "losses", "activations",
           "metrics", "callbacks", "layers", "models", "datasets", "preprocessing", "Sequential", "Model", "Input",
           "load_model", "show_config", "config", "set_num_threads", "get_num_threads", "set_flush_denormal",
           "get_flush_denormal", "flush_denormal", "get_include", "__version__"]


def set_num_threads(n):
    """Set the number of threads native kernels may use (n >= 1).

    Small problems stay on one thread whatever the setting. Without OpenMP in the build this is
    accepted and ignored: get_num_threads() then returns 1.
    """
    _core.set_num_threads(n)


def get_num_threads():
    """The number of threads native kernels may use (1 when the build has no OpenMP)."""
    return _core.get_num_threads()


def get_include():
    """The folder holding nnfast's C API header, nnfast/nnfast.h: add it to a C, C++ or Cython
    extension's include path (as numpy.get_include()). docs/capi.md has the guide."""
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "include")


def set_flush_denormal(on):
    """Flush subnormal floats to zero in every kernel and in nnfast.reference (True, the default,
    as TensorFlow does), or keep IEEE gradual underflow (False).

    Flushing keeps values that decay below the smallest normal float (1.2e-38 in float32) from
    slowing training down many times; docs/design.md ("Numerics") defines what is flushed. The
    setting is process-wide; the caller's own floating-point mode is never changed. Where the CPU
    has no flush control (neither x86 nor AArch64) it stays False.
    """
    _core.set_flush_denormal(checks.flag("on", on))
    subnormals.set_enabled(_core.get_flush_denormal())


def get_flush_denormal():
    """Whether kernels and reference flush subnormals to zero (see set_flush_denormal)."""
    return _core.get_flush_denormal()


@contextlib.contextmanager
def flush_denormal(on):
    """Run a block with set_flush_denormal(on), restoring the setting afterwards."""
    before = get_flush_denormal()
    set_flush_denormal(on)
    try:
        yield
    finally:
        set_flush_denormal(before)


subnormals.set_enabled(_core.get_flush_denormal())


def config():
    """Facts about this build as a dict (what show_config prints)."""
    info = dict(_core.build_info())
    info["num_threads"] = get_num_threads()
    info["flush_denormal"] = get_flush_denormal()
    return info


def show_config():
    """Print the version, compiler and flags, ISA levels, OpenMP status, thread count, whether
    subnormals are flushed to zero, the detected caches and the GEMM blocking chosen from them."""
    c = config()
    flags = "\n".join("    " + line for line in c["isa_flags"].strip().splitlines())
    openmp = "yes" if c["openmp"] else "no (every kernel runs on one thread)"
    print(f"nnfast {c['version']}\n"
          f"  compiler:        {c['compiler']} ({c['build_type']}, {c['processor']})\n"
          f"  flags per ISA level:\n{flags}\n"
          f"  ISA built:       {', '.join(c['isa_built'])}\n"
          f"  ISA supported:   {', '.join(c['isa_supported'])}\n"
          f"  ISA chosen:      {c['isa']} (compiled for: {c['isa_features'].strip() or 'baseline'})\n"
          f"  OpenMP:          {openmp}\n"
          f"  threads:         {c['num_threads']} of {c['max_threads']} "
          f"(one thread below {c['min_work_per_thread']} operations per thread)\n"
          f"  subnormals:      {_flush_text(c)}\n"
          f"{_gemm_text(c)}")


def _gemm_text(c):
    k = c["caches"]
    lines = [f"  caches:          L1d {k['l1d'] // 1024} KiB ({k['l1d_ways']}-way), L2 {k['l2'] // 1024} KiB, "
             f"L3 {k['l3'] // 1024} KiB ({k['l3_per_core'] // 1024} KiB per core; from {k['source']})",
             "  GEMM tile rows:  " + _tile_text(c),
             "  GEMM blocking:   " + ("NNFAST_BLOCKING=" + c["blocking_override"] if c["blocking_override"]
                                     else "derived from the caches")]
    for dtype, b in c["gemm_blocking"].items():
        lines.append(f"    {dtype}: MR x NR {b['mr']} x {b['nr']}, KC {b['kc']}, MC {b['mc']}, NC {b['nc']}")
    lines.append("  sparse inputs:   " + _sparse_text(c))
    return "\n".join(lines)


def _sparse_text(c):
    if not c["sparse_inputs"]:
        state = "off (every Dense product runs the packed GEMM)"
    elif c["isa"] == "avx512":
        state = ("on: float32 Dense products skip the zeros of an input that is mostly zeros, taking "
                 f"the terms' entries by {c['sparse_terms']}")
    elif c["isa"] == "avx2":
        state = "on: float32 Dense products skip the zeros of an input that is mostly zeros"
    else:
        state = f"on, but the {c['isa']} level has no kernel for it (the avx2 and avx512 levels have)"
    origin = "NNFAST_SPARSE_INPUTS=" + c["sparse_inputs_override"] if c["sparse_inputs_override"] else "default"
    return f"{state} ({origin})"


def _tile_text(c):
    chosen = c["gemm_blocking"]["float32"]["mr"]
    origin = ("NNFAST_GEMM_MR=" + c["gemm_tile_override"] if c["gemm_tile_override"]
              else "chosen for this CPU")
    return f"{chosen} of {', '.join(map(str, c['gemm_tiles']))} built ({origin})"


def _flush_text(c):
    if c["flush_denormal"]:
        return "flushed to zero (FTZ/DAZ; nnfast.set_flush_denormal(False) keeps them)"
    if c["flush_denormal_supported"]:
        return "kept (IEEE gradual underflow; nnfast.set_flush_denormal(True) flushes them)"
    return "kept (IEEE gradual underflow; this CPU has no flush control nnfast can set)"
