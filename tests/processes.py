"""Helpers for tests that start real server processes on 127.0.0.1."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from requests.adapters import HTTPAdapter


def free_port() -> int:
    """A TCP port on 127.0.0.1 nothing listens on right now."""
    return free_ports(1)[0]


def free_ports(count: int) -> list[int]:
    """``count`` different TCP ports on 127.0.0.1 nothing listens on right now (all held at
    once while chosen: two calls of :func:`free_port` may give the same port twice)."""
    with contextlib.ExitStack() as held:
        probes = [held.enter_context(socket.socket()) for _ in range(count)]
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [probe.getsockname()[1] for probe in probes]


def wait_until_healthy(
    url: str,
    process: subprocess.Popen[bytes],
    *,
    log: Path | None = None,
    timeout: float = 60,
    request_timeout: float = 2,
) -> None:
    """Poll ``url``/health until it answers 200; kill ``process`` and fail if it never does."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if requests.get(url + "/health", timeout=request_timeout).ok:
                return
        except (requests.ConnectionError, requests.Timeout):
            pass
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()
            output = log.read_text(errors="replace")[-3000:] if log else ""
            pytest.fail(f"kg serve did not come up:\n{output}")
        time.sleep(0.1)


@contextlib.contextmanager
def kg_serve(
    arguments: list[str], port: int, env: dict[str, str], log: Path, *, cwd: Path | None = None
) -> Iterator[str]:
    """A real ``kg serve ARGUMENTS --port PORT`` with ``env``, its output in ``log``: its URL
    once healthy; stopped on the way out."""
    command = [sys.executable, "-m", "graph", "serve", *arguments, "--port", str(port)]
    with log.open("wb") as sink:
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=sink, stderr=sink)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(url, process, log=log)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def child_pids(parent: int) -> set[int]:
    """The pids of ``parent``'s child processes (a server's workers), read from /proc."""
    found: set[int] = set()
    for task in Path(f"/proc/{parent}/task").glob("*/children"):
        try:
            found.update(int(pid) for pid in task.read_text().split())
        except OSError:  # the task ended meanwhile
            continue
    return found


class SourceAdapter(HTTPAdapter):
    """Connections sent from a given loopback address (any of 127.0.0.0/8 on Linux)."""

    def __init__(self, source: str) -> None:
        self.source = source
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args: object, **kwargs: object) -> None:
        kwargs["source_address"] = (self.source, 0)
        super().init_poolmanager(*args, **kwargs)  # type: ignore[no-untyped-call]


def session_from(source: str) -> requests.Session:
    """A session whose connections come from ``source``: another client to the server.

    The server remembers the address of a client whose query ran long and runs that address's
    next queries at idle priority for a few time limits (graph.answering.admission); a test
    whose lookups must be answered while a runaway runs sends them as another client.
    """
    session = requests.Session()
    session.mount("http://", SourceAdapter(source))
    return session
