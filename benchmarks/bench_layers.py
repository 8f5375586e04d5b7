"""pytest-benchmark suite for batch normalization and dropout: `pytest benchmarks/bench_layers.py`.

float32 BatchNormalization in training (statistics, moving statistics) and Dropout(0.3), forward and
backward, at 32x128, 256x256 (the tabular Keras model's blocks) and 1024x1024, with 1 and 2 threads,
for nnfast's `nnfast.ops` kernels beside a literal NumPy implementation and torch (`F.batch_norm`,
`F.dropout`, autograd) when installed. extra_info carries the effective bandwidth (the bytes a pass
must read and write, over its median time). The side-by-side Markdown table, with the share of the
in-place memory stream, comes from `python -m nnfast bench --sections layers`.
"""
import pytest

from nnfast.apps.bench import layers as section
from nnfast.apps.bench.timing import threads


@pytest.mark.parametrize("nthreads", (1, 2))
@pytest.mark.parametrize("kind", tuple(section.KINDS))
@pytest.mark.parametrize("size", tuple(section.SIZES))
@pytest.mark.parametrize("system", section.SYSTEMS)
def test_layer_pass(benchmark, system, size, kind, nthreads):
    rows, cols = section.SIZES[size]
    fn, reason = section.layer_function(system, kind, rows, cols)
    if fn is None:
        pytest.skip(reason)
    with threads(nthreads):
        benchmark.pedantic(fn, rounds=max(5, min(200, int(2e8 // (rows * cols)))), warmup_rounds=2)
    benchmark.extra_info.update(rows=rows, features=cols, threads=nthreads,
                                gb_per_s=section.pass_bytes(kind, rows, cols) / benchmark.stats.stats.median / 1e9)
