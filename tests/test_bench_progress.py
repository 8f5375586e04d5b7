"""`python -m nnfast bench` shows its progress on stderr (section, threads, case, elapsed time and
an estimate of what is left), and the training section's JAX peer and data kinds."""
import importlib.util
import io
import math

import numpy as np
import pytest

from nnfast.apps.bench import jax_peer, progress, report, timing, training

from conftest import run_python

HAS_JAX = importlib.util.find_spec("jax") is not None and importlib.util.find_spec("optax") is not None
needs_jax = pytest.mark.skipif(not HAS_JAX, reason="jax and optax are not installed")


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def _progress(sections=("limits", "optimizers", "training"), thread_counts=(1, 2), quick=False, interval=5.0):
    clock, out = Clock(), io.StringIO()
    p = progress.Progress(sections, thread_counts, quick=quick, stream=out, interval=interval, clock=clock)
    return p, clock, out


def test_duration_format():
    assert [progress.duration(s) for s in (0, 42.4, 65, 3600 + 125, -3)] == ["0s", "42s", "1m05s", "1h02m", "0s"]


def test_lines_name_section_threads_case_and_times():
    p, clock, out = _progress()
    with p:
        p.begin_section("limits")
        clock.now += 6
        p.begin_section("optimizers")
        p.threads(1)
        p.case("sgd 1e5")
        clock.now += 3
        p.tick()  # within the interval: no line
        p.case("sgd 1e5")  # the same case: no line
        clock.now += 3
        p.tick()  # 6 s since the last line
    lines = out.getvalue().splitlines()
    assert all(line.startswith("[nnfast bench] ") for line in lines)
    assert "limits (1/3): starting; elapsed 0s" in lines[0]
    assert "optimizers (2/3): starting; elapsed 6s" in lines[1]
    assert lines[2].startswith("[nnfast bench] optimizers (2/3), 1 thread: sgd 1e5; elapsed 6s")
    assert "optimizers (2/3), 1 thread: sgd 1e5; elapsed 12s" in lines[3]
    assert lines[4] == "[nnfast bench] done: 2 section(s) in 12s"
    assert len(lines) == 5
    assert progress.active() is None


def test_estimate_from_priors_calibrated_by_finished_sections():
    p, clock, _ = _progress()
    prior = progress.PRIOR_SECONDS
    with p:
        p.begin_section("limits")
        want = 2 * (prior["limits"] + prior["optimizers"] + prior["training"])
        assert p.left() == pytest.approx(want)
        clock.now += 4 * prior["limits"]  # limits ran 2x slower than its prior (2 thread counts)
        p.begin_section("optimizers")
        assert p.section_left() == pytest.approx(2 * 2 * prior["optimizers"])
        assert p.left() == pytest.approx(2 * 2 * (prior["optimizers"] + prior["training"]))
        clock.now += 10
        assert p.section_left() == pytest.approx(2 * 2 * prior["optimizers"] - 10)


def test_estimate_from_the_first_thread_pass():
    p, clock, _ = _progress(sections=("optimizers",))
    with p:
        p.begin_section("optimizers")
        p.threads(1)
        for _ in range(10):  # ten measurements in 40 s
            p.tick()
            clock.now += 4
        p.threads(2)
        assert p.section_left() == pytest.approx(40)
        for _ in range(5):
            p.tick()
        clock.now += 30  # the estimate follows the measurements, not the clock
        assert p.section_left() == pytest.approx(20)
        assert p.left() == pytest.approx(20)


def test_quick_priors_scale_all_but_the_limits():
    p, _, _ = _progress(sections=("limits", "training"), thread_counts=(1,), quick=True)
    with p:
        p.begin_section("limits")
        assert p.left() == pytest.approx(progress.PRIOR_SECONDS["limits"]
                                         + progress.QUICK_FACTOR * progress.PRIOR_SECONDS["training"])


