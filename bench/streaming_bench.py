"""First-byte time, total time and worker peak memory of dumps and exports (issue 11, item 8).

    python bench/generate.py --triples 500000 --seed 1 --invalid-share 0 --out var/bench/500k.nq
    (load it with `oxigraph load`, as bench/serve_bench.py does, into STORE)
    flock /tmp/bench.lock python bench/streaming_bench.py STORE [--src OTHER_CHECKOUT/src]

Starts ``kg serve`` read-only with one worker on STORE (``--src`` runs another checkout's code,
to compare with it), fetches each path once in a fresh server and prints, per path: status,
seconds to the first byte of the body, seconds to the last, bytes, and the growth of the
worker's peak resident memory (VmHWM) over the request.
"""

from __future__ import annotations

import argparse
import http.client
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.processes import free_port, wait_until_healthy

PATHS = [
    "/dumps/alliance-graph.nq",
    "/export/nquads",
    "/export/gexf",
    "/export/graphml",
    "/export/cytoscape",
    "/export/dot",
]


def peak_kib(pid: int) -> int:
    """The peak resident memory (VmHWM) of ``pid``'s process, KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def workers(parent: int) -> list[int]:
    """The processes whose parent is ``parent`` (granian's workers)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[1]) == parent:
            found.append(int(stat.parent.name))
    return found


def fetch(port: int, path: str) -> tuple[int, float, float, int]:
    """Status, seconds to the first body byte, seconds to the last, bytes."""
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    connection.request("GET", path)
    response = connection.getresponse()
    first = response.read(1)
    first_at = time.perf_counter() - started
    size = len(first)
    while chunk := response.read(1 << 16):
        size += len(chunk)
    connection.close()
    return response.status, first_at, time.perf_counter() - started, size


def measure(store: Path, src: str | None, path: str) -> str:
    port = free_port()
    env = dict(os.environ, KG_WORKERS="1", KG_RESULT_CACHE_MB="0", KG_QUERY_TIMEOUT="10")
    if src:
        env["PYTHONPATH"] = src
    server = subprocess.Popen(
        [sys.executable, "-m", "graph", "serve", "--store", str(store), "--port", str(port),
         "--no-access-log"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        wait_until_healthy(f"http://127.0.0.1:{port}", server, request_timeout=10)
        [worker] = workers(server.pid)
        before = peak_kib(worker)
        status, first, last, size = fetch(port, path)
        grown = (peak_kib(worker) - before) / 1024
        return f"{path:<26} {status:>4} {first:>8.2f} {last:>8.2f} {size / 1e6:>9.1f} {grown:>9.0f}"
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("store", type=Path)
    parser.add_argument("--src", help="another checkout's src/ to run instead of this one")
    args = parser.parse_args()
    print(f"{'path':<26} {'code':>4} {'first_s':>8} {'last_s':>8} {'MB':>9} {'peak+MiB':>9}")
    for path in PATHS:
        print(measure(args.store, args.src, path), flush=True)


if __name__ == "__main__":
    main()
