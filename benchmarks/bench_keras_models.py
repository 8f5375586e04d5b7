"""pytest-benchmark suite for the Keras models section: `pytest benchmarks/bench_keras_models.py`.

The issue's two models, and a third, as a Keras user writes them, with 1 and 2 threads, for nnfast
(`import nnfast.keras as keras`) beside, when installed, the same program on Keras 3 and the
equivalent PyTorch eager loop: the lecture notes' Fashion-MNIST model (Flatten, Dense 10 softmax,
Adam, batch 32) and the tabular MLP (three blocks of Dense 256, BatchNormalization, ReLU,
Dropout 0.3, then Dense 1 sigmoid, class_weight {0: 1, 1: 4}, batch 256), and a third model on
the tabular rows built from the newer Keras-face features (elu with a MaxNorm constraint,
GaussianNoise, swish, PReLU), which nnfast trains in its Python loop. 6000 synthetic samples
per round after a warm-up epoch; extra_info gives the time scaled to a 60000-sample epoch and the
last round's loss and accuracy. The side-by-side Markdown table with the ratios and the issue's
targets comes from `python -m nnfast bench --sections keras_models`.
"""
import pytest

from nnfast.apps.bench import keras_models as section
from nnfast.apps.bench.timing import threads

SAMPLES = 6000


@pytest.mark.parametrize("nthreads", (1, 2))
@pytest.mark.parametrize("model", section.MODELS)
@pytest.mark.parametrize("system", section.SYSTEMS)
def test_keras_model_epoch(benchmark, system, model, nthreads):
    x, y = section.model_data(model, SAMPLES)
    with threads(nthreads):
        program, reason = section.trainer(system, model)
        if program is None:
            pytest.skip(reason)
        program.epoch(x, y)  # the warm-up epoch
        loss, accuracy = benchmark.pedantic(program.epoch, args=(x, y), rounds=3, warmup_rounds=0)
    benchmark.extra_info.update(samples=SAMPLES, threads=nthreads, loss=loss, accuracy=accuracy,
                                seconds_per_60000=benchmark.stats.stats.median * section.FULL_SAMPLES / SAMPLES)
