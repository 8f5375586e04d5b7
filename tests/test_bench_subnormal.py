"""The subnormal benchmark section on tiny sizes: its data, states, rows and tables (no timing is
asserted), and that its NumPy peer computes plain IEEE NumPy."""
import numpy as np
import pytest

import nnfast
from nnfast.apps.bench import report, subnormal
from nnfast.utils import subnormals

pytestmark = pytest.mark.filterwarnings("error")

TINY = dict(epoch_samples=300, warmup_epochs=1, repeats=1, adam_params=1000, adam_repeats=1)


def test_subnormal_is_a_registered_section():
    assert report.SECTIONS["subnormal"] is subnormal
    assert subnormal.QUICK_SIZES["epoch_samples"] < subnormal.SIZES["epoch_samples"] == 60000


def test_learnable_data_and_its_normal_twin():
    x, y = subnormal.learnable_data(500)
    assert x.shape == (500, 784) and x.dtype == np.float32 and 0.0 <= x.min() and x.max() < 1.0
    np.testing.assert_array_equal(y, x[:, :10].argmax(axis=1))
    xc, yc = subnormal.learnable_data(500, centered=True)
    np.testing.assert_array_equal(xc, x - np.float32(0.5))
    np.testing.assert_array_equal(yc, y)


def test_adam_moments_are_subnormal_or_normal():
    tiny = np.finfo(np.float32).tiny
    _, g, m, v = subnormal.adam_moments(1000, True)
    assert not g.any() and (np.abs(m) < tiny).all() and (v < tiny).all() and (v > 0).all()
    _, _, m, v = subnormal.adam_moments(1000, False)
    assert (np.abs(m[m != 0]) >= tiny).all() and (v >= tiny).all()


@pytest.mark.parametrize("system", ["nnfast flush", "nnfast ieee", "numpy"])
@pytest.mark.parametrize("moments", ["subnormal", "normal"])
def test_adam_step_systems_compute_the_step_they_name(system, moments):
    """nnfast with and without flushing, and the NumPy peer as plain IEEE NumPy (the setting on)."""
    step, reset, got = subnormal.adam_step(system, 1000, moments == "subnormal")
    with nnfast.flush_denormal(system != "nnfast ieee"):
        reset()
        step()
        assert subnormals.enabled() is (system != "nnfast ieee"), "the setting is left as it was"
    w, g, m, v = subnormal.adam_moments(1000, moments == "subnormal")
    with nnfast.flush_denormal(system == "nnfast flush"):
        nnfast.reference.adam_update([w], [g], [m], [v], None, step=10, learning_rate=1e-3, beta_1=0.9,
                                     beta_2=0.999, epsilon=1e-7)
    for a, b in zip(got, (w, m, v)):
        np.testing.assert_array_equal(a.view(np.uint32), b.view(np.uint32))
    if moments == "subnormal":  # flushing reads the moments as zeros; IEEE keeps decaying them
        assert (got[1] == 0).all() if system == "nnfast flush" else (got[1] != 0).any()


def test_section_rows_and_tables():
    rows = subnormal.run(thread_counts=(1,), sizes=TINY)
    assert {(r["part"], r["data"]) for r in rows} == {("epoch", "learnable"), ("epoch", "normal"),
                                                      ("adam", "subnormal"), ("adam", "normal")}
    done = [r for r in rows if not r["skipped"]]
    assert all(r["seconds"] > 0 for r in done)
    assert all(0.0 <= r["subnormal_share"] <= 1.0 for r in done if r["part"] == "epoch")
    text = subnormal.markdown(rows)
    assert "**Learnable-label epoch**" in text and "**Adam step over decayed moments**" in text
    assert "target <= 1.10" in text
    assert all(peer != "nnfast flush" for _, _, peer, _ in subnormal.ratios(rows))
    with pytest.raises(ValueError, match="unknown part"):
        subnormal.run(thread_counts=(1,), sizes=TINY, parts=("nope",))
