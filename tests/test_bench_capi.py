"""The bench's capi section: its rows and tables on tiny sizes (nothing here asserts a timing)."""
import importlib.util
import os

import pytest

from nnfast import _core
from nnfast.apps.bench import capi, report


def test_capi_is_a_registered_section():
    assert report.SECTIONS["capi"] is capi


def test_the_call_cost_probe():
    figures = _core.capi_call_cost("adam", 50, 3)
    assert len(figures) == 3 and all(len(f) == 3 and min(f) > 0 for f in figures)
    with pytest.raises(ValueError, match="which must be 'dense_forward' or 'adam', got 'x'"):
        _core.capi_call_cost("x", 1, 1)
    with pytest.raises(ValueError, match="iters and rounds must be >= 1"):
        _core.capi_call_cost("adam", 0, 1)


def test_capi_section_rows_and_tables():
    rows = capi.run(sizes={"iters": 50, "rounds": 3, "epoch_samples": 96, "repeats": 3})
    cases = list(dict.fromkeys(r["case"] for r in rows))
    assert cases == ["dense_forward 32x128x10", "adam_update 1e3 params", "epoch 784-128-10, batch 32, 96 samples"]
    systems = {(r["case"], r["system"]): r for r in rows}
    # the Cython rows need Cython and the source checkout's example (absent next to an installed wheel)
    cython = importlib.util.find_spec("Cython") is not None and os.path.isdir(capi.EXAMPLE)
    for case in cases[:2]:
        for system in ("kernel table from C++", "kernel table + FP mode from C++", "C API from C++",
                       "nnfast.ops from Python"):
            assert systems[(case, system)]["us"] > 0
        assert systems[(case, "C API from Cython")]["skipped"] is not cython
    assert systems[(cases[2], "Sequential.fit")]["us"] > 0
    assert systems[(cases[2], "Cython example (C API)")]["skipped"] is not cython
    text = capi.markdown(rows)
    assert "| dense_forward 32x128x10 | C API from C++ |" in text
    assert "the C API adds" in text and "ns per call over the kernel table" in text
    if cython:
        assert "the Cython epoch takes" in text
        assert {label for label, *_ in capi.ratios(rows)} == set(cases)
