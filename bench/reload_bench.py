"""Requests without an answer while granian replaces its workers (SIGHUP), per kind of loss.

    flock /tmp/bench.lock python bench/reload_bench.py --code main=/tmp/main/src --code branch=src \
        [--migrate 0 1] [--reloads 8] [--rounds 2]

For each ``--code LABEL=SRC`` and each value of ``net.ipv4.tcp_migrate_req`` in ``--migrate``
(set for the run as root, restored after), it starts a read-only ``kg serve`` (granian, 2
workers) on one generated store and sends point lookups from ``FRESH_CLIENTS`` clients opening
a new connection per request, ``KEPT_CLIENTS`` clients keeping theirs alive (10 ms apart) and
``PRECONNECT_CLIENTS`` clients sending on a connection opened ``PRECONNECT_WAIT`` s before,
while granian's main process gets ``--reloads`` SIGHUPs, each once the previous reload has
replaced both workers. It prints what every request got, by kind of connection and by where
the error came: ``RemoteDisconnected`` (closed with no answer: the keep-alive race or a
connection closed before its request was read) or ``ConnectionResetError`` (reset: queued on a
closed socket). Not a test: tests/reliability/test_reloads.py asserts none is lost.
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from runaway_bench import LOOKUP, ROOT, free_port, generated, labelled_codes, settle, stop
from serve_bench import build_store, grant_count
from tests.reliability.serving import query_outcome

MIGRATE = Path("/proc/sys/net/ipv4/tcp_migrate_req")
FRESH_CLIENTS, KEPT_CLIENTS, WORKERS = 4, 2, 2
#: Clients that connect ahead and send ``PRECONNECT_WAIT`` s later (a browser's preconnect).
PRECONNECT_CLIENTS, PRECONNECT_WAIT = 2, 0.3


def lookup(connection: http.client.HTTPConnection, n: int, ids: int) -> str:
    return query_outcome(connection, LOOKUP % (n % ids))


def clients(
    port: int, ids: int, stop_event: threading.Event, seen: Counter[str]
) -> list[threading.Thread]:
    lock = threading.Lock()

    def fresh() -> None:
        n = 0
        while not stop_event.is_set():
            n += 1
            outcome = lookup(http.client.HTTPConnection("127.0.0.1", port, timeout=30), n, ids)
            with lock:
                seen[f"fresh {outcome}"] += 1

    def kept() -> None:
        connection, n = http.client.HTTPConnection("127.0.0.1", port, timeout=30), 0
        while not stop_event.is_set():
            n += 1
            kind = "kept-alive" if connection.sock is not None else "fresh"
            outcome = lookup(connection, n, ids)
            with lock:
                seen[f"{kind} {outcome}"] += 1
            time.sleep(0.01)

    def preconnected() -> None:
        n = 0
        while not stop_event.is_set():
            n += 1
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            try:
                connection.connect()
            except OSError as error:
                outcome = type(error).__name__
            else:
                time.sleep(PRECONNECT_WAIT)
                outcome = lookup(connection, n, ids)
            with lock:
                seen[f"preconnected {outcome}"] += 1

    return (
        [threading.Thread(target=fresh) for _ in range(FRESH_CLIENTS)]
        + [threading.Thread(target=kept) for _ in range(KEPT_CLIENTS)]
        + [threading.Thread(target=preconnected) for _ in range(PRECONNECT_CLIENTS)]
    )


def workers(main: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{main}/task").glob("*/children"):
        try:
            found.update(int(pid) for pid in task.read_text().split())
        except OSError:
            continue
    return found


def reload_all(main: int) -> None:
    before = workers(main)
    os.kill(main, signal.SIGHUP)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        now = workers(main)
        if len(now) == WORKERS and not now & before:
            return
        time.sleep(0.05)
    raise SystemExit("workers not replaced within 60 s")


def run(label: str, src: Path, store: Path, ids: int, reloads: int, work: Path) -> Counter[str]:
    port = free_port()
    env = dict(os.environ, PYTHONPATH=str(src), KG_RESULT_CACHE_MB="0", KG_WRITE_TOKEN="",
               KG_WORKERS=str(WORKERS), KG_PROJECT_DIR=str(ROOT))  # fmt: skip
    log = (work / f"serve-{label}-{port}.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "graph", "serve", "--store", str(store), "--port", str(port),
         "--no-access-log"], env=env, stdout=log, stderr=log, start_new_session=True,
    )  # fmt: skip
    seen: Counter[str] = Counter()
    try:
        settle(f"http://127.0.0.1:{port}")
        stop_event = threading.Event()
        threads = clients(port, ids, stop_event, seen)
        for thread in threads:
            thread.start()
        time.sleep(1)
        for _ in range(reloads):
            reload_all(process.pid)
            time.sleep(0.5)
        stop_event.set()
        for thread in threads:
            thread.join()
    finally:
        stop(process)
    return seen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--code", action="append", required=True, help="LABEL=SRC, repeatable")
    parser.add_argument("--migrate", nargs="+", default=["0", "1"], choices=["0", "1"])
    parser.add_argument("--reloads", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--triples", type=int, default=30_000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kg-reload-bench-"))
    before = MIGRATE.read_text().strip()
    try:
        data = generated(work, args.triples, 1)
        oxigraph = shutil.which("oxigraph") or str(Path(sys.executable).with_name("oxigraph"))
        store, ids = build_store(data, work, oxigraph), grant_count(data)
        print(f"{args.reloads} reloads of {WORKERS} workers per run; {FRESH_CLIENTS} clients"
              f" on fresh connections, {KEPT_CLIENTS} kept-alive, {PRECONNECT_CLIENTS}"
              f" preconnected;"
              f" load {os.getloadavg()[0]:.1f}")  # fmt: skip
        for _ in range(args.rounds):
            for migrate in args.migrate:
                MIGRATE.write_text(migrate)
                for label, src in labelled_codes(args.code):
                    seen = run(label, src, store, ids, args.reloads, work)
                    lost = {k: n for k, n in seen.items() if not k.split()[1].isdigit()}
                    print(f"{label:<8} migrate={migrate} requests {sum(seen.values()):>6}"
                          f" unanswered {sum(lost.values()):>3} {dict(sorted(lost.items()))}",
                          flush=True)  # fmt: skip
        print(f"load average at the end {os.getloadavg()[0]:.1f}")
    finally:
        MIGRATE.write_text(before)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
