"""kg serve runs on mimalloc (or jemalloc) when installed: found, preloaded, reported."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from graph.cli import cli
from graph.http.observe import malloc_in_use
from graph.serving import allocator


def test_auto_prefers_mimalloc_then_jemalloc_then_the_system(tmp_path: Path) -> None:
    search = (str(tmp_path / "a"), str(tmp_path / "b"))
    assert allocator.library_for("auto", search) is None
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "libjemalloc.so.2").touch()
    assert allocator.library_for("auto", search) == tmp_path / "b" / "libjemalloc.so.2"
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "libmimalloc.so.2").touch()
    assert allocator.library_for("auto", search) == tmp_path / "a" / "libmimalloc.so.2"
    assert allocator.library_for("system", search) is None


def test_a_path_that_is_not_a_file_is_refused_by_name(tmp_path: Path) -> None:
    missing = tmp_path / "libnothing.so"
    with pytest.raises(ValueError, match=r"libnothing\.so"):
        allocator.library_for(str(missing))
    result = CliRunner().invoke(cli, ["serve", "--allocator", str(missing)])
    assert result.exit_code != 0 and "libnothing.so" in result.output


def test_restart_preloads_the_library_and_keeps_the_command(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    library = tmp_path / "libmimalloc.so.2"
    library.touch()
    calls: list[tuple[str, list[str], dict[str, str]]] = []

    def execve(path: str, argv: list[str], env: dict[str, str]) -> Any:
        calls.append((path, argv, env))

    monkeypatch.setattr(os, "execve", execve)
    monkeypatch.setenv("LD_PRELOAD", "/other.so")
    allocator.restart_with(library)
    [(path, argv, env)] = calls
    assert path == sys.executable and argv == sys.orig_argv
    assert env["LD_PRELOAD"].split() == [str(library), "/other.so"]
    # Once preloaded, the restarted process goes on instead of restarting again.
    monkeypatch.setenv("LD_PRELOAD", env["LD_PRELOAD"])
    allocator.restart_with(library)
    assert len(calls) == 1


def test_in_use_reads_the_process_memory_map() -> None:
    mapped = malloc_in_use()
    preloaded = os.environ.get("LD_PRELOAD", "")
    assert (mapped is not None) == ("malloc" in preloaded)
