"""The benchmark report machinery and compare-optimizers, on tiny configurations.

Nothing here asserts a timing: only that the sections, tables, skipped peers, charts and figures
are produced as documented, and that the optimizer paths are computed right."""
import functools
import gzip
import importlib.util
import math
import sys

import numpy as np
import pytest

import nnfast as nf
from nnfast.apps import compare_optimizers
from nnfast.apps.bench import dense, keras_models, report, timing, trainers, training
from nnfast.apps.bench import optimizers as opt_section

from conftest import run_python

pytestmark = pytest.mark.filterwarnings("error")

HAS_MPL = importlib.util.find_spec("matplotlib") is not None
HAS_SKLEARN = importlib.util.find_spec("sklearn") is not None
needs_mpl = pytest.mark.skipif(not HAS_MPL, reason="matplotlib is not installed")

TINY = dict(epoch_samples=200, digits_epochs=1, repeats=1)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def no_heavy_peers(monkeypatch):
    """torch, Keras, scikit-learn's MLP and JAX made unimportable (as if not installed)."""
    if HAS_SKLEARN:
        import sklearn.datasets  # noqa: F401 - its first import looks for torch: done before hiding it
    monkeypatch.delenv("NNFAST_BENCH_JAX_PYTHON", raising=False)
    for name in ("torch", "keras", "sklearn.neural_network", "jax"):
        monkeypatch.setitem(sys.modules, name, None)


def _is_png(path):
    with open(path, "rb") as f:
        return f.read(8) == PNG_MAGIC


# --------------------------------------------------------------------------------------------------
# the training section
# --------------------------------------------------------------------------------------------------

def test_training_is_a_registered_section():
    assert report.SECTIONS["training"] is training
    for module in report.SECTIONS.values():
        assert module.__doc__.strip() and callable(module.run) and callable(module.markdown)
        assert module.QUICK_SIZES


def test_training_section_tables():
    rows = training.run(thread_counts=(1,), sizes=TINY, systems=("nnfast", "numpy"), batch_sizes=(64,),
                        max_total_time=0.01)
    assert {r["part"] for r in rows} == {"epoch", "seed", "digits"}
    text = training.markdown(rows)
    assert "**One training epoch, MLP 784-128-10, Adam**" in text
    assert "quick mode: measured on 200-sample epochs and scaled x300" in text
    assert "| run | threads | nnfast | numpy |" in text
    assert "| MLP epoch, batch 64, random labels | 1 |" in text
    assert "| MLP epoch, batch 64, learnable labels | 1 |" in text
    assert "**Seed 2-3-1 network**" in text and "| network | threads | nnfast | numpy |" in text
    assert "**Digits**" in text
    assert "| run | threads | system | wall time | x nnfast | final loss | test accuracy |" in text
    for r in rows:
        if r["part"] == "digits" and not HAS_SKLEARN:
            assert r["skipped"]
            continue
        assert not r["skipped"] and r["seconds"] > 0 and r["threads"] == 1
        if r["part"] == "digits":
            assert 0.0 <= r["accuracy"] <= 1.0 and math.isfinite(r["loss"])
    for case, threads, peer, ratio in training.ratios(rows):
        assert peer == "numpy" and threads == 1 and ratio > 0 and isinstance(case, str)


@pytest.mark.skipif(not HAS_SKLEARN, reason="digits needs scikit-learn")
def test_digits_on_two_threads_against_one_in_alternation():
    rows = training.run(thread_counts=(1, 2), sizes=dict(TINY, digits_pairs=2), parts=("digits",),
                        systems=("nnfast",))
    pairs = [r for r in rows if r["part"] == "digits-pairs"]
    assert len(pairs) == 1 and not pairs[0]["skipped"]
    ratios = pairs[0]["ratios"]
    assert len(ratios) == 2 and all(math.isfinite(v) and v > 0 for v in ratios)
    assert pairs[0]["ratio"] == pytest.approx((ratios[0] + ratios[1]) / 2)  # the median of two
    text = training.markdown(rows)
    assert "nnfast on 2 threads against 1, digits 64-64-10, 1 epochs, 2 pairs of runs in alternation" in text
    assert ("(2 threads no slower than 1: met)" in text) == (pairs[0]["ratio"] <= 1.0)
    # one thread count alone: no pairs
    rows = training.run(thread_counts=(1,), sizes=dict(TINY, digits_pairs=2), parts=("digits",), systems=("nnfast",))
    assert not [r for r in rows if r["part"] == "digits-pairs"]


def test_missing_peers_are_reported_as_skipped(no_heavy_peers):
    rows = training.run(thread_counts=(1,), sizes=TINY, parts=("seed", "epoch"), batch_sizes=(32,),
                        max_total_time=0.01)
    by_system = {(r["part"], r["system"]): r for r in rows}
    for part, system, reason in (("seed", "torch", "torch is not installed"),
                                 ("epoch", "jax", "jax is not installed"),
                                 ("seed", "keras", "keras is not installed"),
                                 ("epoch", "torch", "torch is not installed"),
                                 ("epoch", "keras", "keras is not installed"),
                                 ("epoch", "sklearn", "scikit-learn is not installed")):
        r = by_system[(part, system)]
        assert r["skipped"] and r["reason"] == reason
        assert "seconds" not in r  # never guessed
    assert not by_system[("seed", "nnfast")]["skipped"] and not by_system[("epoch", "numpy")]["skipped"]
    text = training.markdown(rows)
    assert "| skipped |" in text
    assert ("Skipped: jax: jax is not installed; keras: keras is not installed; sklearn: scikit-learn is not "
            "installed; torch: torch is not installed.") in text
    # a skipped peer gives no ratio
    assert {peer for _, _, peer, _ in training.ratios(rows)} == {"numpy"}


