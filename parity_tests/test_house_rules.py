"""The house rules that a machine can check: scratch is NumPy-only, and ruff and mypy are clean."""

import ast
import pathlib
import shutil
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
ALLOWED = {"numpy", "scratch"} | set(sys.stdlib_module_names)


def imported_roots(path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from (alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            yield node.module.split(".")[0]


def test_scratch_imports_numpy_and_the_standard_library_only():
    offenders = {f"{path.relative_to(ROOT)}: {name}" for path in (ROOT / "scratch").rglob("*.py")
                 for name in imported_roots(path) if name not in ALLOWED}
    assert not offenders, offenders


def test_ruff_is_clean():
    ruff = shutil.which("ruff") or str(pathlib.Path(sys.executable).with_name("ruff"))
    result = subprocess.run([ruff, "check", str(ROOT)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_is_clean():
    """``mypy`` as configured in pyproject.toml: every flag of --strict for scratch, the default mode for torch_ref."""
    mypy = shutil.which("mypy") or str(pathlib.Path(sys.executable).with_name("mypy"))
    result = subprocess.run([mypy], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
