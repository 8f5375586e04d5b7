"""Builds the C API's downstream users in a temporary folder against the installed nnfast, offline:
the plain-C library of tests/capi_plain.c, docs/capi.md's example extension, and examples/cython_mlp.
A missing compiler or Cython skips the tests on a user's machine but fails them in CI (CI=true)."""
import importlib.util
import os
import pathlib
import shutil
import subprocess
import sysconfig

import pytest

import nnfast
from nnfast.apps.bench.capi import build_example

ROOT = pathlib.Path(__file__).resolve().parents[1]


def require(what, available):
    if available:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{what} is needed to build the C API's users and CI must run them")
    pytest.skip(f"{what} is not installed")


def compiler():
    cc = (sysconfig.get_config_var("CC") or "cc").split()
    require(f"a C compiler ({cc[0]})", shutil.which(cc[0]))
    return cc


def compile_c(source, output, shared_flags=("-shared",)):
    """source (a .c file) compiled as C99 with every warning an error, against nnfast's header."""
    cmd = [*compiler(), "-std=c99", "-O2", "-fPIC", "-Wall", "-Wextra", "-Werror", *shared_flags,
           "-I", nnfast.get_include(), "-I", sysconfig.get_paths()["include"], str(source), "-o", str(output)]
    result = subprocess.run(cmd, capture_output=True, text=True)
    assert result.returncode == 0, f"{' '.join(cmd)}\n{result.stdout}\n{result.stderr}"
    return output


def load_extension(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build_cython_example(dest):
    """examples/cython_mlp copied to dest and built in place with its own setup.py (setuptools and
    Cython from this environment, no network); returns the folder to put on sys.path."""
    require("Cython", importlib.util.find_spec("Cython"))
    compiler()
    return build_example(dest, str(ROOT / "examples" / "cython_mlp"))
