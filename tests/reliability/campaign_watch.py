"""What the attack campaign watches from outside: worker processes, point lookups, the log.

A worker *dies* when it ends without being asked to: granian logs "Unexpected exit from
worker-N", gunicorn "Worker (pid:N) was sent SIG…" or "… exited with code N". A worker is
*retired* on purpose after runaways or a memory-budget overrun (graph.answering.admission,
graph.answering.memory): it exits when asked and is replaced, which granian logs as "Stopping
old worker-N" and gunicorn as "Booting worker" (as it does after a death too, so deaths are
taken off). Both are counted; only deaths fail the campaign.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import requests
from tests.processes import session_from
from tests.reliability.conftest import COUNTRY, RDFS

LOOKUP = f"SELECT ?l WHERE {{ <{COUNTRY}honduras> <{RDFS}label> ?l }}"
#: The address point lookups come from; the attacker sends from 127.0.0.1.
LOOKUPS_FROM = "127.0.0.2"
DEATH = re.compile(
    rb"Unexpected exit from worker|Worker \(pid:\d+\) was sent|Worker \(pid:\d+\) exited with code"
    rb"|crash loop detected"
)
#: A worker replaced: granian stops the old one once its successor is up (after a retirement and
#: after a death alike), gunicorn boots a successor.
REPLACED = re.compile(rb"Stopping old worker-\d+|Booting worker with pid")


def worker_pids(server_pid: int) -> set[int]:
    """The server's child processes, but multiprocessing's helpers (from /proc)."""
    children: set[int] = set()
    for task in Path(f"/proc/{server_pid}/task").glob("*"):
        try:
            children.update(int(pid) for pid in (task / "children").read_text().split())
        except OSError:
            continue  # the thread ended meanwhile
    workers = set()
    for pid in children:
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"resource_tracker" not in command and b"semaphore_tracker" not in command:
            workers.add(pid)
    return workers


@dataclass
class WorkerWatch:
    """Every worker pid seen while the campaign runs (polled, so short-lived ones count too)."""

    server_pid: int
    seen: set[int] = field(default_factory=set)
    stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.before = worker_pids(self.server_pid)
        self.seen |= self.before
        self.thread = threading.Thread(target=self._poll, daemon=True)
        self.thread.start()

    def _poll(self) -> None:
        while not self.stop.wait(0.05):
            self.seen |= worker_pids(self.server_pid)

    def finish(self) -> set[int]:
        """Stop polling; the pids that were seen and are gone (retired or dead)."""
        self.stop.set()
        self.thread.join()
        return self.seen - worker_pids(self.server_pid)


def log_counts(log: Path, offset: int) -> tuple[int, int]:
    """(deaths, retirements) the server logged after byte ``offset`` of its log."""
    text = log.read_bytes()[offset:]
    deaths = len(DEATH.findall(text))
    return deaths, max(0, len(REPLACED.findall(text)) - deaths)


@dataclass
class Lookups:
    """Point lookups in a background thread: their latencies and failures."""

    url: str
    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    #: Lookups whose connection closed before any answer and that succeeded when sent again.
    retried: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def one(self) -> None:
        began = time.monotonic()
        try:
            response = self._get()
            if response.status_code != 200 or "Honduras" not in response.text:
                self.failures.append(f"{response.status_code}: {response.text[:100]}")
        except requests.RequestException as error:
            self.failures.append(repr(error))
        self.latencies.append(time.monotonic() - began)

    def _get(self) -> requests.Response:
        """The lookup, sent once more if its connection closed before any answer: what an HTTP
        client does for a GET (RFC 9110 section 9.2.2), e.g. when the lookup reached a worker
        as it was replaced after a query over its memory budget (graph.answering.memory)."""
        url = self.url + "/sparql?query=" + quote(LOOKUP)
        try:
            return self._get_once(url)
        except requests.ConnectionError as error:
            self.retried.append(repr(error))
            return self._get_once(url)

    @staticmethod
    def _get_once(url: str) -> requests.Response:
        """GET ``url`` on a new connection from :data:`LOOKUPS_FROM`: a client other than the
        attacker (127.0.0.1), whose address the server runs at idle priority for a few time
        limits after each runaway (graph.answering.admission)."""
        with session_from(LOOKUPS_FROM) as session:
            return session.get(url, timeout=60)

    def run(self, count: int) -> None:
        """``count`` lookups one after the other, in this thread (the idle baseline)."""
        for _ in range(count):
            self.one()

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self._loop, daemon=True)
        thread.start()
        return thread

    def _loop(self) -> None:
        while not self.stop.is_set():
            self.one()
            time.sleep(0.02)


def percentile_ms(latencies: list[float], fraction: float) -> int:
    """The ``fraction`` percentile (nearest rank) in whole milliseconds."""
    ordered = sorted(latencies)
    rank = min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))
    return round(ordered[rank] * 1000)
