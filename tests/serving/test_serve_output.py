"""What `kg serve` prints (issue 14): a build summary on the first run, one line saying where
it serves, no noise from granian, the access log when stderr is not a terminal."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.conftest import MINI
from tests.processes import free_port, wait_until_healthy

pytestmark = [pytest.mark.server]


def test_first_run_prints_the_build_summary_and_nothing_noisy(tmp_path: Path) -> None:
    store, log, port = tmp_path / "store", tmp_path / "stderr.log", free_port()
    command = [sys.executable, "-m", "graph", "serve", "--store", str(store), "--port", str(port)]
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [*command, "--project-dir", str(MINI), "--workers", "1"], stderr=stderr
        )
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until_healthy(url, process, log=log)
            assert requests.get(url + "/sparql", timeout=5).ok
        finally:
            process.terminate()
            process.wait(timeout=30)
    text = log.read_text(errors="replace")
    lines = text.splitlines()
    assert lines[0] == f"No store at {store}: building it from {MINI}"
    assert lines[1].startswith("Built ") and "named graphs" in lines[1] and " s" in lines[1]
    assert lines[2].startswith(f"Serving {store} at {url}/ (granian, read-only)")
    assert "Websockets" not in text and "Python threads" not in text
    assert "Traceback" not in text
    assert '"path": "/sparql"' in text  # the access log: stderr is a file here
