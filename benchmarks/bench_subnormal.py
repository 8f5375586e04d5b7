"""pytest-benchmark suite for subnormal floats: `pytest benchmarks/bench_subnormal.py`.

The subnormal section's two workloads with nnfast's flush-to-zero on (the default) and off (IEEE),
beside PyTorch (and, for the step, the NumPy reference as plain IEEE NumPy): one epoch of the MLP
784-128-10 with Adam, batch 32, 1 thread, on learnable labels (x uniform in [0, 1), y = argmax of
the first 10 features) and on the same data centered (no subnormals), 6000 samples per round after
six warm-up epochs, ~1100 steps (extra_info: the time scaled to 60000 samples); and one Adam step over 1e6
float32 parameters from subnormal and from normal moments (the state restored before each round).
The side-by-side table with the ratios comes from `python -m nnfast bench --sections subnormal`.
"""
import pytest

import nnfast
from nnfast.apps.bench import subnormal as section
from nnfast.apps.bench.timing import threads

EPOCH_SAMPLES = 6000
DATA = ("learnable", "normal")


@pytest.mark.parametrize("data", DATA)
@pytest.mark.parametrize("system", tuple(section.SYSTEMS))
def test_learnable_label_epoch(benchmark, system, data):
    x, y = section.learnable_data(EPOCH_SAMPLES, centered=data == "normal")
    trainer_system, flush = section.SYSTEMS[system]
    with threads(1), nnfast.flush_denormal(bool(flush)):
        trainer, reason = section.mlp_trainer(trainer_system, (784, 128, 10), section.BATCH_SIZE)
        if trainer is None:
            pytest.skip(reason)
        for _ in range(section.QUICK_SIZES["warmup_epochs"]):
            trainer.epoch(x, y)
        benchmark.pedantic(trainer.epoch, args=(x, y), rounds=3, warmup_rounds=0)
    benchmark.extra_info.update(samples=EPOCH_SAMPLES, threads=1, data=data,
                                seconds_per_60000=benchmark.stats.stats.median * section.FULL_SAMPLES / EPOCH_SAMPLES)


@pytest.mark.parametrize("nthreads", (1, 2))
@pytest.mark.parametrize("moments", ("subnormal", "normal"))
@pytest.mark.parametrize("system", ("nnfast flush", "nnfast ieee", "torch", "numpy"))
def test_adam_step_over_decayed_moments(benchmark, system, moments, nthreads):
    step, reset, _ = section.adam_step(system, 10**6, moments == "subnormal")
    if step is None:
        pytest.skip(reset)
    with threads(nthreads), nnfast.flush_denormal(system != "nnfast ieee"):
        benchmark.pedantic(step, setup=reset, rounds=21, warmup_rounds=1)
    benchmark.extra_info.update(params=10**6, threads=nthreads, moments=moments)
