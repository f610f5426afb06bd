"""Start real SPARQL servers on 127.0.0.1 for the tests: native Oxigraph and Virtuoso."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

from tests.processes import free_port, free_ports

#: Seconds a server may take to answer its first query.
STARTUP_SECONDS = 60.0
VIRTUOSO_VSP = Path("/var/lib/virtuoso-opensource-7/vsp")


def oxigraph_binary() -> str | None:
    """The ``oxigraph`` server from PyPI's oxigraph package (beside this Python, or on PATH)."""
    beside = Path(sys.executable).parent / "oxigraph"
    return str(beside) if beside.is_file() else shutil.which("oxigraph")


def wait_until_ready(process: subprocess.Popen[bytes], probe: str, log: Path) -> None:
    """Poll ``probe`` (an ASK query URL) until it answers 200, or fail with the server's log."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}: {log.read_text()}")
        try:
            if requests.get(probe, timeout=2).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"server not ready after {STARTUP_SECONDS} s: {log.read_text()}")


@contextmanager
def running(command: list[str], probe: str, log: Path) -> Iterator[None]:
    """Run a server until the block ends, then stop it (terminate, then kill)."""
    with log.open("wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
    try:
        wait_until_ready(process, probe, log)
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def oxigraph_server(binary: str, directory: Path) -> Iterator[str]:
    """``oxigraph serve`` on a free port; yields its base URL."""
    url = f"http://127.0.0.1:{free_port()}"
    command = [binary, "serve", "--location", str(directory / "db"), "--bind", url[7:]]
    with running(command, f"{url}/query?query=ASK%7B%7D", directory / "oxigraph.log"):
        yield url


def virtuoso_ini(directory: Path, http_port: int, sql_port: int) -> str:
    """A minimal virtuoso.ini: database files in ``directory``, both ports on 127.0.0.1."""
    server_root = f"ServerRoot = {VIRTUOSO_VSP}\n" if VIRTUOSO_VSP.is_dir() else ""
    return f"""[Database]
DatabaseFile = {directory}/virtuoso.db
ErrorLogFile = {directory}/virtuoso.log
LockFile = {directory}/virtuoso.lck
TransactionFile = {directory}/virtuoso.trx
xa_persistent_file = {directory}/virtuoso.pxa
[TempDatabase]
DatabaseFile = {directory}/virtuoso-temp.db
TransactionFile = {directory}/virtuoso-temp.trx
[Parameters]
ServerPort = 127.0.0.1:{sql_port}
DisableUnixSocket = 1
NumberOfBuffers = 10000
MaxDirtyBuffers = 6000
[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
{server_root}ServerThreads = 10
[SPARQL]
; Virtuoso cuts results at 10000 rows by default, silently: lift it.
ResultSetMaxRows = 1000000
MaxQueryExecutionTime = 60
"""


@contextmanager
def virtuoso_server(binary: str, directory: Path) -> Iterator[str]:
    """``virtuoso-t`` with a fresh database (user dba, password dba); yields its /sparql URL."""
    http_port, sql_port = free_ports(2)
    ini = directory / "virtuoso.ini"
    ini.write_text(virtuoso_ini(directory, http_port, sql_port))
    command = [binary, "+foreground", "+configfile", str(ini)]
    url = f"http://127.0.0.1:{http_port}/sparql"
    with running(command, f"{url}?query=ASK%7B%7D", directory / "virtuoso.out"):
        yield url
