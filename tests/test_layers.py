"""The package's layers (docs/architecture.md) hold: checked with import-linter and grimp."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import networkx as nx
import pytest

from tests.paths import ROOT


def lint_imports(src: Path) -> subprocess.CompletedProcess[str]:
    """Run import-linter's contracts (pyproject.toml) on the package found under ``src``."""
    code = "import sys; from importlinter.cli import lint_imports_command; lint_imports_command()"
    return subprocess.run(
        [sys.executable, "-c", code, "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
        cwd=src,
        env={"PYTHONPATH": str(src), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_import_contracts_are_kept() -> None:
    result = lint_imports(ROOT / "src")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "upward"),
    [
        ("graph/store/handles.py", "from graph.http import app"),
        ("graph/answering/guard.py", "import flask"),
        ("graph/http/negotiate.py", "import pyoxigraph"),
    ],
)
def test_an_upward_import_breaks_the_contracts(tmp_path: Path, module: str, upward: str) -> None:
    """The contracts are not vacuous: one added import that breaks a layer fails the check."""
    shutil.copytree(ROOT / "src" / "graph", tmp_path / "graph")
    target = tmp_path / module
    target.write_text(target.read_text() + f"\n{upward}  # noqa\n")
    result = lint_imports(tmp_path)
    assert result.returncode != 0
    assert "BROKEN" in result.stdout
    assert module.removesuffix(".py").replace("/", ".") in result.stdout


def test_no_module_imports_itself_back() -> None:
    """No import cycle anywhere in the package (typing-only imports aside)."""
    imports = grimp.build_graph("graph", cache_dir=None, exclude_type_checking_imports=True)
    edges = nx.DiGraph()
    for module in imports.modules:
        for imported in imports.find_modules_directly_imported_by(module):
            if imported.startswith("graph"):
                edges.add_edge(module, imported)
    cycles = [" -> ".join(cycle) for cycle in nx.simple_cycles(edges)]
    assert cycles == []
