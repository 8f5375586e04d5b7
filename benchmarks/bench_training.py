"""pytest-benchmark suite for whole training loops: `pytest benchmarks/bench_training.py`.

The training section's three workloads, with 1 and 2 threads, for nnfast beside the from-scratch
NumPy MLP and, when installed, PyTorch eager, Keras 3 and scikit-learn's MLPClassifier:
one epoch of MLP 784-128-10 with Adam at batch 32 and 128 (6000 synthetic samples of
Fashion-MNIST's shape per round, after a 1000-sample warm-up; extra_info gives the time scaled to a
60000-sample epoch), one full-batch step of the seed notes' 2-3-1 network, and a 5-epoch digits run
(64-64-10, Adam, batch 32) from a fresh model each round (extra_info: test accuracy). The
side-by-side Markdown table comes from `python -m nnfast bench --sections training`.
"""
import pytest

from nnfast.apps.bench import training as section
from nnfast.apps.bench.timing import threads

EPOCH_SAMPLES = 6000
DIGITS_EPOCHS = 5


@pytest.mark.parametrize("nthreads", (1, 2))
@pytest.mark.parametrize("batch_size", section.BATCH_SIZES)
@pytest.mark.parametrize("system", section.SYSTEMS)
def test_mlp_epoch(benchmark, system, batch_size, nthreads):
    x, y = section.epoch_data(EPOCH_SAMPLES)
    with threads(nthreads):
        trainer, reason = section.mlp_trainer(system, (784, 128, 10), batch_size)
        if trainer is None:
            pytest.skip(reason)
        trainer.epoch(x[:section.WARMUP_SAMPLES], y[:section.WARMUP_SAMPLES])
        benchmark.pedantic(trainer.epoch, args=(x, y), rounds=3, warmup_rounds=0)
    benchmark.extra_info.update(samples=EPOCH_SAMPLES, threads=nthreads, batch_size=batch_size,
                                seconds_per_60000=benchmark.stats.stats.median * section.FULL_SAMPLES / EPOCH_SAMPLES)


@pytest.mark.parametrize("nthreads", (1, 2))
@pytest.mark.parametrize("system", section.SEED_SYSTEMS)
def test_seed_network_step(benchmark, system, nthreads):
    with threads(nthreads):
        fn, reason = section.seed_step_function(system)
        if fn is None:
            pytest.skip(reason)
        benchmark.pedantic(fn, rounds=200, warmup_rounds=5)
    benchmark.extra_info.update(threads=nthreads)


@pytest.mark.parametrize("nthreads", (1, 2))
@pytest.mark.parametrize("system", section.SYSTEMS)
def test_digits_run(benchmark, system, nthreads):
    from nnfast import datasets
    try:
        (xt, yt), (xv, yv) = datasets.load_digits(seed=0)
    except ImportError as err:
        pytest.skip(str(err))
    with threads(nthreads):
        warm, reason = section.mlp_trainer(system, (64, 64, 10), 32, seed=1)
        if warm is None:
            pytest.skip(reason)
        warm.train(xt, yt, 1)
        trainers = []

        def setup():  # a fresh model per round, built outside the timed call
            trainers.append(section.mlp_trainer(system, (64, 64, 10), 32, seed=0)[0])
            return (trainers[-1], xt, yt, DIGITS_EPOCHS), {}
        benchmark.pedantic(lambda t, x, y, e: t.train(x, y, e), setup=setup, rounds=3)
    benchmark.extra_info.update(threads=nthreads, epochs=DIGITS_EPOCHS,
                                test_accuracy=trainers[-1].accuracy(xv, yv))