def test_training_repeats_and_checks():
    rows = training.run(thread_counts=(1,), sizes=TINY, parts=("epoch",), systems=("nnfast",),
                        batch_sizes=(100,), repeats=2)
    assert [r["repeats"] for r in rows] == [2, 2]  # random and learnable labels
    with pytest.raises(ValueError, match="repeats"):
        training.run(thread_counts=(1,), parts=("epoch",), repeats=0)
    with pytest.raises(ValueError, match="unknown part"):
        training.run(thread_counts=(1,), parts=("nope",))


def test_numpy_mlp_gradients_match_finite_differences():
    """The from-scratch NumPy peer trains the same network: its gradients are right."""
    mlp = trainers._NumpyMLP((5, 4, 3), 8, seed=0)
    for k in mlp.params:
        mlp.params[k] = mlp.params[k].astype(np.float64)
    rng = np.random.default_rng(1)
    x, t = rng.standard_normal((8, 5)), rng.integers(0, 3, 8)
    _, grads = mlp.loss_and_grads(x, t)
    for k, w in mlp.params.items():
        num = np.zeros_like(w)
        for i in np.ndindex(w.shape):
            old = w[i]
            w[i] = old + 1e-6
            up = mlp.loss_and_grads(x, t)[0]
            w[i] = old - 1e-6
            down = mlp.loss_and_grads(x, t)[0]
            w[i] = old
            num[i] = (up - down) / 2e-6
        np.testing.assert_allclose(grads[k], num, rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("system", ["nnfast", "keras", "numpy"])
def test_timed_epochs_are_epochs_in_the_middle_of_training(system):
    """A fit() trainer's epochs are timed inside one fit call of one more epoch (its clock reads
    each epoch's end); a loop trainer's each call. Either way `count` epochs of training happen."""
    trainer, reason = training.mlp_trainer(system, (6, 5, 3), 4)
    if trainer is None:
        pytest.skip(reason)
    rng = np.random.default_rng(0)
    x, y = rng.random((12, 6), dtype=np.float32), rng.integers(0, 3, 12)
    seconds, loss = trainers.timed_epochs(trainer, x, y, 3)
    assert len(seconds) == 3 and all(s > 0 for s in seconds) and math.isfinite(loss)
    if system == "nnfast":  # the warm-up epoch in the same fit call, then the three timed ones
        assert trainer.model.optimizer.iterations == 4 * 3


def test_keras_peer_runs_when_installed():
    keras, reason = training.keras_module()
    if keras is None:
        pytest.skip(reason)
    trainer, reason = training.mlp_trainer("keras", (6, 5, 3), 4)
    assert reason is None
    rng = np.random.default_rng(0)
    x, y = rng.random((12, 6), dtype=np.float32), rng.integers(0, 3, 12)
    assert math.isfinite(trainer.epoch(x, y))
    assert 0.0 <= trainer.accuracy(x, y) <= 1.0
    step, reason = training.seed_step_function("keras")
    assert reason is None and math.isfinite(float(np.asarray(step()).ravel()[0]))
    assert "backend" in training.keras_description()


# --------------------------------------------------------------------------------------------------
# the report: sections, skipped peers, repeats, charts
# --------------------------------------------------------------------------------------------------

def test_report_build_one_section(no_heavy_peers, monkeypatch, tmp_path):
    monkeypatch.setattr(training, "QUICK_SIZES", TINY)
    monkeypatch.setattr(report, "QUICK_MAX_TOTAL_TIME", 0.01)
    charts = tmp_path / "charts" if HAS_MPL else None
    text = report.build(("training",), (1,), quick=True, charts=charts)
    assert text.startswith("# nnfast benchmark report")
    assert "## Machine limits (measured with native probes)" in text
    assert "keras: not installed (skipped)" in text or "keras: keras is not installed (skipped)" in text
    assert "## training" in text and "## optimizers" not in text and "## dense" not in text
    assert training.__doc__.strip() in text
    assert "Skipped: jax: jax is not installed; keras: keras is not installed" in text
    assert text.rstrip().endswith(report.placement_note(timing.placement, timing.placement))  # no pause
    if charts is not None:
        assert _is_png(charts / "training.png")
        assert f"Chart of the ratios: `{charts / 'training.png'}`" in text


def test_report_lists_skipped_peers_for_sections_that_do_not(monkeypatch):
    monkeypatch.setattr(opt_section, "QUICK_SIZES", ("1e3",))
    monkeypatch.setattr(report, "QUICK_MAX_TOTAL_TIME", 0.01)
    monkeypatch.setitem(sys.modules, "torch", None)
    rows = report.run_section("optimizers", (1,), quick=True)
    assert {r["system"] for r in rows if r["skipped"]} == {"torch-fused", "torch-foreach"}
    note = report._skipped_note(rows, opt_section.markdown(rows))
    assert note.strip().startswith("Skipped: torch-foreach (")
    pairs = report.ratios("optimizers", rows)
    assert {(label, peer) for label, _, peer, _ in pairs} == {(f"{o} 1e3", "numpy-reference")
                                                             for o in opt_section.OPTIMIZERS}


def test_optimizer_section_has_every_optimizer_and_the_schedule_epoch(monkeypatch):
    monkeypatch.setattr(opt_section, "EPOCHS", {"epoch": 60000, "quick epoch": 300})
    rows = opt_section.run(thread_counts=(1,), sizes=("1e3", "quick epoch"), max_total_time=0.01)
    steps = {(r["optimizer"], r["system"]): r for r in rows if r.get("part") != "epoch"}
    assert {o for o, _ in steps} == set(opt_section.OPTIMIZERS) >= {"adamax", "nadam", "radam", "adadelta", "lion",
                                                                     "ftrl"}
    for name in opt_section.OPTIMIZERS:
        assert not steps[(name, "nnfast")]["skipped"] and not steps[(name, "numpy-reference")]["skipped"]
    for name in ("lion", "ftrl"):  # torch.optim has neither
        assert steps[(name, "torch-fused")]["skipped"] and steps[(name, "torch-foreach")]["skipped"]
    if importlib.util.find_spec("torch") is not None:
        for name in ("adamax", "nadam", "radam", "adadelta"):
            assert not steps[(name, "torch-foreach")]["skipped"]
    epochs = [r for r in rows if r.get("part") == "epoch"]
    assert [r["system"] for r in epochs] == ["nnfast", "nnfast-constant-lr"]
    assert all(r["us"] > 0 and math.isclose(r["seconds"], r["us"] * 1e-6 * 200) for r in epochs)
    text = opt_section.markdown(rows)
    assert "**One training epoch, MLP 784-128-10, Adam, batch 32**" in text
    assert "| quick epoch (300 samples) | 1 |" in text
    for name in opt_section.OPTIMIZERS:
        assert f"| {name} | 1e3 |" in text
    pairs = report.ratios("optimizers", rows)
    assert ("epoch adam quick epoch", 1, "nnfast-constant-lr") in {(label, t, p) for label, t, p, _ in pairs}


def test_optimizer_section_states_sgd_and_momentum_share_of_the_stream():
    def row(name, size, system, us, share=None, threads=1):
        return dict(optimizer=name, size=size, params=10**6, threads=threads, system=system, bytes_per_param=12,
                    skipped=False, us=us, spread=0.0, gbps=1.0, stream_share=share)
    rows = [dict(row("sgd", "1e6", "nnfast", 100.0, 0.95), kernel_us=90.0, kernel_stream_share=0.97),
            row("sgd", "1e6", "torch-fused", 150.0),
            row("sgd", "1e7", "nnfast", 1000.0, 0.9), row("momentum", "1e6", "nnfast", 200.0, 0.875),
            row("adam", "1e6", "nnfast", 300.0, 0.5), row("sgd", "1e6", "nnfast", 60.0, 0.8, threads=2),
            dict(row("sgd", "1e6", "torch-fused", 0.0, threads=2), skipped=True)]
    lines = opt_section.markdown(rows).splitlines()
    start = [i for i, line in enumerate(lines) if line.startswith("**SGD and momentum against the memory stream**")]
    assert len(start) == 1 and "its kernel alone" in lines[start[0]]
    # adam is not in it; a skipped peer leaves no ratio; the kernel's share where it was measured
    assert lines[start[0] + 2:start[0] + 7] == ["| threads | optimizer | 1e6 | 1e7 |", "|---|---|---|---|",
                                                "| 1 | sgd | 95%, kernel 97% (1.50x) | 90% |",
                                                "| 1 | momentum | 88% | - |", "| 2 | sgd | 80% | - |"]


@pytest.mark.parametrize("name", ["sgd", "momentum"])
def test_the_optimizer_sections_kernel_probe_calls_the_native_function_directly(name, monkeypatch):
    # the probe is to cost what the stream probe costs: one Python call into native code, never the
    # ops function's keyword wrapper (update_call.bind falls back to it silently on a TypeError)
    from nnfast import ops
    original = ops.sgd_update
    wrapper_calls = []

    @functools.wraps(original)  # its signature, which bind reads, and its .native
    def spy(*args, **kwargs):
        wrapper_calls.append(kwargs)
        return original(*args, **kwargs)

    monkeypatch.setattr(ops, "sgd_update", spy)
    params, grads = opt_section.step_data([1000, 17])
    kernel = opt_section.kernel_function(name, params, grads)
    wrapper_calls.clear()  # the object's first step, which builds the state, may go either way
    before = params[0].copy()
    kernel()
    assert wrapper_calls == [] and not np.array_equal(params[0], before)


@pytest.mark.parametrize("name", ["sgd", "momentum"])
def test_the_kernel_the_optimizer_section_times_is_the_optimizer_objects(name):
    # kernel_function's call is the optimizer object's second step: the same bits
    params, grads = opt_section.step_data([1000, 17])
    kernel = opt_section.kernel_function(name, params, grads)  # after the object's first step
    kernel()
    object_params, object_grads = opt_section.step_data([1000, 17])
    opt = opt_section.nnfast_optimizer(name, "native")
    opt.apply(object_params, object_grads)
    opt.apply(object_params, object_grads)
    for u, v in zip(params, object_params):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(params[0], opt_section.step_data([1000, 17])[0][0])  # it did step
    rows = opt_section._step_rows(name, "1e3", 1, ("nnfast",), max_total_time=0.01)
    assert rows[0]["kernel_us"] > 0 and rows[0]["kernel_stream_share"] > 0


def test_the_schedule_epoch_trains_on_the_native_runs(monkeypatch, native_calls):
    for system in opt_section.EPOCH_SYSTEMS:
        epoch = opt_section.epoch_function(system, 320)
        native_calls.clear()
        epoch()
        assert sum(native_calls) == 320 // 32  # every batch in native runs, with the schedule too


def test_repeats_reach_sections_without_a_repeats_parameter(monkeypatch):
    calls, together = [], []

    def spy(fn, **kwargs):
        calls.append(kwargs)
        fn()
        return timing.Timing(1e-6, 1e-6, 1e-6, kwargs.get("repeats", 1), 1)

    def spy_together(fns, **kwargs):
        together.append(kwargs)
        return {key: spy(fn, **kwargs) for key, fn in fns.items()}
    monkeypatch.setattr(timing, "measure", spy)
    monkeypatch.setattr(timing, "measure_together", spy_together)
    monkeypatch.setattr(opt_section, "QUICK_SIZES", ("1e3",))
    originals = opt_section.measure, opt_section.measure_together
    report.run_section("optimizers", (1,), quick=True, repeats=4)
    assert calls and together
    assert all(c["repeats"] == 4 and c["max_total_time"] >= 1e9 for c in calls + together)
    assert (opt_section.measure, opt_section.measure_together) == originals  # restored
    with pytest.raises(ValueError, match="repeats"):
        report.run_section("optimizers", (1,), repeats=0)


@needs_mpl
def test_chart_of_generic_rows(tmp_path):
    rows = [dict(optimizer="adam", size="1e3", threads=t, system=s, skipped=s == "torch", us=us)
            for t in (1, 2) for s, us in (("nnfast", 2.0), ("numpy-reference", 20.0), ("torch", 0.0))]
    path = report.write_chart("optimizers", rows, tmp_path / "o.png")
    assert _is_png(path)
    assert report.write_chart("optimizers", rows[:1], tmp_path / "none.png") is None


def test_chart_without_matplotlib(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r"nnfast\[plot\]"):
        report.write_chart("training", [], tmp_path / "x.png")


def test_cli_bench_one_section():
    proc = run_python(["-m", "nnfast", "bench", "--sections", "optimizers", "--quick", "--threads", "1",
                       "--repeats", "3"])
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "# nnfast benchmark report" in out and "## Machine limits" in out
    assert "## optimizers" in out and "## dense" not in out and "## training" not in out
    assert "**1 thread**" in out and "**2 threads**" not in out
    assert "| optimizer | params | nnfast | numpy-reference |" in out


def test_cli_bench_rejects_bad_options():
    proc = run_python(["-m", "nnfast", "bench", "--sections", "optimizers,nope"])
    assert proc.returncode == 2 and "unknown section(s) nope" in proc.stderr and "training" in proc.stderr
    proc = run_python(["-m", "nnfast", "bench", "--repeats", "0"])
    assert proc.returncode == 2 and "--repeats" in proc.stderr


# --------------------------------------------------------------------------------------------------
# compare-optimizers
# --------------------------------------------------------------------------------------------------

def _book_path(name, steps=30, start=(-7.0, 2.0)):
    """The book's update rules written out on floats (Deep Learning from Scratch, common/optimizer.py)."""
    lr = {"SGD": 0.95, "Momentum": 0.1, "Nesterov": 0.1, "AdaGrad": 1.5, "RMSprop": 0.1, "Adam": 0.3}[name]
    w = np.array(start, dtype=np.float64)
    v = np.zeros(2)
    h = np.zeros(2)
    m = np.zeros(2)
    points = [w.copy()]
    for it in range(1, steps + 1):
        g = np.array([w[0] / 10.0, 2.0 * w[1]])
        if name == "SGD":
            w = w - lr * g
        elif name == "Momentum":
            v = 0.9 * v - lr * g
            w = w + v
        elif name == "Nesterov":
            v = 0.9 * v - lr * g
            w = w + 0.9 * 0.9 * v - (1 + 0.9) * lr * g
        elif name == "AdaGrad":
            h = h + g * g
            w = w - lr * g / (np.sqrt(h) + 1e-7)
        elif name == "RMSprop":
            h = 0.99 * h + 0.01 * g * g
            w = w - lr * g / (np.sqrt(h) + 1e-7)
        else:
            lr_t = lr * math.sqrt(1.0 - 0.999 ** it) / (1.0 - 0.9 ** it)
            m = m + 0.1 * (g - m)
            h = h + 0.001 * (g ** 2 - h)
            w = w - lr_t * m / (np.sqrt(h) + 1e-7)
        points.append(w.copy())
    return np.array(points)


def test_optimizer_paths_follow_the_book_and_approach_the_minimum():
    paths = compare_optimizers.optimizer_paths()
    assert list(paths) == ["SGD", "Momentum", "Nesterov", "AdaGrad", "RMSprop", "Adam"]
    f0 = compare_optimizers.f(-7.0, 2.0)
    for name, p in paths.items():
        assert p.shape == (31, 2)
        np.testing.assert_array_equal(p[0], [-7.0, 2.0])
        np.testing.assert_allclose(p, _book_path(name), rtol=1e-9, atol=1e-12, err_msg=name)
        assert compare_optimizers.f(*p[-1]) < 0.02 * f0, name  # from 6.45 to below 0.13
        assert math.hypot(*p[-1]) < 1.0, name


def _write_idx(path, array):
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


@needs_mpl
@pytest.mark.skipif(not HAS_SKLEARN, reason="digits needs scikit-learn")
def test_compare_optimizers_writes_figures_and_table(tmp_path):
    rng = np.random.default_rng(0)
    fashion = tmp_path / "fashion"
    fashion.mkdir()
    for prefix, n in (("train", 96), ("t10k", 32)):
        _write_idx(fashion / f"{prefix}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28)))
        _write_idx(fashion / f"{prefix}-labels-idx1-ubyte.gz", rng.integers(0, 10, n))
    lines = []
    out = compare_optimizers.run(tmp_path / "figs", fashion_mnist=fashion, epochs=2, print_fn=lines.append)
    names = ["optimizer_paths.png", "optimizer_loss_digits.png", "optimizer_loss_fashion_mnist.png"]
    assert [p.rsplit("/", 1)[-1] for p in map(str, out["files"])] == names
    for name in names:
        assert _is_png(tmp_path / "figs" / name)
    text = "\n".join(lines)
    assert "final x  final y  final f" in text
    assert "Training on digits: MLP 64-64-10, batch 32, 2 epochs" in text
    assert "Training on fashion-mnist: MLP 784-128-10, batch 128, 2 epochs" in text
    for dataset, sizes in (("digits", [32] * 44 + [29]), ("fashion-mnist", [96])):
        for name, r in out[dataset].items():
            assert len(r["batch_losses"]) == 2 * len(sizes) and len(r["epoch_losses"]) == 2
            assert np.isfinite(r["batch_losses"]).all() and 0 <= r["test_accuracy"] <= 1
            # the per-minibatch losses recovered from the running means average to the epoch's loss
            last = r["batch_losses"][len(sizes):]
            np.testing.assert_allclose(np.average(last, weights=sizes), r["epoch_losses"][-1], rtol=1e-6)
            assert name in text


def test_compare_optimizers_needs_matplotlib(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r"nnfast\[plot\]"):
        compare_optimizers.run(tmp_path)
    assert not any(tmp_path.iterdir())  # nothing computed or written first


@needs_mpl
def test_cli_compare_optimizers(tmp_path):
    proc = run_python(["-m", "nnfast", "compare-optimizers", "--output-dir", str(tmp_path), "--epochs", "1"])
    assert proc.returncode == 0, proc.stderr
    assert "Paths on f(x, y) = x^2/20 + y^2 from (-7, 2)" in proc.stdout
    assert _is_png(tmp_path / "optimizer_paths.png")
    proc = run_python(["-m", "nnfast", "compare-optimizers", "--output-dir", str(tmp_path),
                       "--fashion-mnist", str(tmp_path / "missing")])
    assert proc.returncode == 1 and "missing train-images-idx3-ubyte" in proc.stderr


# --------------------------------------------------------------------------------------------------
# the Keras models section
# --------------------------------------------------------------------------------------------------

KM_TINY = dict(samples=512, test_samples=128, repeats=1)


def test_keras_models_is_a_registered_section():
    assert report.SECTIONS["keras_models"] is keras_models
    assert keras_models.QUICK_SIZES["samples"] < keras_models.SIZES["samples"] == 60000


def test_keras_models_data():
    x, y = keras_models.model_data("fashion", 2000)
    assert x.shape == (2000, 28, 28) and x.dtype == np.float32 and 0.0 <= x.min() and x.max() < 1.0
    assert y.dtype == np.int64 and set(np.unique(y)) == set(range(10))
    x, y = keras_models.model_data("tabular", 20000)
    assert x.shape == (20000, 64) and x.dtype == np.float32 and y.dtype == np.float32
    assert set(np.unique(y)) == {0.0, 1.0} and abs(y.mean() - keras_models.POSITIVE_SHARE) < 0.01
    _, y_test = keras_models.model_data("tabular", 20000, seed=1)
    assert not np.array_equal(y, y_test)
    x, y = keras_models.model_data("text", 20000)
    assert x.shape == (20000, keras_models.REVIEW_WORDS) and x.dtype == np.int64 and y.dtype == np.float32
    assert 0 <= x.min() and x.max() < keras_models.VOCABULARY and 0.4 < y.mean() < 0.6
    _, y_test = keras_models.model_data("text", 20000, seed=1)
    assert not np.array_equal(y, y_test)
    with pytest.raises(ValueError, match="unknown model"):
        keras_models.model_data("nope", 10)


def test_keras_models_nnfast_is_the_keras_program():
    import nnfast.keras
    net = keras_models.build(nnfast.keras, "tabular")
    kinds = [type(layer).__name__ for layer in net.layers]
    assert kinds == ["Dense", "BatchNormalization", "ReLU", "Dropout"] * 3 + ["Dense"]
    assert net.count_params() == 64 * 256 + 256 + 2 * (256 * 256 + 256) + 3 * 4 * 256 + 257
    keras, _ = training.keras_module()
    if keras is not None:
        for model in keras_models.MODELS:
            ours, theirs = keras_models.build(nnfast.keras, model), keras_models.build(keras, model)
            assert [type(a).__name__ for a in ours.layers] == [type(b).__name__ for b in theirs.layers]
            assert ours.count_params() == theirs.count_params()


def test_keras_models_torch_loss_is_keras_weighted_loss():
    program, reason = keras_models.trainer("torch", "tabular")
    if program is None:
        pytest.skip(reason)
    import torch
    x, y = keras_models.model_data("tabular", 64)
    program.net.eval()  # no dropout: the same output twice
    loss, correct = program.loss_and_correct(torch.from_numpy(x), torch.from_numpy(y))
    with torch.no_grad():
        p = program.net(torch.from_numpy(x)).numpy()[:, 0].astype(np.float64)
    w = np.where(y > 0.5, 4.0, 1.0)
    expected = np.mean(-w * (y * np.log(p) + (1 - y) * np.log(1 - p)))  # Keras: sum(w * loss) / batch
    assert loss.item() == pytest.approx(expected, rel=1e-5)
    assert correct.item() == np.sum((p > 0.5) == (y > 0.5))


def test_keras_models_section_tables():
    systems = ("nnfast", "torch") if importlib.util.find_spec("torch") else ("nnfast",)
    rows = keras_models.run(thread_counts=(1,), sizes=KM_TINY, systems=systems)
    assert [(r["part"], r["system"]) for r in rows] == [(m, s) for m in keras_models.MODELS for s in systems]
    for r in rows:
        assert not r["skipped"] and r["seconds"] > 0 and r["scale"] == 60000 / 512 and r["repeats"] == 3
        assert math.isfinite(r["loss"]) and 0 <= r["accuracy"] <= 1 and 0 <= r["test_accuracy"] <= 1
        assert r["epochs"] >= 1 + r["repeats"]  # the warm-up, the timed ones, any run again
    paths = {r["part"]: r["path"] for r in rows if r["system"] == "nnfast"}
    assert paths["fashion"] == "one-call native step"
    assert paths["tabular"] in ("one-call native step", "Python loop over native kernels")
    assert paths["keras_face"] == "Python loop over native kernels"  # elu, swish, PReLU, noise, MaxNorm
    assert paths["text"] == "Python loop over native kernels"  # Embedding, GlobalAveragePooling1D
    assert len({r["fma_peak_gflops"] for r in rows}) == 1 and rows[0]["fma_peak_gflops"] > 0
    assert all(r["dense_flops_per_sample"] > 0 for r in rows)
    text = keras_models.markdown(rows)
    assert "**Time per 60000-sample epoch**" in text and "scaled x117.188" in text
    assert "**The issue's models against the FMA peak**" in text
    assert len([line for line in text.splitlines() if line.startswith(f"| {keras_models.CASES['tabular']} | 1 | ")
                and "GFLOP/s |" in line]) == 1
    assert "**Equal work**" in text
    assert "| model | threads | system | epochs | loss | accuracy | held-out accuracy |" in text
    if "torch" in systems:
        assert "| model | threads | nnfast | torch | x torch (target) | nnfast path |" in text
        assert {peer for _, _, peer, _ in keras_models.ratios(rows)} == {"torch"}
        assert "(>= 2x: " in text
        face = [line for line in text.splitlines() if line.startswith(f"| {keras_models.CASES['keras_face']} | 1 |")]
        assert "x (no target) |" in face[0]  # the time table's row: measured, but the issue sets it no target


def test_keras_models_trains_the_systems_epochs_in_turns(monkeypatch):
    order = []

    class Program:
        def __init__(self, system):
            self.system = system

        def epoch(self, x, y):
            order.append(self.system)
            return 0.5, 0.75

        def path(self):
            return "p"

        def test_accuracy(self, x, y):
            return 0.7

    monkeypatch.setattr(keras_models, "trainer", lambda system, model: (Program(system), None))
    monkeypatch.setattr(timing, "settle", lambda: None)
    monkeypatch.setattr(timing, "await_full_placement", lambda: None)
    monkeypatch.setattr(timing, "placement_held", lambda: True)
    rows = keras_models.run(thread_counts=(1,), sizes=dict(KM_TINY, repeats=3), models=("tabular",))
    assert order == ["nnfast", "keras", "torch"] + ["nnfast", "keras", "torch", "keras", "torch", "nnfast",
                                                    "torch", "nnfast", "keras"]  # warm-ups, then rotating rounds
    assert [(r["system"], r["epochs"], r["repeats"], r["loss"]) for r in rows] == \
        [(s, 4, 3, 0.5) for s in ("nnfast", "keras", "torch")]


def test_keras_models_targets():
    rows = [dict(part="tabular", case="t", threads=1, system=s, skipped=False, seconds=sec, spread=0.0,
                 samples=60000, repeats=3, loss=0.5, accuracy=0.8, test_accuracy=0.8, path="p",
                 fma_peak_gflops=100.0, dense_flops_per_sample=1e6)
            for s, sec in (("nnfast", 1.0), ("keras", 12.0), ("torch", 1.5))]
    assert keras_models.target_verdicts(rows) == [("t", 1, "keras", 12.0, 10.0, True),
                                                  ("t", 1, "torch", 1.5, 2.0, False)]
    text = keras_models.markdown(rows)
    assert "| t | 1 | 1000 ms ±0% | 12000 ms ±0% | 1500 ms ±0% | 12.00x (>= 10x: met) | " \
           "1.50x (>= 2x: missed, nnfast needs 1.33x less time) | p |" in text
    # 60 GFLOP an epoch take 600 ms at 100 GFLOP/s; 10x Keras's 12 s allows 1200 ms, twice that
    assert "| model | threads | FMA peak | GFLOP an epoch | at the peak | 10x Keras allows | nnfast | keras | " \
           "torch |" in text
    assert "| t | 1 | 100 GFLOP/s | 60.00 | 600 ms | 1200 ms (2.00x the time at the peak) | 60.0 (60%) | " \
           "5.0 (5%) | 40.0 (40%) |" in text
    for r in rows:  # a model the issue sets no target gets no such row
        r["part"] = "keras_face"
    assert "GFLOP an epoch" not in keras_models.markdown(rows)


def test_keras_models_dense_flops_count_the_products_keras_computes():
    import nnfast.keras
    real_keras = trainers.keras_module()[0]
    for module in [nnfast.keras] + ([real_keras] if real_keras is not None else []):
        # Dense 64-256, two 256-256 and 256-1: forward and weight gradient of each, and the input
        # gradient of all but the first, 2 flops a multiply-add
        assert keras_models.dense_flops_per_sample(keras_models.build(module, "tabular")) == \
            2 * (2 * 64 * 256 + 3 * (2 * 256 * 256) + 3 * 256)
        assert keras_models.dense_flops_per_sample(keras_models.build(module, "fashion")) == 2 * 2 * 784 * 10


def test_keras_models_missing_peers_are_skipped(no_heavy_peers):
    rows = keras_models.run(thread_counts=(1,), sizes=KM_TINY, models=("fashion",))
    by_system = {r["system"]: r for r in rows}
    assert not by_system["nnfast"]["skipped"]
    for system, reason in (("keras", "keras is not installed"), ("torch", "torch is not installed")):
        assert by_system[system]["skipped"] and by_system[system]["reason"] == reason
        assert "seconds" not in by_system[system]
    text = keras_models.markdown(rows)
    assert "| skipped | skipped | - | - |" in text
    assert "Skipped: keras: keras is not installed; torch: torch is not installed." in text
    assert keras_models.ratios(rows) == []
    with pytest.raises(ValueError, match="unknown model"):
        keras_models.run(thread_counts=(1,), models=("nope",))


def test_dense_section_states_the_isa_level_blocking_and_peak_share():
    rows = dense.run(thread_counts=(1,), sizes=("32x128x10",), systems=("nnfast",), max_total_time=0.05)
    text = dense.markdown(rows)
    c = nf.config()
    b = c["gemm_blocking"]["float32"]
    assert f"ISA level {c['isa']}; float32 GEMM tile {b['mr']} x {b['nr']} (" in text
    assert f"KC {b['kc']}, MC {b['mc']}, NC {b['nc']}" in text
    assert "FMA peak" in text and "nnfast % of FMA peak" in text
    assert all(0 < r["peak_share"] for r in rows)


def test_dense_section_has_a_layer_with_a_mostly_zero_input(monkeypatch):
    # the hidden-layer case after relu and dropout: Dense rows only, its x 35% nonzero, and a note
    # that its flops are the dense product's
    label, = dense.SPARSE_INPUTS
    assert label in dense.QUICK_SIZES
    monkeypatch.setattr(dense, "SPARSE_INPUTS", {label: (64, 48, 80, 0.35)})
    monkeypatch.setitem(dense.SIZES, label, (64, 48, 80))
    x, _, _, _ = dense.layer_data(64, 48, 80, density=0.35)
    assert 0.25 < np.count_nonzero(x) / x.size < 0.45
    rows = dense.run(thread_counts=(1,), sizes=(label,), systems=("nnfast", "numpy"), max_total_time=0.05)
    assert {r["table"] for r in rows} == {"dense"} and {r["kind"] for r in rows} == set(dense.PASSES)
    assert all(not r["skipped"] and r["us"] > 0 for r in rows)
    assert "count the dense product's flops" in dense.markdown(rows)


def test_multithreaded_measurements_wait_for_whole_cores(monkeypatch):
    # a probe below FULL_PLACEMENT_SHARE of the best seen on that thread count is retried after a
    # pause; one at or above it starts the measurement
    monkeypatch.setattr(timing, "placement", timing.Placement(threads=2, best={2: 200.0}))
    readings, pauses = iter([110.0, 150.0, 170.0, 999.0]), []
    timing.await_full_placement(probe=lambda nt: next(readings), pause=pauses.append, handoff=lambda: 1e-7)
    assert len(pauses) == 2 and next(readings) == 999.0  # 110 and 150 < 0.8 * 200; 170 starts it
    assert (timing.placement.checks, timing.placement.retries, timing.placement.gave_up) == (1, 2, 0)


def test_placement_gives_up_after_its_tries(monkeypatch):
    monkeypatch.setattr(timing, "placement", timing.Placement(threads=1, best={1: 110.0}))
    timing.await_full_placement(probe=lambda nt: 50.0, pause=lambda s: None)
    assert timing.placement.retries == timing.MAX_PLACEMENT_TRIES and timing.placement.gave_up == 1
    assert timing.placement.checks == 1


def test_a_faster_probe_raises_the_bar_and_the_first_sets_it(monkeypatch):
    monkeypatch.setattr(timing, "placement", timing.Placement(threads=2))
    timing.await_full_placement(probe=lambda nt: 120.0, pause=lambda s: None, handoff=lambda: 1e-7)  # the first: accepted
    timing.await_full_placement(probe=lambda nt: 230.0, pause=lambda s: None, handoff=lambda: 1e-7)
    assert timing.placement.best == {2: 230.0} and timing.placement.retries == 0


def test_on_two_threads_a_slow_hand_off_between_the_cores_waits_too(monkeypatch):
    # full FMA readings, but the hand-off probe reads 4x its best (the vCPUs far apart): retried
    # after a pause until it reads at most HANDOFF_SLOWDOWN x the best; one thread never asks it
    monkeypatch.setattr(timing, "placement", timing.Placement(threads=2, best={2: 200.0}))
    handoffs, pauses = iter([120e-9, 480e-9, 500e-9, 200e-9]), []
    for _ in range(2):
        timing.await_full_placement(probe=lambda nt: 200.0, pause=pauses.append, handoff=lambda: next(handoffs))
    assert len(pauses) == 2 and timing.placement.far_apart == 2 and timing.placement.handoff_best == 120e-9
    assert (timing.placement.checks, timing.placement.retries, timing.placement.gave_up) == (2, 2, 0)
    note = report.placement_note(timing.Placement(), timing.placement)
    assert "at most 2x the best seen (120 ns" in note and "2 probes read more" in note
    monkeypatch.setattr(timing, "placement", timing.Placement(threads=1))
    timing.await_full_placement(probe=lambda nt: 100.0, pause=pauses.append, handoff=lambda: 1 / 0)
    assert timing.placement.far_apart == 0 and "hand-off" not in report.placement_note(timing.Placement(), timing.placement)


def test_the_real_hand_off_probe():
    seconds = timing.handoff_probe_seconds()
    if nf.config()["openmp"]:
        assert 0 < seconds < 1e-3  # microseconds at most, even on a busy machine
    else:
        assert seconds == 0
    with pytest.raises(ValueError, match="jobs"):
        nf._core.team_handoff_seconds(0, 1)
    with pytest.raises(ValueError, match="repeats"):
        nf._core.team_handoff_seconds(10, 0)


def test_the_real_placement_probe_and_the_report_note(monkeypatch):
    assert timing.fma_probe_gflops(1) > 0
    before = timing.Placement(checks=3, retries=1, gave_up=0)
    note = report.placement_note(before, timing.Placement(checks=10, retries=4, gave_up=1))
    assert "each of the 7 measurements" in note and "each timed epoch" in note and "3 probes read less" in note and "1 measurements" in note
    assert "none" in report.placement_note(before, before)


def test_long_repeats_can_each_wait_for_whole_cores(monkeypatch):
    checks = []
    monkeypatch.setattr(timing, "settle", lambda: None)
    monkeypatch.setattr(timing, "await_full_placement", lambda: checks.append(1))
    monkeypatch.setattr(timing, "placement_held", lambda: True)
    calls = []
    t = timing.measure(lambda: calls.append(1), repeats=4, warmup=0, min_repeat_time=0.0, max_total_time=1e12,
                       check_each_repeat=True)
    assert t.repeats == 4 and len(calls) == 5 and len(checks) == 4  # the untimed first call is not checked
    timing.measure(lambda: None, repeats=4, warmup=0, min_repeat_time=0.0, max_total_time=1e12)
    assert len(checks) == 4  # off by default


def test_a_repeat_after_which_the_cores_are_halved_is_run_again(monkeypatch):
    # the probe after repeats 2 and 3 reads less: both are discarded and run again; the timing
    # keeps 4 repeats, all of them from calls after which the probe held
    monkeypatch.setattr(timing, "settle", lambda: None)
    monkeypatch.setattr(timing, "placement", timing.Placement(threads=2, checks=6))  # as if each had waited
    monkeypatch.setattr(timing, "await_full_placement", lambda: None)
    held = iter([True, False, False, True, True, True])
    monkeypatch.setattr(timing, "placement_held", lambda: next(held))
    durations = iter([0.0, 1.0, 50.0, 40.0, 1.0, 1.0, 1.0])  # the first, untimed call; then each repeat
    monkeypatch.setattr(timing.time, "perf_counter", _clock(durations))
    t = timing.measure(lambda: None, repeats=4, warmup=0, min_repeat_time=0.0, max_total_time=1e12,
                       check_each_repeat=True)
    assert t.repeats == 4 and t.median == 1.0 and t.q3 == 1.0  # the 50 and 40 s repeats were dropped
    assert timing.placement.discarded == 2
    note = report.placement_note(timing.Placement(), timing.placement)
    assert "2 epochs after which it read less were discarded and run again" in note


def test_measure_together_places_each_repeat_and_runs_a_halved_one_again(monkeypatch):
    # the epochs of several systems in turns, as keras_models times them: each repeat waits for
    # whole cores, and one after which the probe reads less is discarded and run again at once
    monkeypatch.setattr(timing, "settle", lambda: None)
    monkeypatch.setattr(timing, "placement", timing.Placement(threads=1))
    checks, order = [], []
    monkeypatch.setattr(timing, "await_full_placement", lambda: checks.append(len(order)))
    held = iter([True, False, True, True, True, True, True])  # b's first timed repeat is halved
    monkeypatch.setattr(timing, "placement_held", lambda: next(held))
    clock = [0.0]
    cost = {"a": 1.0, "b": 3.0}

    def fn(key):
        def call():
            order.append(key)
            clock[0] += cost[key] * (20.0 if len(order) == 4 else 1.0)  # that halved repeat was slow
        return call
    monkeypatch.setattr(timing.time, "perf_counter", lambda: clock[0])
    t = timing.measure_together({"a": fn("a"), "b": fn("b")}, repeats=3, warmup=0, min_repeat_time=0.0,
                                max_total_time=1e12, check_each_repeat=True)
    assert order == ["a", "b", "a", "b", "b", "b", "a", "a", "b"]  # sizing, then rounds a b | b a | a b
    assert len(checks) == 7  # every timed repeat, the one run again too; not the sizing calls
    assert t["a"].repeats == t["b"].repeats == 3 and t["a"].median == 1.0 and t["b"].median == 3.0
    assert t["b"].q3 == 3.0 and timing.placement.discarded == 1  # the slow repeat was dropped


def test_discards_stop_after_as_many_as_the_repeats(monkeypatch):
    monkeypatch.setattr(timing, "settle", lambda: None)
    monkeypatch.setattr(timing, "placement", timing.Placement(threads=2))
    monkeypatch.setattr(timing, "await_full_placement", lambda: None)
    monkeypatch.setattr(timing, "placement_held", lambda: False)
    calls = []
    t = timing.measure(lambda: calls.append(1), repeats=3, warmup=0, min_repeat_time=0.0, max_total_time=1e12,
                       check_each_repeat=True)
    assert t.repeats == 3 and len(calls) == 1 + 3 + 3 and timing.placement.discarded == 3


def test_placement_held_judges_one_probe_against_the_best(monkeypatch):
    monkeypatch.setattr(timing, "placement", timing.Placement(threads=2, best={2: 200.0}))
    steady = lambda: 1e-7  # noqa: E731 (a constant hand-off: the real probe swings on a busy host)
    assert not timing.placement_held(probe=lambda nt: 150.0, handoff=steady)
    assert timing.placement_held(probe=lambda nt: 170.0, handoff=steady)
    assert timing.placement_held(probe=lambda nt: 260.0, handoff=steady) and timing.placement.best == {2: 260.0}


def _clock(durations):
    """A perf_counter whose successive start/stop pairs are `durations` seconds apart."""
    state = {"now": 0.0, "started": False}

    def clock():
        if state["started"]:
            state["now"] += next(durations)
        state["started"] = not state["started"]
        return state["now"]
    return clock


def test_the_thread_pass_sets_and_restores_the_placement_count():
    assert timing.placement.threads == 1
    with timing.threads(2):
        assert timing.placement.threads == 2
    assert timing.placement.threads == 1


def test_measure_together_times_each_callable_in_rotating_turns(monkeypatch):
    # a slow spell of the host (here: every call made during rounds 2 and 3 takes 10x) falls on
    # every callable alike, so the ratio of the medians stays the true one
    monkeypatch.setattr(timing, "settle", lambda: None)
    clock, order = [0.0], []
    cost = {"a": 1.0, "b": 3.0}

    def fn(key):
        def call():
            order.append(key)
            slow = 10.0 if 2 <= (len(order) - 7) // 2 <= 3 else 1.0  # round of the call, after 3 + 3 sizing calls
            clock[0] += cost[key] * slow
        return call
    monkeypatch.setattr(timing.time, "perf_counter", lambda: clock[0])
    t = timing.measure_together({"a": fn("a"), "b": fn("b")}, repeats=7, warmup=2, min_repeat_time=0.0,
                                max_total_time=1e12)
    assert order[:6] == ["a"] * 3 + ["b"] * 3  # warm-up and sizing, one callable after the other
    assert order[6:] == ["a", "b", "b", "a"] * 3 + ["a", "b"]  # the order rotates every round
    assert t["a"].repeats == t["b"].repeats == 7
    assert t["a"].median == 1.0 and t["b"].median == 3.0
    assert t["b"].q3 == 30.0  # the slow rounds are in the spread, for both


def test_measure_together_keeps_the_time_budget_of_its_slowest_callable(monkeypatch):
    monkeypatch.setattr(timing, "settle", lambda: None)
    clock = [0.0]

    def fn(seconds):
        def call():
            clock[0] += seconds
        return call
    monkeypatch.setattr(timing.time, "perf_counter", lambda: clock[0])
    t = timing.measure_together({"fast": fn(0.01), "slow": fn(0.5)}, repeats=15, warmup=0, min_repeat_time=0.0,
                                max_total_time=2.0)
    assert t["fast"].repeats == t["slow"].repeats == 4  # 2.0 s / 0.5 s a repeat
    t = timing.measure_together({"slow": fn(5.0)}, repeats=15, warmup=0, min_repeat_time=0.0, max_total_time=2.0)
    assert t["slow"].repeats == 3  # never fewer than 3
