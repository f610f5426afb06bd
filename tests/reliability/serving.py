"""A real ``kg serve`` in a subprocess, driven over HTTP only (no knowledge of its internals).

The server runs in its own process group (its WSGI server forks workers), so a crash test can
SIGKILL the whole group at once, as a power cut or the OOM killer would.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import signal
import subprocess
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import requests
from tests.processes import free_port, wait_until_healthy
from tests.reliability.conftest import kg_command

TOKEN = "reliability-t0ken"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
DUMP = "/dumps/alliance-graph.nq"


@dataclass
class KgServer:
    """A started ``kg serve``: its base URL and process (leader of its own process group)."""

    url: str
    process: subprocess.Popen[bytes]
    port: int
    log: Path
    extra: dict[str, str] = field(default_factory=dict)

    def kill(self) -> None:
        """SIGKILL every process of the server (master and workers) at once."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        _reap_group(self.process.pid)

    def stop(self) -> None:
        """Stop the server as an operator would (SIGTERM), SIGKILL if it does not stop."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=30)
        _reap_group(self.process.pid)


def _reap_group(pgid: int) -> None:
    """Wait until every process of group ``pgid`` has exited (workers die after their master).

    A dead worker may stay a zombie until init reaps it; it holds no files any more, so it
    counts as gone.
    """
    deadline = time.monotonic() + 30
    while _live_members(pgid) and time.monotonic() < deadline:
        time.sleep(0.02)
    for pid in _live_members(pgid):
        os.kill(pid, signal.SIGKILL)


def _live_members(pgid: int) -> list[int]:
    """Processes of group ``pgid`` that are not zombies (from /proc/PID/stat)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue  # exited meanwhile
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(stat.parent.name))
    return members


def start_server(
    store: Path, project: Path, log: Path, *, token: str = TOKEN, **settings: str
) -> KgServer:
    """Start ``kg serve`` on a free port and wait until /health answers."""
    port = free_port()
    env = {
        **os.environ,
        "KG_PROJECT_DIR": str(project),
        "KG_WRITE_TOKEN": token,
        "KG_RESULT_CACHE_MB": "0",
        **{f"KG_{name.upper()}": value for name, value in settings.items()},
    }
    with log.open("ab") as sink:
        process = subprocess.Popen(
            kg_command("serve", "--store", str(store), "--port", str(port), "--no-access-log"),
            env=env,
            stdout=sink,
            stderr=sink,
            start_new_session=True,
        )
    server = KgServer(f"http://127.0.0.1:{port}", process, port, log, dict(settings))
    try:
        wait_until_healthy(server.url, process, log=log, request_timeout=10)
    except BaseException:
        server.kill()
        raise
    return server


@contextmanager
def running_server(store: Path, project: Path, log: Path, **settings: str) -> Iterator[KgServer]:
    """A ``kg serve`` for the duration of a ``with`` block."""
    server = start_server(store, project, log, **settings)
    try:
        yield server
    finally:
        server.stop()


def dump_digest(url: str) -> str:
    """SHA-256 of the server's whole dataset as sorted N-Quads (its streamed dump)."""
    response = requests.get(url + DUMP, timeout=60)
    response.raise_for_status()
    lines = sorted(line for line in response.content.splitlines() if line.strip())
    return hashlib.sha256(b"\n".join(lines)).hexdigest()


@dataclass(frozen=True)
class RawResponse:
    """What came back for a request sent byte for byte as written."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes


def raw_request(
    port: int,
    method: str,
    target: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    *,
    chunked: bool = False,
) -> RawResponse:
    """Send ``target`` exactly as given (no client-side normalisation of ``..`` or escapes).

    ``chunked`` sends the body with ``Transfer-Encoding: chunked`` (no Content-Length).
    """
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.putrequest(method, target, skip_accept_encoding=True)
        for name, value in (headers or {}).items():
            connection.putheader(name, value)
        if body is not None and chunked:
            connection.putheader("Transfer-Encoding", "chunked")
            step = 8192
            pieces = [body[i : i + step] for i in range(0, len(body), step)]
            body = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"
        elif body is not None:
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        return RawResponse(response.status, response.getheaders(), response.read())
    finally:
        connection.close()


def query_outcome(connection: http.client.HTTPConnection, query: str) -> str:
    """GET ``query`` from /sparql on ``connection``: the status, or the name of the error
    (the connection is closed after an error, or when the server said it would close it)."""
    path = "/sparql?" + urllib.parse.urlencode({"query": query})
    try:
        connection.request("GET", path, headers={"Accept": "application/sparql-results+json"})
        response = connection.getresponse()
        response.read()
    except (OSError, http.client.HTTPException) as error:
        connection.close()
        return type(error).__name__
    if response.will_close:
        connection.close()
    return str(response.status)
