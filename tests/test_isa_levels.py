"""The ISA level is chosen at import, NNFAST_ISA forces a lower one, and every level the machine
supports passes the native test files against the reference (each in its own process), with each
GEMM tile the level is built with (NNFAST_GEMM_MR)."""
import json
import os

import pytest

import nnfast as nf

from conftest import TESTS_DIR, cpu_vendor, run_python

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


def level_tiles(isa):
    """The GEMM tiles' rows built for level `isa` and the one chosen for this CPU, from a child."""
    r = run_python(["-c", "import json, nnfast; c = nnfast.config(); "
                          "print(json.dumps([c['gemm_tiles'], c['gemm_blocking']['float32']['mr']]))"],
                   NNFAST_ISA=isa)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


@pytest.mark.skipif("NNFAST_ISA" in os.environ or "NNFAST_GEMM_MR" in os.environ,
                    reason="already running under a forced level or tile")
@pytest.mark.parametrize("isa", SUPPORTED)
def test_native_tests_pass_with_every_other_gemm_tile(isa):
    """The default tile runs in test_native_tests_pass_at_every_level; here each other one does."""
    tiles, chosen = level_tiles(isa)
    assert chosen in tiles and tiles == sorted(tiles)
    others = [t for t in tiles if t != chosen]
    if not others:
        pytest.skip(f"the {isa} level has one GEMM tile")
    for rows in others:
        r = run_python(["-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "-W", "error", *NATIVE_TESTS],
                       NNFAST_ISA=isa, NNFAST_GEMM_MR=str(rows))
        assert r.returncode == 0, f"tile of {rows} rows: " + r.stdout[-3000:] + r.stderr[-2000:]
        assert " passed" in r.stdout.splitlines()[-1]


def test_avx512_tile_is_chosen_for_the_cpu():
    """8 rows on AMD (Zen 4 ran them faster), 12 elsewhere (Intel's two 512-bit FMA ports)."""
    if "avx512" not in SUPPORTED:
        pytest.skip("this CPU has no AVX-512")
    vendor = cpu_vendor()
    if vendor not in ("AuthenticAMD", "GenuineIntel"):
        pytest.skip(f"CPU vendor {vendor!r} unknown to this test")
    tiles, chosen = level_tiles("avx512")
    assert tiles == [8, 12]
    assert chosen == (8 if vendor == "AuthenticAMD" else 12)


@pytest.mark.parametrize("value", ["7", "abc", "012", "-8", "1000", " 8"])
def test_unknown_gemm_tile_fails_the_import_naming_it(value):
    tiles = nf.config()["gemm_tiles"]
    r = run_python(["-c", "import nnfast"], NNFAST_GEMM_MR=value)
    assert r.returncode != 0
    assert (f"NNFAST_GEMM_MR='{value}' is not a GEMM tile of the {nf.config()['isa']} level; "
            f"its tiles' rows: {', '.join(map(str, tiles))}") in r.stderr


def test_a_tile_of_another_level_fails_the_import():
    if "avx2" not in SUPPORTED:
        pytest.skip("this CPU has no AVX2")
    r = run_python(["-c", "import nnfast"], NNFAST_ISA="avx2", NNFAST_GEMM_MR="12")
    assert r.returncode != 0
    assert "NNFAST_GEMM_MR='12' is not a GEMM tile of the avx2 level; its tiles' rows: 6" in r.stderr