def test_timing_hooks_report_only_inside_a_run(monkeypatch):
    monkeypatch.setenv("NNFAST_BENCH_SETTLE", "0")
    timing.settle()  # no active progress: nothing happens
    timing.case("nothing")
    p, _, out = _progress(sections=("training",), interval=0.0)
    with p:
        p.begin_section("training")
        with timing.threads(1):
            timing.case("MLP epoch")
            timing.measure(lambda: None, repeats=3, max_total_time=0.01)
    text = out.getvalue()
    assert "training (1/1), 1 thread: MLP epoch;" in text and p.ticks == 1


def test_report_writes_progress_only_when_asked(monkeypatch, capsys):
    monkeypatch.setenv("NNFAST_BENCH_SETTLE", "0")
    monkeypatch.setattr(report, "limits_table", lambda thread_counts: ("limits", {}))
    buf = io.StringIO()
    text = report.build(("subnormal",), (1,), quick=True, repeats=1, progress_stream=buf)
    assert "## subnormal" in text
    lines = buf.getvalue().splitlines()
    assert lines[0].startswith("[nnfast bench] limits (1/2): starting")
    assert any(line.startswith("[nnfast bench] subnormal (2/2)") for line in lines)
    assert lines[-1].startswith("[nnfast bench] done: 2 section(s) in ")
    report.build(("subnormal",), (1,), quick=True, repeats=1)
    assert capsys.readouterr().err == ""


def test_cli_bench_prints_progress_on_stderr():
    proc = run_python(["-m", "nnfast", "bench", "--sections", "subnormal", "--quick", "--threads", "1",
                       "--repeats", "1"], NNFAST_BENCH_SETTLE="0")
    assert proc.returncode == 0, proc.stderr
    assert "## subnormal" in proc.stdout and "[nnfast bench]" not in proc.stdout
    assert "[nnfast bench] limits (1/2): starting" in proc.stderr
    assert "[nnfast bench] subnormal (2/2)" in proc.stderr and "left in the section" in proc.stderr
    quiet = run_python(["-m", "nnfast", "bench", "--sections", "subnormal", "--quick", "--threads", "1",
                        "--repeats", "1", "--quiet"], NNFAST_BENCH_SETTLE="0")
    assert quiet.returncode == 0 and "[nnfast bench]" not in quiet.stderr


# --------------------------------------------------------------------------------------------------
# the training section: data kinds, the FMA-peak table, the JAX peer
# --------------------------------------------------------------------------------------------------

def test_epoch_data_kinds():
    x, y = training.epoch_data(500, labels="random")
    x2, y2 = training.epoch_data(500, labels="learnable")
    np.testing.assert_array_equal(x, x2)
    assert x.dtype == np.float32 and 0 <= x.min() and x.max() < 1
    np.testing.assert_array_equal(y2, x[:, :10].argmax(axis=1))
    assert y.dtype == y2.dtype == np.int64 and not np.array_equal(y, y2)
    with pytest.raises(ValueError, match="labels"):
        training.epoch_data(10, labels="easy")
    with pytest.raises(ValueError, match="unknown labels"):
        training.run(thread_counts=(1,), parts=("epoch",), labels=("easy",))


def test_training_epoch_rows_for_both_labels_with_peak(monkeypatch):
    monkeypatch.setenv("NNFAST_BENCH_SETTLE", "0")
    monkeypatch.setattr(training.limits, "fma_peak_gflops", lambda nt: 100.0 * nt)
    rows = training.run(thread_counts=(1, 2), sizes=dict(epoch_samples=300, repeats=1), parts=("epoch",),
                        systems=("nnfast", "numpy"), batch_sizes=(128,))
    kinds = {(r["labels"], r["system"], r["threads"]) for r in rows}
    # NumPy runs on random labels only
    assert kinds == {("random", "nnfast", 1), ("random", "numpy", 1), ("learnable", "nnfast", 1),
                     ("random", "nnfast", 2), ("random", "numpy", 2), ("learnable", "nnfast", 2)}
    assert {r["fma_peak_gflops"] for r in rows if r["threads"] == 2} == {200.0}
    text = training.markdown(rows)
    assert "| MLP epoch, batch 128, learnable labels | 1 |" in text
    assert "**Two threads against one**" in text and "| run | nnfast | numpy |" in text
    assert "**The batch-128 epoch against the FMA peak**" in text and "6 x 60000 x 101632" in text
    r = next(r for r in rows if r["system"] == "nnfast" and r["threads"] == 2 and r["labels"] == "random")
    gflops = 6 * 60000 * 101632 / r["seconds"] / 1e9
    assert f"| MLP epoch, batch 128, random labels | 2 | 200 GFLOP/s | {gflops:.1f} ({gflops / 2:.0f}%) |" in text
    one = next(x for x in rows if x["system"] == "nnfast" and x["threads"] == 1 and x["labels"] == "random")
    assert f"| MLP epoch, batch 128, random labels | {one['seconds'] / r['seconds']:.2f} |" in text


