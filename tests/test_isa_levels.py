"""The ISA level is chosen at import, NNFAST_ISA forces a lower one, and every level the machine
supports passes the native test files against the reference (each in its own process)."""
import os

import pytest

import nnfast as nf

from conftest import TESTS_DIR, run_python

NATIVE_TESTS = sorted(str(p) for p in TESTS_DIR.glob("test_native_*.py"))
SUPPORTED = nf.config()["isa_supported"]
FEATURES = {"generic": set(), "avx2": {"avx2", "fma"},
            "avx512": {"avx512f", "avx512dq", "avx512bw", "avx512vl", "avx512cd", "avx2", "fma"}, "neon": set()}


def test_default_is_the_best_supported_level():
    if "NNFAST_ISA" in os.environ:
        pytest.skip("NNFAST_ISA is set for this run")
    assert nf.config()["isa"] == SUPPORTED[-1]


@pytest.mark.parametrize("isa", SUPPORTED)
def test_forced_level_is_used_and_compiled_for_its_features(isa):
    r = run_python(["-c", "import nnfast; c = nnfast.config(); print(c['isa']); print(c['isa_features'])"],
                   NNFAST_ISA=isa)
    assert r.returncode == 0, r.stderr
    chosen, features = r.stdout.splitlines()
    assert chosen == isa
    assert FEATURES[isa] <= set(features.split())
    if isa == "generic":
        assert not {"avx2", "fma", "avx512f"} & set(features.split())


@pytest.mark.parametrize("value, words", [("foo", "is not a known ISA level"),
                                          ("AVX2", "is not a known ISA level")])
def test_unknown_level_fails_the_import_naming_it(value, words):
    r = run_python(["-c", "import nnfast"], NNFAST_ISA=value)
    assert r.returncode != 0
    assert f"NNFAST_ISA='{value}' {words}" in r.stderr
    assert "available on this machine: " + ", ".join(SUPPORTED) in r.stderr


def test_unsupported_level_fails_the_import():
    missing = [lvl for lvl in nf.config()["isa_built"] if lvl not in SUPPORTED]
    if not missing:
        pytest.skip("this CPU supports every level built")
    r = run_python(["-c", "import nnfast"], NNFAST_ISA=missing[0])
    assert r.returncode != 0
    assert "is a level this CPU does not support" in r.stderr


@pytest.mark.skipif("NNFAST_ISA" in os.environ, reason="already running under a forced level")
@pytest.mark.parametrize("isa", SUPPORTED)
def test_native_tests_pass_at_every_level(isa):
    r = run_python(["-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "-W", "error", *NATIVE_TESTS],
                   NNFAST_ISA=isa)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    assert " passed" in r.stdout.splitlines()[-1]
