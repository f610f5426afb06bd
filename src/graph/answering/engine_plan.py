"""The SERVICE targets of a query as the engine itself reads them, from its query plan (issue 11).

pyoxigraph has no way to parse a query without evaluating it, but the native ``oxigraph`` CLI
of the same version (same parser, same optimiser) writes the plan it evaluates with
``--explain-file``: a tree of nodes, each SERVICE a node named ``Service(<iri>)`` or
``Service(<iri>, Silent)``, also inside ``EXISTS``, subqueries, ``OPTIONAL``, ``MINUS``,
aggregates and ``ORDER BY``. Nothing else is read: no regex over the query and no second
SPARQL parser decides what the query calls.

The CLI evaluates the query (on an empty store) to write the plan and tries the SERVICE calls
on its way, so it runs in a child process that cannot open a network socket: the seccomp
filter of graph.answering.sandbox, loaded by a small launcher (``python -I -S``, no Python
runs between ``fork`` and ``exec`` in this multi-threaded process) that then ``exec``s the
CLI, under limits of CPU time, memory and stack. The plan is written even when the
evaluation fails, as every SERVICE call does in there.
"""

from __future__ import annotations

import atexit
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

from graph.answering.sandbox import NetworkFilter

#: Run by ``python -I -S`` between the fork and the CLI: limits, the seccomp filter, exec.
#: PR_SET_NO_NEW_PRIVS = 38, PR_SET_SECCOMP = 22, SECCOMP_MODE_FILTER = 2 (prctl(2)).
_LAUNCHER = """\
import ctypes, os, resource, sys
bpf, cpu, memory, stack = bytes.fromhex(sys.argv[1]), *map(int, sys.argv[2:5])
resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
resource.setrlimit(resource.RLIMIT_STACK, (stack, stack))
resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
class Program(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_char_p)]
libc = ctypes.CDLL(None, use_errno=True)
program = Program(len(bpf) // 8, bpf)
if libc.prctl(38, 1, 0, 0, 0) or libc.prctl(22, 2, ctypes.byref(program), 0, 0):
    sys.exit("cannot load the seccomp filter: " + os.strerror(ctypes.get_errno()))
os.execv(sys.argv[5], sys.argv[5:])
"""

#: Address space for the CLI besides stacks: RocksDB's threads and arenas (about 600 MB of it,
#: measured as VmPeak) and the plan.
_MEMORY = 1 << 30
#: RLIMIT_STACK is also the stack of every thread RocksDB starts: the CLI needed an address
#: space of 17 to 20 times RLIMIT_STACK beyond _MEMORY to start (measured with 100 and 400 MiB).
_STACK_MAPPINGS = 20
#: At most this much stack: a query needing more to parse is refused (graph.answering.guard).
#: 8 MiB parse a flat 12 kB chain ``1+1+…``, 16 MiB a 24 kB one (measured).
MAX_STACK = 64 << 20
#: The CLI's syntax errors: "Error: error at LINE:COLUMN: message".
_SYNTAX = re.compile(r"Error: error at (\d+):(\d+): ([^\n]*)")
#: IRIREF's characters (https://www.w3.org/TR/sparql11-query/#rIRIREF), as the plan prints them.
_SERVICE = re.compile(r'Service\(<([^<>"{}|^`\\\x00-\x20]*)>(?:, Silent)?\)')
_SERVICE_VARIABLE = re.compile(r"Service\(([?$][^,()]*)(?:, Silent)?\)")


class EngineUnavailable(RuntimeError):
    """The CLI is missing, of another version than pyoxigraph, or cannot be sandboxed."""


class PlanFailed(RuntimeError):
    """The CLI wrote no plan for a reason other than a syntax error (limits, a crash)."""


@dataclass(frozen=True)
class SyntaxProblem(ValueError):
    """The engine refused the text: where (in the caller's text) and why."""

    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"error at {self.line}:{self.column}: {self.message}"


@dataclass(frozen=True)
class _Engine:
    binary: str
    bpf: bytes
    store: Path


def check_engine() -> None:
    """Make sure plans can be read: the CLI present, the same version as pyoxigraph, sandboxed.

    :raises EngineUnavailable: naming what is wrong and how to fix it.
    """
    _engine()


@lru_cache(maxsize=1)
def _engine() -> _Engine:
    binary = _binary()
    wanted = metadata.version("pyoxigraph")
    try:
        found = subprocess.run(
            [binary, "--version"], capture_output=True, text=True, timeout=30, check=True
        ).stdout.split()
    except (OSError, subprocess.SubprocessError) as error:
        raise EngineUnavailable(f"cannot run {binary} --version: {error}") from None
    if found[-1:] != [wanted]:
        raise EngineUnavailable(
            f"{binary} is version {' '.join(found[1:]) or 'unknown'}, pyoxigraph {wanted}: with a"
            " non-empty service_allowlist the two must be the same version, or the plan read"
            " to check SERVICE targets could differ from the evaluation"
            f" (pip install oxigraph=={wanted})"
        )
    bpf = NetworkFilter().bpf()
    store = Path(tempfile.mkdtemp(prefix="kg-plan-store-"))
    atexit.register(shutil.rmtree, store, ignore_errors=True)
    _create_store(binary, store)
    return _Engine(binary, bpf, store)


