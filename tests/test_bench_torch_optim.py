"""The torch_optim benchmark section on tiny configurations: rows, table, skipped systems; no
timing is asserted."""
import pytest

from nnfast.apps.bench import report
from nnfast.apps.bench import torch_optim as section

pytestmark = pytest.mark.filterwarnings("error")


def test_torch_optim_is_a_registered_section():
    assert report.SECTIONS["torch_optim"] is section
    assert set(section.QUICK_SIZES) <= set(section.SIZES) and set(section.QUICK_OPTIMIZERS) <= set(section.OPTIMIZERS)
    assert section.SIZES["mlp"] == [(128, 784), (128,), (10, 128), (10,)]


def test_rows_and_table(torch, monkeypatch):
    monkeypatch.setitem(section.SIZES, "tiny", [(3, 5), (7,)])
    rows = section.run(thread_counts=(1,), sizes=("tiny",), names=("adam", "rmsprop"), max_total_time=0.01,
                       epoch_samples=2 * section.BATCH)
    kinds = {(r["kind"], r["optimizer"], r["system"]) for r in rows}
    assert kinds == {(k, n, s) for k in ("step", "epoch") for n in ("adam", "rmsprop") for s in section.SYSTEMS}
    measured = [r for r in rows if not r["skipped"]]
    assert all(r["us"] > 0 for r in measured)
    # torch has no fused RMSprop: reported as skipped, never faked
    assert [r["skipped"] for r in rows if r["optimizer"] == "rmsprop" and r["system"] == "torch-fused"] == [True, True]
    assert all(not r["skipped"] for r in rows if r["system"] == "nnfast")
    text = section.markdown(rows)
    assert "| step | adam | tiny |" in text and "nnfast.compat.torch" in text and "skipped" in text
    assert "| epoch | rmsprop | 128 samples |" in text
    pairs = report.ratios("torch_optim", rows)
    assert {p[2] for p in pairs} == {"torch-fused", "torch-foreach"}


def test_step_function_trains_and_epoch_changes_the_model(torch):
    step = section.step_function("nnfast", "adam", [(4,)])
    step()
    epoch = section.epoch_function("nnfast", "momentum", section.BATCH)
    epoch()


def test_without_torch_every_system_is_skipped(monkeypatch):
    monkeypatch.setattr(section, "optional_import", lambda name: None)
    rows = section.run(thread_counts=(1,), sizes=("mlp",), names=("adam",), max_total_time=0.01, epoch_samples=64)
    assert rows and all(r["skipped"] for r in rows)
