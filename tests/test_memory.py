"""Long runs leave the resident memory flat (issue #17, item 6): 10^5 training steps and 10^5
optimizer calls, after a warm-up, grow the process's RSS by less than 1 MB. A leak of 10 bytes
per step would show. Small models, so the whole file takes seconds (the native multi-step path
runs 256 steps per call)."""
import gc
import os

import numpy as np
import pytest

import nnfast

STEPS = 100_000
SLACK = 1 << 20  # 1 MB


def rss():
    """Resident set size of this process in bytes (Linux /proc, else psutil)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, AttributeError):
        psutil = pytest.importorskip("psutil")
        return psutil.Process().memory_info().rss


def assert_flat(run_chunk, chunks, what):
    """Run a warm-up chunk, then `chunks` more, sampling RSS after each (after a gc)."""
    run_chunk()
    gc.collect()
    baseline = rss()
    samples = []
    for _ in range(chunks):
        run_chunk()
        gc.collect()
        samples.append(rss() - baseline)
    assert max(samples) < SLACK, f"{what}: RSS grew by {[s // 1024 for s in samples]} KB after the warm-up"


def test_training_steps_leave_rss_flat():
    """10^5 steps through fit's native runs (a Dense stack with BatchNormalization, Dropout and
    accuracy), 8 samples a step."""
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(2000, 6)).astype(np.float32), rng.integers(0, 3, 2000)
    model = nnfast.Sequential([nnfast.layers.Dense(8, activation="relu", input_dim=6),
                               nnfast.layers.BatchNormalization(), nnfast.layers.Dropout(0.1),
                               nnfast.layers.Dense(3, activation="softmax")], seed=1)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    steps_per_epoch, epochs = 250, 40
    assert model.native_planner is None  # made by fit: checked below

    def chunk():
        model.fit(x, y, batch_size=8, epochs=epochs, verbose=0)
    assert_flat(chunk, STEPS // (steps_per_epoch * epochs), "fit")
    assert model.native_planner is not None  # the steps ran natively
    assert model.optimizer.iterations == STEPS + steps_per_epoch * epochs


def test_python_loop_steps_leave_rss_flat():
    """Steps of the general Python loop (an Add graph), one train_on_batch each."""
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(16, 5)).astype(np.float32), rng.integers(0, 2, 16)
    inputs = nnfast.Input((5,))
    h = nnfast.layers.Add()([nnfast.layers.Dense(4, activation="tanh")(inputs), nnfast.layers.Dense(4)(inputs)])
    model = nnfast.Model(inputs, nnfast.layers.Dense(2, activation="softmax")(h), seed=2)
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy")

    def chunk():
        for _ in range(2000):
            model.train_on_batch(x, y)
    assert_flat(chunk, 10, "train_on_batch")
    assert model.native_planner is None  # the Python loop, not the one-call step


@pytest.mark.parametrize("name", ["adam", "sgd", "nadam", "ftrl"])
def test_optimizer_calls_leave_rss_flat(name):
    """10^5 calls of an optimizer's apply on two small tensors (state, clipping-free path)."""
    opt = nnfast.optimizers.get(name)
    rng = np.random.default_rng(2)
    params = [rng.normal(size=(10, 7)).astype(np.float32), rng.normal(size=7).astype(np.float32)]
    grads = [rng.normal(size=p.shape).astype(np.float32) * 1e-3 for p in params]
    calls = 10_000

    def chunk():
        for _ in range(calls):
            opt.apply(params, grads)
    assert_flat(chunk, STEPS // calls, name)
    assert opt.iterations == STEPS + calls
