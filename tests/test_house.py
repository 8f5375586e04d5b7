"""The house rules that keep nnfast easy to live in, checked on the source: no module reaches into
another module's underscore names, and no module grows past a readable size."""
import ast
import pathlib

import pytest

import nnfast

# The package the tests import: the source folder of an editable install, else the installed copy
# (CI also runs the suite against the installed wheel, away from the checkout).
PACKAGE = pathlib.Path(nnfast.__file__).resolve().parent
SOURCES = sorted(PACKAGE.rglob("*.py"))

# Underscore names one module may use of another, and why. `_core` is nnfast's own compiled
# extension: a private module of the package, reached by name only from inside it.
ALLOWED = {"_core": "the package's compiled extension module"}

# Modules allowed above MAX_LINES, and why.
MAX_LINES = 450
LONG_MODULES = {"reference.py": "the NumPy twin of every kernel, kept in one file to read side by side",
                "ops.py": "the native face of every kernel: one wrapper per function of reference.py, side by side"}


def private(name):
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__")) and name not in ALLOWED


def reaches(tree):
    """(line, text) of each use of another object's or module's underscore name."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and private(node.attr):
            owner = node.value
            if not (isinstance(owner, ast.Name) and owner.id in ("self", "cls")):
                found.append((node.lineno, ast.unparse(node)))
        elif isinstance(node, ast.ImportFrom):
            parts = (node.module or "").split(".")
            names = [alias.name for alias in node.names]
            if any(private(p) for p in parts) or any(private(n) for n in names):
                found.append((node.lineno, ast.unparse(node)))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if any(private(p) for p in alias.name.split(".")):
                    found.append((node.lineno, ast.unparse(node)))
    return found


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_reads_another_modules_underscore_names(path):
    found = reaches(ast.parse(path.read_text(), str(path)))
    assert not found, f"{path.relative_to(PACKAGE)} reaches into private names: {found}"


def test_the_checker_finds_reaches():
    code = "from .a import _b\nimport x._y\nopt._ops = 1\nsuper()._f()\nself._ok = 1\ncls._ok\nm.__dict__\n_core.f()"
    assert [line for line, _ in reaches(ast.parse(code))] == [1, 2, 3, 4]


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_modules_stay_readable_in_size(path):
    if path.name in LONG_MODULES and path.parent == PACKAGE:
        return
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(PACKAGE)} has {lines} lines (at most {MAX_LINES})"
