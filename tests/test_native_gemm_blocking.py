"""The GEMM's cache blocking: derived from the detected caches at import, overridden by
NNFAST_BLOCKING=KC,MC,NC (read at import, so each blocking runs in its own process), and never
changing a result's bits: every blocking, register tile (NNFAST_GEMM_MR) and thread count on one ISA
level gives the same bits, and all of them match the reference within the error bound of a k-term
sum."""
import json

import numpy as np
import pytest

import nnfast as nf
from nnfast import reference as ref

from conftest import assert_same_bits, assert_within, num_threads, run_python

# (m, k, n): packed A and B over several blocks, rows split among threads (m >= n) and column
# panels split (m < n), A read in place by threads that own half the column panels each (90 x 256:
# 16 panels of AVX2's float32 and AVX-512's float64 tiles), a small batch read in place, a narrow
# product, products of one to three columns (computed element by element, not in tiles), odd
# sizes everywhere
SHAPES = ((150, 301, 97), (257, 65, 300), (40, 500, 200), (90, 300, 256), (9, 1001, 70), (300, 200, 10),
          (67, 129, 1000), (257, 600, 1), (33, 17, 3))
PRODUCTS = ((False, False), (True, False), (False, True))
# small, odd and mixed blockings (0 keeps the derived size); MC and NC round up to whole panels
BLOCKINGS = ("", "1,0,0", "5,1,1", "7,5,3", "64,24,64", "0,0,33", "200,0,0")
# each register tile this level is built with (its rows), at the derived and at an odd blocking
TILES = tuple(nf.config()["gemm_tiles"])
TILE_RUNS = tuple((rows, blocking) for rows in TILES for blocking in ("", "7,5,3"))

CHILD = """
import json, sys
import numpy as np
import nnfast as nf
shapes, products = json.loads(sys.argv[2]), json.loads(sys.argv[3])
out = {}
rng = np.random.default_rng(3)
for dtype in ("float32", "float64"):
    for m, k, n in shapes:
        x = rng.standard_normal((m, k)).astype(dtype)
        w = rng.standard_normal((k, n)).astype(dtype)
        b = rng.standard_normal(n).astype(dtype)
        dy = rng.standard_normal((m, n)).astype(dtype)
        for threads in (1, 2):
            nf.set_num_threads(threads)
            tag = f"{dtype}-{m}x{k}x{n}-t{threads}"
            for ta, tb in products:
                a = np.ascontiguousarray(x.T) if ta else x
                bb = np.ascontiguousarray(w.T) if tb else w
                out[f"gemm{int(ta)}{int(tb)}-{tag}"] = nf.ops.gemm(a, bb, ta, tb)
            y = out[f"dense-{tag}"] = nf.ops.dense_forward(x, w, b, "relu")
            dx, dw, db = nf.ops.dense_backward(x, w, y, dy, "relu")
            out[f"dx-{tag}"], out[f"dw-{tag}"], out[f"db-{tag}"] = dx, dw, db
np.savez(sys.argv[1], **out)
print(json.dumps(nf.config()["gemm_blocking"]))
"""


