"""The layers bench section (batch norm and dropout beside NumPy and torch), on tiny sizes: its
table, and that every system's callable computes the same pass (no timing is asserted)."""
import numpy as np
import pytest

from nnfast.apps.bench import layers, report

pytestmark = pytest.mark.filterwarnings("error")


def _systems():
    try:
        import torch  # noqa: F401
        return layers.SYSTEMS
    except ImportError:
        return ("nnfast", "numpy")


def _array(v):
    return v.detach().numpy() if hasattr(v, "detach") else np.asarray(v)


def test_layers_is_a_registered_section_with_ratios_and_stream_share():
    assert report.SECTIONS["layers"] is layers
    rows = layers.run(thread_counts=(1,), sizes=("32x128",), systems=_systems(), max_total_time=0.02)
    assert {r["kind"] for r in rows} == set(layers.KINDS)
    text = layers.markdown(rows)
    assert "| 32x128 | batch_norm forward |" in text and "% of stream" in text
    nn = [r for r in rows if r["system"] == "nnfast"]
    assert all(r["us"] > 0 and 0 < r["bandwidth"] and r["stream"] > 0 for r in nn)
    # x = peer time / nnfast time is printed beside every peer cell
    peer = next(r for r in rows if r["system"] == "numpy" and r["kind"] == "dropout backward")
    base = next(r for r in nn if r["kind"] == "dropout backward")
    assert f"{peer['us'] / base['us']:.2f}x" in text


@pytest.mark.parametrize("kind", ["batch_norm forward", "batch_norm backward"])
def test_batch_norm_passes_compute_the_same_values(kind):
    outputs = {}
    for system in _systems():
        fn, reason = layers.layer_function(system, kind, 65, 17)
        assert fn is not None, reason
        result = fn()
        first = result[0] if isinstance(result, (tuple, list)) else result
        outputs[system] = _array(first)
        if kind.endswith("backward"):
            outputs[system + " dgamma"] = _array(result[1])
            outputs[system + " dbeta"] = _array(result[2])
    for system in _systems()[1:]:
        np.testing.assert_allclose(outputs[system], outputs["nnfast"], rtol=2e-4, atol=2e-5)
        if kind.endswith("backward"):
            np.testing.assert_allclose(outputs[system + " dgamma"], outputs["nnfast dgamma"], rtol=2e-4, atol=2e-4)
            np.testing.assert_allclose(outputs[system + " dbeta"], outputs["nnfast dbeta"], rtol=2e-4, atol=2e-4)


@pytest.mark.parametrize("kind", ["dropout forward", "dropout backward"])
def test_dropout_passes_keep_about_the_rate_and_scale_alike(kind):
    x, dy, _, _ = layers.batch_data(256, 256)
    source = x if kind.endswith("forward") else dy
    scale = np.float32(1 / (1 - layers.RATE))
    for system in _systems():
        fn, reason = layers.layer_function(system, kind, 256, 256)
        assert fn is not None, reason
        result = fn()
        y = _array(result[0] if isinstance(result, (tuple, list)) else result)
        kept = y != 0
        # each system draws its own mask: about 1 - rate kept, each kept value scaled by 1/(1-rate)
        assert abs(kept.mean() - (1 - layers.RATE)) < 0.01, system
        np.testing.assert_allclose(y[kept], source[kept] * scale, rtol=1e-6)


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="kind"):
        layers.layer_function("nnfast", "batch_norm sideways", 4, 4)