def _binary() -> str:
    beside = Path(sys.executable).with_name("oxigraph")
    found = str(beside) if beside.is_file() else shutil.which("oxigraph")
    if found is None:
        raise EngineUnavailable(
            "the oxigraph command (PyPI package oxigraph, the version of pyoxigraph) is not"
            " installed: a non-empty service_allowlist needs it to read SERVICE targets"
        )
    return found


def _create_store(binary: str, store: Path) -> None:
    """An empty store the CLI can open read-only, shared by every plan of this process."""
    empty = store.with_name(store.name + ".nt")
    empty.write_bytes(b"")
    try:
        subprocess.run(
            [binary, "load", "--location", str(store), "--file", str(empty)],
            capture_output=True,
            timeout=60,
            check=True,
        )
    except (OSError, subprocess.SubprocessError) as error:
        raise EngineUnavailable(f"cannot create an empty store for query plans: {error}") from None
    finally:
        empty.unlink()


def service_targets(
    text: str,
    *,
    prefixes: Mapping[str, str] | None,
    base_iri: str | None,
    seconds: float,
    stack: int,
) -> list[str]:
    """The SERVICE targets in the engine's plan of the query ``text``: IRIs, or ``?name`` for a
    variable endpoint, read with ``prefixes`` declared (a PREFIX of the text wins, as with
    pyoxigraph's ``prefixes=``) and relative IRIs resolved against ``base_iri``.

    :raises SyntaxProblem: when the engine cannot parse the text.
    :raises PlanFailed: when no plan could be read in ``seconds``.
    :raises EngineUnavailable: see :func:`check_engine`.
    """
    engine = _engine()
    declared = "".join(f"PREFIX {name}: <{iri}>\n" for name, iri in (prefixes or {}).items())
    with tempfile.TemporaryDirectory(prefix="kg-plan-") as folder:
        query, plan = Path(folder, "query.rq"), Path(folder, "plan.json")
        query.write_text(declared + text, encoding="utf-8", errors="strict")
        command = [engine.binary, "query", "--location", str(engine.store)]
        command += ["--query-file", str(query), "--results-format", "tsv"]
        command += ["--explain-file", str(plan)]
        if base_iri is not None:
            command += ["--query-base", base_iri]
        error = _run(engine, command, seconds, stack)
        if not plan.exists():
            syntax = _SYNTAX.match(error)
            if syntax is None:
                raise PlanFailed(error.strip().splitlines()[0] if error.strip() else "no plan")
            line = int(syntax[1]) - declared.count("\n")
            raise SyntaxProblem(max(line, 1), int(syntax[2]), syntax[3])
        try:
            tree = json.loads(plan.read_text(encoding="utf-8"))["plan"]
        except (ValueError, KeyError, TypeError) as problem:
            raise PlanFailed(f"the plan could not be read: {problem}") from None
    return [_target(name) for name in _names(tree) if "service" in _kind(name).lower()]


def _run(engine: _Engine, command: list[str], seconds: float, stack: int) -> str:
    """Run the CLI ``command`` sandboxed and limited; its standard error."""
    cpu = max(int(seconds) + 1, 1)
    stack = min(max(stack, 8 << 20), MAX_STACK)
    memory = _MEMORY + _STACK_MAPPINGS * stack
    launcher = [sys.executable, "-I", "-S", "-c", _LAUNCHER, engine.bpf.hex()]
    launcher += [str(cpu), str(memory), str(stack), *command]
    try:
        done = subprocess.run(
            launcher,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=seconds,
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "RUST_BACKTRACE": "0"},
        )
    except subprocess.TimeoutExpired:
        raise PlanFailed(f"the plan took over {seconds:g} s") from None
    except OSError as error:
        raise PlanFailed(f"cannot run {engine.binary}: {error}") from None
    return done.stderr.decode("utf-8", "replace")


def _names(node: Any) -> Iterator[str]:
    """Every node name of the plan ``node``, depth first (iteratively: plans can be deep)."""
    pending = [node]
    while pending:
        current = pending.pop()
        if not isinstance(current, dict) or not isinstance(current.get("name"), str):
            raise PlanFailed("the plan has a node without a name")
        yield current["name"]
        children = current.get("children", [])
        if not isinstance(children, list):
            raise PlanFailed("the plan has a node whose children are not a list")
        pending.extend(children)


def _kind(name: str) -> str:
    """The operator of a plan node: the name up to its arguments, e.g. ``Service``."""
    return name.split("(", 1)[0]


def _target(name: str) -> str:
    """The endpoint of a node whose operator mentions Service; refused if it is not read."""
    match = _SERVICE.fullmatch(name)
    if match is not None:
        return match[1]
    variable = _SERVICE_VARIABLE.fullmatch(name)
    if variable is not None:
        return variable[1]
    raise PlanFailed(f"the plan has a service node this check cannot read: {name[:200]}")
