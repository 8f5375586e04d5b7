"""pytest-benchmark suite for optimizer steps: `pytest benchmarks/bench_optimizers.py`.

Every optimizer at 1e3..1e7 float32 parameters and 100 tensors of 1e4, with 1 and 2 threads, for
nnfast beside the NumPy reference and torch.optim (fused, foreach) when installed. extra_info
carries GB/s (bytes per parameter: SGD 12, momentum/Adagrad/RMSprop 20, Adam 28). The side-by-side
Markdown table comes from `python -m nnfast bench --sections optimizers`.
"""
import pytest

from nnfast.apps.bench import optimizers as section
from nnfast.apps.bench.timing import threads

SIZES = ("1e3", "1e4", "1e5", "1e6", "1e7", "100x1e4")


@pytest.mark.parametrize("nthreads", (1, 2))
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("name", tuple(section.OPTIMIZERS))
@pytest.mark.parametrize("system", section.SYSTEMS)
def test_optimizer_step(benchmark, system, name, size, nthreads):
    sizes = section.SIZES[size]
    if system == "numpy-reference" and sum(sizes) > 10**6:
        pytest.skip("the NumPy reference at 1e7 takes seconds per step")
    fn = section.step_function(system, name, sizes)
    if fn is None:
        pytest.skip(f"{system} is not installed or has no such mode")
    nbytes = section.OPTIMIZERS[name][0] * sum(sizes)
    with threads(nthreads):
        benchmark.pedantic(fn, rounds=max(5, min(200, 10**8 // nbytes)), warmup_rounds=2)
    benchmark.extra_info.update(params=sum(sizes), tensors=len(sizes), threads=nthreads,
                                gbps=nbytes / benchmark.stats.stats.median / 1e9)
