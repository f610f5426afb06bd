"""``kg backup`` and ``kg restore``: online, consistent, restored atomically as a new generation."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from tests.reliability.conftest import Figures, make_project, run_kg, write_bulk

from graph.build.embedded import build
from graph.core.namespaces import CANONICAL_BASE
from graph.store import DefaultGraph, Literal, NamedNode, Quad, dump_nquads, open_store

ENTITIES = 2000
HONDURAS = NamedNode("https://w3id.org/alliance-graph/id/country/honduras")
ISO = NamedNode("https://w3id.org/alliance-graph/ontology#iso3166Alpha2")

#: A stand-in for a server: holds the store open (read-only unless told) and answers queries.
HOLDER = """
import sys
from pathlib import Path
from graph.store import open_store, select_rows

store = open_store(Path(sys.argv[1]), read_only=sys.argv[2] == "ro")
print("ready", flush=True)
for line in sys.stdin:
    rows = select_rows(store, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    print(rows[0]["n"], flush=True)
"""


def _dump(store: Path) -> list[bytes]:
    handle = open_store(store, read_only=True)
    lines = dump_nquads(handle).splitlines()
    del handle
    return lines


def _counts(store: Path) -> tuple[int, int]:
    """(quads the named graphs hold, triples of the default graph: each once, issue 17)."""
    handle = open_store(store, read_only=True)
    quads = [q for q in handle if not isinstance(q.graph_name, DefaultGraph)]
    triples = len(handle) - len(quads)
    del handle
    return len(quads), triples


@pytest.fixture
def built(tmp_path: Path) -> tuple[Path, Path]:
    """A project with generated data (variant A) and its built store."""
    project = make_project(tmp_path / "project", ENTITIES, "A")
    store = tmp_path / "var" / "store"
    build(project, store, CANONICAL_BASE)
    return project, store


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store built once for the tests that must leave it unchanged."""
    store = tmp_path_factory.mktemp("shared") / "store"
    build(make_project(store.parent / "project", 100, "A"), store, CANONICAL_BASE)
    return store


@pytest.fixture
def holder() -> Iterator[Callable[[Path, str], subprocess.Popen[str]]]:
    """Start processes that hold a store open; they are killed after the test."""
    started: list[subprocess.Popen[str]] = []

    def start(store: Path, mode: str) -> subprocess.Popen[str]:
        process = subprocess.Popen(
            [sys.executable, "-c", HOLDER, str(store), mode],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        started.append(process)
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "ready"
        return process

    yield start
    for process in started:
        process.send_signal(signal.SIGKILL)
        process.wait()


def _ask(process: subprocess.Popen[str]) -> int:
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write("count\n")
    process.stdin.flush()
    return int(process.stdout.readline())


@pytest.mark.parametrize("name", ["backup-dir", "backup.nq", "backup.trig"])
def test_backup_while_served_then_restore_gives_back_the_same_data(
    built: tuple[Path, Path],
    holder: Callable[[Path, str], subprocess.Popen[str]],
    tmp_path: Path,
    name: str,
    figures: Figures,
) -> None:
    project, store = built
    original = _dump(store)
    quads, triples = _counts(store)
    server = holder(store, "ro")
    destination = tmp_path / name

    started = time.monotonic()
    result = run_kg("backup", str(destination), "--store", str(store))
    backup_seconds = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    assert f"Backed up {quads} quads" in result.stderr
    assert _ask(server) == triples  # the server kept answering

    write_bulk(project, ENTITIES + 10, "B")  # modify: rebuild with other data
    build(project, store, CANONICAL_BASE)
    assert _dump(store) != original

    started = time.monotonic()
    result = run_kg(
        "restore", str(destination), "--store", str(store), "--project-dir", str(project)
    )
    restore_seconds = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    assert store.is_symlink()
    assert _dump(store) == original
    assert _ask(server) == triples  # a reader of an earlier generation still works
    assert holder(store, "ro") is not None  # and the store path opens afresh
    kind = "checkpoint" if "." not in name else name.rsplit(".", 1)[1]
    figures[f"backup_{kind}_seconds"] = round(backup_seconds, 2)
    figures[f"restore_{kind}_seconds"] = round(restore_seconds, 2)
    figures["backup_quads"] = quads


def test_a_checkpoint_keeps_writes_not_yet_flushed(
    built: tuple[Path, Path], tmp_path: Path
) -> None:
    """A writable server's last writes sit in RocksDB's write-ahead log after it stops; a
    checkpoint of a read-only handle used to leave them out."""
    _, store = built
    handle = open_store(store, read_only=False)
    written = Quad(HONDURAS, ISO, Literal("written"), next(iter(handle.named_graphs())))
    handle.add(written)
    del handle
    destination = tmp_path / "backup"
    assert run_kg("backup", str(destination), "--store", str(store)).returncode == 0
    copy = open_store(destination, read_only=True)
    assert written in copy
    assert len(copy) == len(_dump(store))


def test_backup_refuses_while_a_process_writes_and_names_it(
    built: tuple[Path, Path],
    holder: Callable[[Path, str], subprocess.Popen[str]],
    tmp_path: Path,
) -> None:
    _, store = built
    writer = holder(store, "rw")
    destination = tmp_path / "backup"
    result = run_kg("backup", str(destination), "--store", str(store))
    assert result.returncode == 1
    assert f"open for writing by process {writer.pid}" in result.stderr
    assert "Traceback" not in result.stderr
    assert not destination.exists()
    assert list(tmp_path.glob(".backup.partial-*")) == []


def test_restore_of_a_broken_dump_publishes_nothing(
    built: tuple[Path, Path], tmp_path: Path
) -> None:
    _, store = built
    original, target = _dump(store), store.resolve()
    dump = tmp_path / "broken.nq"
    dump.write_text("<urn:a> <urn:b> <urn:c> .\n<urn:a> <urn:b> oops .\n", encoding="utf-8")
    result = run_kg("restore", str(dump), "--store", str(store))
    assert result.returncode == 1
    assert f"{dump}:2:" in result.stderr
    assert "Traceback" not in result.stderr
    assert store.resolve() == target
    assert _dump(store) == original
    assert len(list(target.parent.iterdir())) == 1  # the half-loaded generation is gone


@pytest.mark.parametrize("name", ["backup-dir", "backup.nq"])
def test_restore_of_data_breaking_the_shapes_names_the_violation_and_publishes_nothing(
    built: tuple[Path, Path],
    holder: Callable[[Path, str], subprocess.Popen[str]],
    tmp_path: Path,
    name: str,
) -> None:
    project, store = built
    broken = tmp_path / "broken"
    build(project, broken, CANONICAL_BASE)
    handle = open_store(broken, read_only=False)
    graph = next(iter(handle.named_graphs()))
    for name_of in (graph, DefaultGraph()):  # the named graph and the default graph's set
        handle.add(Quad(HONDURAS, ISO, Literal("ZZ"), name_of))
    del handle
    backup = tmp_path / name
    assert run_kg("backup", str(backup), "--store", str(broken)).returncode == 0
    original, target = _dump(store), store.resolve()
    server = holder(store, "ro")
    served = _ask(server)

    result = run_kg("restore", str(backup), "--store", str(store), "--project-dir", str(project))
    assert result.returncode == 1, result.stderr
    assert "A country needs one ISO 3166-1 alpha-2 code" in result.stderr
    assert "country/honduras" in result.stderr
    assert "nothing was restored" in result.stderr
    assert "Traceback" not in result.stderr
    assert store.resolve() == target and _dump(store) == original
    assert len(list(target.parent.iterdir())) == 1  # the refused generation is gone
    assert _ask(server) == served


#: (arguments, what the error must say); {tmp} is a fresh folder holding a folder "exists".
BAD_ARGUMENTS: list[tuple[list[str], str]] = [
    (["backup", "{tmp}/exists"], "already exists"),
    (["backup", "{tmp}/no/such/folder/backup"], "is not an existing folder"),
    (["backup", "{tmp}/b", "--store", "{tmp}/nothing"], "no store at"),
    (["restore", "{tmp}/missing.nq"], "does not exist"),
    (["restore", "{tmp}/exists"], "is not a store backup"),
    (["restore", "/etc/passwd"], "a backup is a store directory or a .nq, .trig file"),
    # {up} climbs from {tmp} to / whatever its depth (pytest-xdist nests it one folder deeper).
    (["restore", "{tmp}/{up}etc"], "is not a store backup"),
]


@pytest.mark.parametrize(("args", "message"), BAD_ARGUMENTS)
def test_backup_and_restore_reject_bad_arguments_clearly(
    shared: Path, tmp_path: Path, args: list[str], message: str, figures: Figures
) -> None:
    store = shared
    (tmp_path / "exists").mkdir()
    original, target = _dump(store), store.resolve()
    argv = [a.format(tmp=tmp_path, up="../" * len(tmp_path.parts)) for a in args]
    if "--store" not in argv:
        argv += ["--store", str(store)]
    result = run_kg(*argv)
    assert result.returncode == 1, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert store.resolve() == target and _dump(store) == original
    figures["bad_backup_arguments_tried"] = figures.get("bad_backup_arguments_tried", 0) + 1
