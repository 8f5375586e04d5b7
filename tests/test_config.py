"""show_config, thread settings and the import-time ISA choice."""
import pytest

import nnfast as nf

from conftest import num_threads, run_python


def test_show_config_reports_the_build(capsys):
    nf.show_config()
    text = capsys.readouterr().out
    c = nf.config()
    for needle in ("nnfast " + nf.__version__, "compiler:", "ISA built:", "ISA supported:",
                   "ISA chosen:", "OpenMP:", "threads:", c["isa"], c["compiler"]):
        assert needle in text
    assert c["isa"] in c["isa_supported"]
    assert set(c["isa_supported"]) <= set(c["isa_built"])
    assert "-march=native" not in c["isa_flags"]


def test_python_m_nnfast_info_runs():
    r = run_python(["-m", "nnfast", "info"])
    assert r.returncode == 0, r.stderr
    assert "ISA chosen:" in r.stdout


def test_thread_setting():
    with num_threads(1):
        assert nf.get_num_threads() == 1
    with num_threads(2):
        expected = 2 if nf.config()["openmp"] else 1
        assert nf.get_num_threads() == expected


@pytest.mark.parametrize("bad, exc, words", [
    (0, ValueError, "n must be between 1 and 4096, got 0"),
    (-3, ValueError, "got -3"),
    ("2", TypeError, "n must be an int, got str"),
    (2.0, TypeError, "got float"),
    (True, TypeError, "got bool"),
])
def test_thread_setting_rejects(bad, exc, words):
    before = nf.get_num_threads()
    with pytest.raises(exc, match=words):
        nf.set_num_threads(bad)
    assert nf.get_num_threads() == before
