"""How long a large query holding the letters of SERVICE takes to be answered (issue 11, item 6).

    python bench/guard_deadline.py --rows 100000

Builds the mini fixture store, starts ``kg serve`` (one worker, ``query_timeout`` 2 s) with an
empty allow-list (sandboxed, the text is not parsed) and with a non-empty one (rdflib parses it
under the time limit), POSTs ``SELECT * { VALUES (?s ?n) { (ex:service-0 0) ... } } LIMIT 1``
and prints the status and seconds of each answer. Run it with PYTHONPATH pointing at an older
checkout's ``src`` to measure that code instead.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from tests.processes import free_port, wait_until_healthy  # noqa: E402

MODES = {"empty allow-list": {}, "allow-list": {"KG_SERVICE_ALLOWLIST": "http://allowed.example/"}}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    rows = parser.parse_args().rows
    values = " ".join(f"(ex:service-{i} {i})" for i in range(rows))
    query = f"PREFIX ex: <http://e/> SELECT * {{ VALUES (?s ?n) {{ {values} }} }} LIMIT 1"
    print(f"query: {len(query)} bytes")
    from graph.build.embedded import build
    from graph.core.namespaces import CANONICAL_BASE

    with tempfile.TemporaryDirectory() as folder:
        store = Path(folder) / "store"
        build(ROOT / "tests" / "fixtures" / "mini", store, CANONICAL_BASE)
        for mode, extra in MODES.items():
            print(mode, *answer(store, query, extra))


def answer(store: Path, query: str, extra: dict[str, str]) -> tuple[int | str, str]:
    port = free_port()
    env = {**os.environ, "KG_WORKERS": "1", "KG_QUERY_TIMEOUT": "2", **extra}
    env["KG_PROJECT_DIR"] = str(ROOT / "tests" / "fixtures" / "mini")
    command = [sys.executable, "-m", "graph", "serve", "--store", str(store), "--port", str(port)]
    quiet = subprocess.DEVNULL
    process = subprocess.Popen([*command, "--no-access-log"], env=env, stdout=quiet, stderr=quiet)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_healthy(url, process)
        started = time.perf_counter()
        status: int | str
        try:
            status = requests.post(url + "/sparql", data={"query": query}, timeout=120).status_code
        except requests.Timeout:
            status = "no answer"
        return status, f"{time.perf_counter() - started:.2f} s"
    finally:
        process.terminate()
        process.wait(timeout=30)


if __name__ == "__main__":
    main()
