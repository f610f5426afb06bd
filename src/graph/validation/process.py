"""Validate a write's neighbourhood in a persistent child process, off the server's GIL.

A write's checks are SPARQL queries on a small store (graph.validation.change); pyoxigraph
parses and plans each query while holding the GIL (about 10 ms for the largest batch of the
project's shapes), and the compiled checks, the rdflib report and the Python around them hold
it too. The readers of a writable server wait for each of those stretches (issue 12, "reads
keep their latency while writes run"; figures in docs/scaling.md). Here the neighbourhood
gathered by the writer goes to a child process as N-Quads bytes; the child validates it with
:func:`graph.validation.change.judge_here`, as this process would, and sends the violations
back, while the writer's thread waits on a pipe without the GIL.

The child is ``python -m graph.validation.process`` (a new interpreter, never a fork of a
process with threads), started in the background on first use; it gets the shapes and the
ontology once, as N-Triples, and runs at a lower CPU priority (:data:`NICENESS`). Until it is
ready, and for a neighbourhood of more than
:data:`MAX_QUADS` statements (where this process's memory budget should watch the work), a
write is validated here. If the child ends (killed, out of memory, an error: its traceback goes
to the server's log), that write is validated here and the next one starts a new child; after
:data:`MAX_FAILURES` children ended, this process validates every write itself. The verdict
does not depend on where it was reached: the same function runs on the same statements.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import struct
import subprocess
import sys
import threading
from functools import lru_cache
from typing import IO, Any

from rdflib import Graph

from graph.store import Quad, nquads, read_nquads
from graph.validation.change import judge_here
from graph.validation.report import Violation

log = logging.getLogger("kg")

#: Largest neighbourhood (statements) sent to the child; a larger one is validated here.
MAX_QUADS = 20_000
#: Children that may end before this process validates every write itself.
MAX_FAILURES = 3
#: The child's nice value (setpriority(2)): when the cores are contended, the readers of the
#: server get them first and a write waits (docs/scaling.md, "Reads while four writers write").
NICENESS = 10
_LENGTH = struct.Struct("!Q")


class ValidationProcess:
    """A :data:`graph.validation.change.Judge` that validates in a child process."""

    def __init__(self, max_quads: int = MAX_QUADS) -> None:
        self.max_quads = max_quads
        self._lock = threading.Lock()
        self._child: subprocess.Popen[bytes] | None = None
        self._ready = threading.Event()
        #: The shapes (by digest) the current child has been given.
        self._sent: set[str] = set()
        self._failures = 0
        #: Verdicts the child reached (the others were reached in this process).
        self.answered = 0
        os.register_at_fork(after_in_child=self._forget)

    def __call__(
        self, quads: list[Quad], shapes: Graph, ontology: Graph, shown: frozenset[str]
    ) -> list[Violation]:
        if len(quads) <= self.max_quads:
            digest, texts = _texts(shapes, ontology)
            with self._lock:
                child = self._running(digest, texts)
                if child is not None:
                    given = None if digest in self._sent else texts
                    self._sent.add(digest)
                    found = _ask(child, (digest, given, nquads(quads), shown))
                    if found is not None:
                        self.answered += 1
                        return found
                    self._ended(child)
        return judge_here(quads, shapes, ontology, shown)

    @property
    def ready(self) -> bool:
        """True once a child is ready to validate."""
        return self._ready.is_set()

    @property
    def pid(self) -> int | None:
        """The child's process id, if one was started."""
        child = self._child
        return None if child is None else child.pid

    def _running(self, digest: str, texts: tuple[str, str]) -> subprocess.Popen[bytes] | None:
        """The child, if ready; else start one in the background (unless given up): None."""
        if self._child is None and self._failures < MAX_FAILURES:
            try:
                child = subprocess.Popen(
                    [sys.executable, "-m", __name__],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    # The same source tree as this process, wherever it was imported from.
                    env={**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)},
                )
            except OSError as error:
                log.warning("cannot start the validation process: %s", error)
                self._failures += 1
                return None
            self._child, self._sent = child, {digest}
            threading.Thread(
                target=self._warm, args=(child, digest, texts), name="kg-validation", daemon=True
            ).start()
            return None
        return self._child if self._ready.is_set() else None

    def _warm(self, child: subprocess.Popen[bytes], digest: str, texts: tuple[str, str]) -> None:
        """Hand the shapes over and validate nothing once (compiling the checks)."""
        if _ask(child, (digest, texts, b"", frozenset())) is not None:
            self._ready.set()
            return
        with self._lock:
            self._ended(child)

    def _ended(self, child: subprocess.Popen[bytes]) -> None:
        """``child`` stopped answering: end it; the next write starts another."""
        if child is not self._child:
            return
        self._failures += 1
        again = "a new one next time" if self._failures < MAX_FAILURES else "from now on"
        log.warning("the validation process ended: validating in this process, %s", again)
        child.kill()
        child.wait()
        self._child, self._sent = None, set()
        self._ready.clear()

    def close(self) -> None:
        """End the child, if any (the next call starts another)."""
        with self._lock:
            child, self._child, self._sent = self._child, None, set()
            self._ready.clear()
        if child is not None and child.stdin is not None:
            child.stdin.close()  # the child reads the end of its input and leaves
            child.wait()

    def _forget(self) -> None:
        # A forked process has its own threads and no child of its own: it starts one if it
        # validates (the lock may have been held by a thread that did not survive the fork).
        self._lock = threading.Lock()
        self._child, self._sent, self._ready = None, set(), threading.Event()


@lru_cache(maxsize=8)
def _texts(shapes: Graph, ontology: Graph) -> tuple[str, tuple[str, str]]:
    """The shapes and the ontology as N-Triples, and a digest naming them in the child."""
    texts = (shapes.serialize(format="nt"), ontology.serialize(format="nt"))
    return hashlib.sha256("\0".join(texts).encode()).hexdigest(), texts


def _ask(child: subprocess.Popen[bytes], request: tuple[Any, ...]) -> list[Violation] | None:
    """Send ``request`` to ``child`` and return its answer, or None if it is gone."""
    assert child.stdin is not None and child.stdout is not None
    try:
        _send(child.stdin, request)
        answer = _receive(child.stdout)
    except OSError:  # a broken pipe: the child has ended
        return None
    return None if answer is None else list(answer)


def _send(stream: IO[bytes], value: object) -> None:
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_LENGTH.pack(len(data)) + data)
    stream.flush()


def _receive(stream: IO[bytes]) -> Any:
    """The next value on ``stream``, or None at its end. Only ever this module's own other
    end writes to it (a pipe between the server and its child), so unpickling is safe."""
    head = stream.read(_LENGTH.size)
    if len(head) < _LENGTH.size:
        return None
    size = _LENGTH.unpack(head)[0]
    data = stream.read(size)
    return pickle.loads(data) if len(data) == size else None


# --- in the child ----------------------------------------------------------------------------


def main() -> None:
    """The child: answer each request of the parent until its input ends."""
    # The answers go to the original standard output; anything else printed goes to the
    # server's log, never into the answers.
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    os.nice(NICENESS)
    given: dict[str, tuple[Graph, Graph]] = {}
    while (request := _receive(sys.stdin.buffer)) is not None:
        digest, texts, data, shown = request
        if digest not in given:
            shapes, ontology = Graph(), Graph()
            shapes.parse(data=texts[0], format="nt")
            ontology.parse(data=texts[1], format="nt")
            given[digest] = (shapes, ontology)
        shapes, ontology = given[digest]
        _send(answers, judge_here(read_nquads(data), shapes, ontology, shown))


if __name__ == "__main__":
    main()