def run_child(path, **env):
    """The child's results (a dict of arrays) and reported blocking."""
    r = run_python(["-c", CHILD, str(path), json.dumps(SHAPES), json.dumps(PRODUCTS)], **env)
    assert r.returncode == 0, r.stderr[-3000:]
    with np.load(path) as data:
        return dict(data), json.loads(r.stdout.splitlines()[-1])


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Each blocking's results and reported blocking (the tile chosen for this CPU), and each tile's
    at two blockings (keyed "mr<rows>:<blocking>"), each from its own process."""
    results = {}
    for blocking in BLOCKINGS:
        results[blocking] = run_child(tmp_path_factory.mktemp("blocking") / "out.npz", NNFAST_BLOCKING=blocking)
    for rows, blocking in TILE_RUNS:
        results[f"mr{rows}:{blocking}"] = run_child(tmp_path_factory.mktemp("tile") / "out.npz",
                                                    NNFAST_BLOCKING=blocking, NNFAST_GEMM_MR=str(rows))
    return results


def test_every_blocking_tile_and_thread_count_gives_the_same_bits(runs):
    base, _ = runs[""]
    assert len(runs) == len(BLOCKINGS) + len(TILE_RUNS)
    assert len(base) == 2 * len(SHAPES) * 2 * (len(PRODUCTS) + 4)
    for arrays, _ in runs.values():
        assert arrays.keys() == base.keys()
        for key, value in arrays.items():
            assert_same_bits(value, base[key])  # this blocking against the derived one
            if key.endswith("-t2"):
                assert_same_bits(value, arrays[key[:-1] + "1"])  # 2 threads against 1


def test_results_match_the_reference(runs):
    base, _ = runs[""]
    rng = np.random.default_rng(3)
    for dtype in (np.float32, np.float64):
        eps = float(np.finfo(dtype).eps)
        for m, k, n in SHAPES:
            x, w, b, dy = (rng.standard_normal(s).astype(dtype) for s in ((m, k), (k, n), (n,), (m, n)))
            tag = f"{np.dtype(dtype).name}-{m}x{k}x{n}-t1"
            for ta, tb in PRODUCTS:
                got = base[f"gemm{int(ta)}{int(tb)}-{tag}"]
                # the forward error bound of a k-term dot product: k eps |A| |B| (plus slack)
                bound = 2 * k * eps * (np.abs(x).astype(np.float64) @ np.abs(w))
                assert_within(got, ref.gemm(x, w), bound, f"gemm {tag} trans {ta, tb}")
            y = ref.dense_forward(x, w, b, "relu")
            bound = 2 * (k + 1) * eps * (np.abs(x).astype(np.float64) @ np.abs(w) + np.abs(b))
            assert_within(base[f"dense-{tag}"], y, bound, f"dense {tag}")


def test_override_is_reported_and_rounded_to_whole_panels(runs):
    derived = runs[""][1]
    for dtype, tile in derived.items():
        assert tile["kc"] >= 1 and tile["mc"] % tile["mr"] == 0 and tile["nc"] % tile["nr"] == 0
        assert runs["5,1,1"][1][dtype] == dict(tile, kc=5, mc=tile["mr"], nc=tile["nr"])
        assert runs["7,5,3"][1][dtype] == dict(tile, kc=7, mc=-(-5 // tile["mr"]) * tile["mr"], nc=tile["nr"])
        assert runs["64,24,64"][1][dtype] == dict(tile, kc=64, mc=-(-24 // tile["mr"]) * tile["mr"],
                                                   nc=-(-64 // tile["nr"]) * tile["nr"])
        # a zero keeps the derived size; a new KC re-derives MC and NC from it
        assert runs["0,0,33"][1][dtype] == dict(tile, nc=-(-33 // tile["nr"]) * tile["nr"])
        assert runs["200,0,0"][1][dtype]["kc"] == 200
        assert runs["1,0,0"][1][dtype]["mc"] >= runs["200,0,0"][1][dtype]["mc"]


def test_each_tile_is_used_and_reported(runs):
    for rows, blocking in TILE_RUNS:
        for dtype, tile in runs[f"mr{rows}:{blocking}"][1].items():
            assert tile["mr"] == rows
            if blocking:
                assert tile["kc"] == 7 and tile["mc"] == -(-5 // rows) * rows
    # the derived blocking follows the tile: KC (its A micro-panel in L1) shrinks as MR grows
    derived = [runs[f"mr{rows}:"][1]["float32"]["kc"] for rows in TILES]
    assert derived == sorted(derived, reverse=True)


def test_config_reports_the_overrides_read_at_import(monkeypatch):
    """What is in force was read at import: setting the variables later changes neither the
    blocking nor what config() says of the overrides."""
    before = nf.config()
    monkeypatch.setenv("NNFAST_BLOCKING", "7,5,3")
    monkeypatch.setenv("NNFAST_GEMM_MR", "99")
    after = nf.config()
    for key in ("blocking_override", "gemm_tile_override", "gemm_blocking", "gemm_tiles"):
        assert after[key] == before[key]


def test_config_and_show_config_report_caches_and_blocking(capsys):
    c = nf.config()
    caches = c["caches"]
    assert caches["source"] in ("cpuid", "sysfs", "sysconf", "sysctl", "fallback")
    assert 0 < caches["l1d"] < caches["l2"] and caches["l3_per_core"] > 0
    nf.show_config()
    text = capsys.readouterr().out
    assert f"L1d {caches['l1d'] // 1024} KiB" in text and f"L2 {caches['l2'] // 1024} KiB" in text
    for dtype, b in c["gemm_blocking"].items():
        assert f"{dtype}: MR x NR {b['mr']} x {b['nr']}, KC {b['kc']}, MC {b['mc']}, NC {b['nc']}" in text
    tiles = ", ".join(map(str, c["gemm_tiles"]))
    assert f"GEMM tile rows:  {c['gemm_blocking']['float32']['mr']} of {tiles} built (" in text


@pytest.mark.parametrize("value, why", [("abc", "missing a comma"), ("1,2", "missing a comma"),
                                        ("-1,2,3", "not an integer"), ("1,2,3,4", "not an integer"),
                                        ("1,2,99999999", "too large"), ("1, 2,3", "not an integer")])
def test_bad_override_fails_the_import_naming_it(value, why):
    r = run_python(["-c", "import nnfast"], NNFAST_BLOCKING=value)
    assert r.returncode != 0
    assert "NNFAST_BLOCKING must be KC,MC,NC: three integers in [0, 1048576]" in r.stderr
    assert f"{why}, got '{value}'" in r.stderr


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("m, k", [(256, 256), (7, 9), (1000, 65), (17, 1), (9, 1000), (1, 7)])
def test_products_of_a_few_columns_carry_the_tiles_bits(dtype, m, k):
    """Up to three columns are summed element by element, in the tiles' own order, so they equal
    the same columns of a product wide enough for tiles, bit for bit, on 1 and 2 threads."""
    rng = np.random.default_rng(m * 1000 + k)
    a = rng.standard_normal((m, k)).astype(dtype)
    b = rng.standard_normal((k, 40)).astype(dtype)
    bias = rng.standard_normal(40).astype(dtype)
    wide = nf.ops.gemm(a, b)
    wide_dense = nf.ops.dense_forward(a, b, bias, "sigmoid")
    for threads in (1, 2):
        with num_threads(threads):
            for n in (1, 2, 3):
                columns = np.ascontiguousarray(b[:, :n])
                assert_same_bits(nf.ops.gemm(a, columns), wide[:, :n])
                assert_same_bits(nf.ops.dense_forward(a, columns, bias[:n], "sigmoid"), wide_dense[:, :n])
