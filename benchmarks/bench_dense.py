"""pytest-benchmark suite for the GEMM and the Dense layer: `pytest benchmarks/bench_dense.py`.

float32 GEMM (M x K) @ (K x N) on squares 64..2048, and a relu Dense layer with bias, forward +
backward (dx, dw, db), at the training shapes and at 256x256x256 with an input of 35% nonzeros (a
hidden layer after relu and dropout, whose zeros nnfast skips), with 1 and 2 threads, for nnfast beside NumPy
(OpenBLAS `@`, and a literal NumPy Dense layer) and torch (`torch.mm`; autograd through `F.linear`
+ `relu`) when installed. extra_info carries GFLOP/s (2MKN flops per GEMM, 6MKN per forward +
backward). The side-by-side Markdown table, with the share of the FMA peak, comes from
`python -m nnfast bench --sections dense`.
"""
import pytest

from nnfast.apps.bench import dense as section
from nnfast.apps.bench.timing import threads

SQUARES = tuple(f"{s}x{s}x{s}" for s in section.SQUARES)


def _rounds(flops):
    return max(5, min(200, int(2e10 // flops)))


@pytest.mark.parametrize("nthreads", (1, 2))
@pytest.mark.parametrize("size", SQUARES)
@pytest.mark.parametrize("system", section.SYSTEMS)
def test_gemm(benchmark, system, size, nthreads):
    m, k, n = section.SIZES[size]
    fn, reason = section.gemm_function(system, m, k, n)
    if fn is None:
        pytest.skip(reason)
    flops = 2 * m * k * n
    with threads(nthreads):
        benchmark.pedantic(fn, rounds=_rounds(flops), warmup_rounds=2)
    benchmark.extra_info.update(m=m, k=k, n=n, threads=nthreads,
                                gflops=flops / benchmark.stats.stats.median / 1e9)


@pytest.mark.parametrize("nthreads", (1, 2))
@pytest.mark.parametrize("size", section.TRAINING + tuple(section.SPARSE_INPUTS))
@pytest.mark.parametrize("system", section.SYSTEMS)
def test_dense_forward_backward(benchmark, system, size, nthreads):
    m, k, n = section.SIZES[size]
    density = section.SPARSE_INPUTS[size][3] if size in section.SPARSE_INPUTS else 1.0
    fn, reason = section.dense_function(system, "fwd+bwd", m, k, n, density=density)
    if fn is None:
        pytest.skip(reason)
    flops = section.PASSES["fwd+bwd"] * m * k * n
    with threads(nthreads):
        benchmark.pedantic(fn, rounds=_rounds(flops), warmup_rounds=2)
    benchmark.extra_info.update(m=m, k=k, n=n, threads=nthreads, activation="relu", bias=True, x_nonzero=density,
                                gflops=flops / benchmark.stats.stats.median / 1e9)
