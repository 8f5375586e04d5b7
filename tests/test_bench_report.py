"""The benchmark report machinery and compare-optimizers, on tiny configurations.

Nothing here asserts a timing: only that the sections, tables, skipped peers, charts and figures
are produced as documented, and that the optimizer paths are computed right."""
import gzip
import importlib.util
import math
import sys

import numpy as np
import pytest

from nnfast.apps import compare_optimizers
from nnfast.apps.bench import optimizers as opt_section
from nnfast.apps.bench import report, timing, trainers, training

from conftest import run_python

pytestmark = pytest.mark.filterwarnings("error")

HAS_MPL = importlib.util.find_spec("matplotlib") is not None
HAS_SKLEARN = importlib.util.find_spec("sklearn") is not None
needs_mpl = pytest.mark.skipif(not HAS_MPL, reason="matplotlib is not installed")

TINY = dict(epoch_samples=200, digits_epochs=1, repeats=1)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def no_heavy_peers(monkeypatch):
    """torch, Keras and scikit-learn's MLP made unimportable (as if not installed)."""
    if HAS_SKLEARN:
        import sklearn.datasets  # noqa: F401 - its first import looks for torch: done before hiding it
    for name in ("torch", "keras", "sklearn.neural_network"):
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
    assert "| MLP epoch, batch 64 | 1 |" in text
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


def test_missing_peers_are_reported_as_skipped(no_heavy_peers):
    rows = training.run(thread_counts=(1,), sizes=TINY, parts=("seed", "epoch"), batch_sizes=(32,),
                        max_total_time=0.01)
    by_system = {(r["part"], r["system"]): r for r in rows}
    for part, system, reason in (("seed", "torch", "torch is not installed"),
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
    assert ("Skipped: keras: keras is not installed; sklearn: scikit-learn is not installed; "
            "torch: torch is not installed.") in text
    # a skipped peer gives no ratio
    assert {peer for _, _, peer, _ in training.ratios(rows)} == {"numpy"}


def test_training_repeats_and_checks():
    rows = training.run(thread_counts=(1,), sizes=TINY, parts=("epoch",), systems=("nnfast",),
                        batch_sizes=(100,), repeats=2)
    assert [r["repeats"] for r in rows] == [2]
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
    assert "Skipped: keras: keras is not installed" in text
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


def test_repeats_reach_sections_without_a_repeats_parameter(monkeypatch):
    calls = []

    def spy(fn, **kwargs):
        calls.append(kwargs)
        fn()
        return timing.Timing(1e-6, 1e-6, 1e-6, kwargs.get("repeats", 1), 1)
    monkeypatch.setattr(timing, "measure", spy)
    monkeypatch.setattr(opt_section, "QUICK_SIZES", ("1e3",))
    original = opt_section.measure
    report.run_section("optimizers", (1,), quick=True, repeats=4)
    assert calls and all(c["repeats"] == 4 and c["max_total_time"] >= 1e9 for c in calls)
    assert opt_section.measure is original  # restored
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
