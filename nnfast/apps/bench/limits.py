"""The machine's limits, measured with native probes: in-place memory bandwidth (what an optimizer
step cannot beat) and the fp32 FMA peak (what a GEMM cannot beat)."""
import functools

import numpy as np

from nnfast import _core

from .timing import fma_gflops, measure


def inplace_stream_function(size, arrays_updated):
    """A zero-argument callable making one pass that reads a gradient-like array and updates
    `arrays_updated` arrays of `size` float32 in place (the traffic of an optimizer step with that
    many in-place arrays, with next to no arithmetic)."""
    rw = [np.full(size, 1.0, np.float32) for _ in range(arrays_updated)]
    ro = np.full(size, 1e-3, np.float32)
    return lambda: _core.stream_inplace(rw, ro, 1e-3)


def inplace_stream_seconds(size, arrays_updated):
    """Median seconds of one inplace_stream_function pass."""
    return measure(inplace_stream_function(size, arrays_updated)).median


def fma_peak_gflops(threads, seconds=0.2):
    """Measured fp32 multiply-add throughput of `threads` threads, in GFLOP/s (the best of 5)."""
    iters = 100_000
    while True:  # size the run to about `seconds`
        t = measure(functools.partial(_core.fma_loop, iters, threads), repeats=3, warmup=1).median
        if t >= seconds / 5 or iters > 10**10:
            break
        iters *= 4
    best = min(measure(functools.partial(_core.fma_loop, iters, threads), repeats=5, warmup=0).q1, t)
    return fma_gflops(iters, threads, best)