def test_jax_is_skipped_with_its_reason(monkeypatch):
    monkeypatch.setattr(jax_peer, "reason", lambda: "jax is not installed")
    rows = training.run(thread_counts=(1,), sizes=dict(epoch_samples=200, repeats=1), parts=("epoch",),
                        systems=("nnfast", "jax"), batch_sizes=(32,), labels=("random",))
    jax_row = next(r for r in rows if r["system"] == "jax")
    assert jax_row["skipped"] and jax_row["reason"] == "jax is not installed" and "seconds" not in jax_row
    assert "Skipped: jax: jax is not installed." in training.markdown(rows)


def test_jax_peer_reason_names_what_is_missing(monkeypatch):
    monkeypatch.delenv(jax_peer.JAX_PYTHON, raising=False)
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None if name == "optax" else real(name))
    assert jax_peer.reason() in ("optax is not installed", "jax and optax are not installed")
    monkeypatch.setenv(jax_peer.JAX_PYTHON, "/nonexistent/python")
    assert jax_peer.JAX_PYTHON in jax_peer.reason()


@needs_jax
def test_jax_trainer_trains_the_same_network_as_nnfast():
    """From the same weights, in the same batch order, one epoch of the JAX peer (optax Adam) and of
    nnfast (torch-convention Adam: optax's formula) give the same loss and weights."""
    from nnfast.apps.bench import jax_worker
    from nnfast.layers import Dense
    from nnfast.models import Sequential
    from nnfast.optimizers import Adam
    x, y = training.epoch_data(640, labels="learnable")
    model = Sequential([Dense(16, activation="relu", input_dim=784), Dense(10, activation="softmax")], seed=3)
    model.compile(optimizer=Adam(learning_rate=1e-3, epsilon=1e-7, convention="torch"),
                  loss="sparse_categorical_crossentropy")
    start = [w.copy() for w in model.get_weights()]
    trainer = jax_worker.Trainer((784, 16, 10), 32, params=start, shuffle=False)
    jax_loss = trainer.epoch(x, y.astype(np.int32))
    loss = model.fit(x, y, batch_size=32, epochs=1, shuffle=False, verbose=0).history["loss"][-1]
    assert jax_loss == pytest.approx(loss, rel=1e-4)
    for got, want, before in zip(trainer.params, model.get_weights(), start):
        assert not np.array_equal(want, before)  # trained
        np.testing.assert_allclose(np.asarray(got), want, rtol=1e-3, atol=2e-5)


@needs_jax
def test_jax_peer_learns_and_runs_on_the_threads_asked(monkeypatch):
    monkeypatch.delenv(jax_peer.JAX_PYTHON, raising=False)
    assert jax_peer.reason() is None and jax_peer.description().startswith("jax ")
    x, y = training.epoch_data(2000, labels="learnable")
    files = jax_peer.DataFiles()
    try:
        seconds, losses = jax_peer.timed_epochs(files.paths("learnable", x, y), (784, 32, 10), 32, threads=1,
                                                repeats=3, warmup_samples=500)
    finally:
        files.close()
    assert len(seconds) == 3 and all(s > 0 for s in seconds)
    assert all(math.isfinite(v) for v in losses)
    assert losses[2] < losses[1] < losses[0]  # epoch after epoch, it learns the labels
