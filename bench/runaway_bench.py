"""Point-lookup latency while runaway queries run: idle, then 1x and 2x as many runaways as threads.

    flock /tmp/bench.lock python bench/runaway_bench.py --triples 300000 \
        --code main=/work/main/src --code branch=src [--mode read-only writable] [--seconds 15]

For each ``--code LABEL=SRC`` (a checkout's ``src`` folder, put first on PYTHONPATH so the same
interpreter serves each version) and each mode (``read-only``: granian, default workers;
``writable``: gunicorn, one worker), it starts ``kg serve`` on one generated store and runs three
phases of ``--seconds``: point lookups alone (``LOOKUP_CLIENTS`` clients, one request at a
time each), then with as many runaway clients as the server has request threads (workers x
threads), then twice that. Runaway clients send the ``--runaway`` query in a loop, each
waiting for its answer.

It prints, per phase, the lookups' p50 / p99 / max latency, their p99 over the idle p99 of the
same server, and every status and connection error seen by lookups and runaways: the target is
p99 within 3x of idle at 2x threads, and no request without an answer. ``--trace`` also prints,
per runaway phase, the lookups slower than 3x the idle p99 by likely cause (:func:`causes`:
reconnect, worker replacement, a runaway's first CPU, none of these) and how long the workers
started in that phase took from their first sighting to a listening socket. Not a test: run it
by hand under ``flock /tmp/bench.lock`` (the machine is shared; ratios measured side by side in
one run are what to compare, never absolute times).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

sys.path.insert(0, str(ROOT / "bench"))

from serve_bench import build_store, grant_count  # noqa: E402  (one bulk load for both benchmarks)

ID = "https://w3id.org/alliance-graph/id/"
LOOKUP = f"SELECT ?p ?o WHERE {{ <{ID}grant/synthetic-%07d> ?p ?o }}"
#: A cross product of the whole store three times: runs for hours unless stopped, but its
#: intermediate rows soon pass the per-query memory budget (413, the worker replaced at once).
CROSS_PRODUCT = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
#: 100^6 rows counted as they stream: CPU for hours in constant memory, stopped only by the
#: time limit (the runaway of tests/serving/test_serve.py).
_HUNDRED = " ".join(str(n) for n in range(100))
STREAMING = (
    "SELECT (COUNT(*) AS ?n) WHERE { "
    + " ".join(f"VALUES ?v{i} {{ {_HUNDRED} }}" for i in range(6))
    + " }"
)
RUNAWAYS = {"cross-product": CROSS_PRODUCT, "streaming": STREAMING}
LOOKUP_CLIENTS = 2
#: Loopback addresses the clients send from: every runaway client has its own (an attacker with
#: many addresses), so per-client limits do not decide the outcome on their own.
LOOKUPS_FROM = "127.0.0.2"
#: The writable server's token (serve(..., "writable")).
WRITE_TOKEN = "bench-t0ken"
#: Seconds a client waits for an answer before it counts the request as unanswered.
CLIENT_TIMEOUT = 60.0


@dataclass
class Phase:
    """What the clients of one phase saw."""

    latencies: list[float] = field(default_factory=list)
    lookup_status: Counter[str] = field(default_factory=Counter)
    runaway_status: Counter[str] = field(default_factory=Counter)
    #: (start, seconds, on a fresh connection) of each answered lookup (``--trace``).
    lookups: list[tuple[float, float, bool]] = field(default_factory=list)
    #: When each runaway query was sent (``--trace``).
    runaway_starts: list[float] = field(default_factory=list)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def post(
    connection: http.client.HTTPConnection | None,
    port: int,
    source: str,
    query: str,
    *,
    token: str = "",
) -> tuple[http.client.HTTPConnection | None, str]:
    """POST ``query`` from address ``source`` (with ``token``: as an update, with that bearer
    token); (the connection to reuse or None, the status or the error's name)."""
    if connection is None:
        connection = http.client.HTTPConnection(
            "127.0.0.1", port, timeout=CLIENT_TIMEOUT, source_address=(source, 0)
        )
    body = urllib.parse.urlencode({"update" if token else "query": query})
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Accept": "application/sparql-results+json",
    }
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        connection.request("POST", "/sparql", body, headers)
        response = connection.getresponse()
        response.read()
    except (OSError, http.client.HTTPException) as error:
        connection.close()
        return None, type(error).__name__
    if response.will_close:
        connection.close()
        return None, str(response.status)
    return connection, str(response.status)


def lookup_client(port: int, until: float, ids: int, seed: int, phase: Phase) -> None:
    rng, connection = random.Random(seed), None
    while time.monotonic() < until:
        fresh, sent, start = connection is None, time.monotonic(), time.perf_counter()
        connection, status = post(connection, port, LOOKUPS_FROM, LOOKUP % rng.randrange(ids))
        if status == "200":
            phase.latencies.append(time.perf_counter() - start)
            phase.lookups.append((sent, phase.latencies[-1], fresh))
        phase.lookup_status[status] += 1
        time.sleep(0.01)
    if connection is not None:
        connection.close()


def runaway_client(
    port: int, until: float, number: int, phase: Phase, query: str, vary: bool
) -> None:
    connection, source, sent = None, f"127.0.1.{number + 1}", 0
    while time.monotonic() < until:
        phase.runaway_starts.append(time.monotonic())
        sent += 1
        # --vary: a text of its own each time (a comment), so only the address is the same.
        text = f"# runaway {number}.{sent}\n{query}" if vary else query
        connection, status = post(connection, port, source, text)
        phase.runaway_status[status] += 1
        if status not in ("503", "429"):
            time.sleep(0.1)  # an error: do not spin
        elif status == "429":
            time.sleep(0.05)
    if connection is not None:
        connection.close()


def run_phase(
    port: int,
    runaways: int,
    seconds: float,
    ids: int,
    query: str = CROSS_PRODUCT,
    *,
    vary: bool = False,
) -> Phase:
    phase, until = Phase(), time.monotonic() + seconds
    threads = [
        threading.Thread(target=lookup_client, args=(port, until, ids, n, phase))
        for n in range(LOOKUP_CLIENTS)
    ] + [
        threading.Thread(target=runaway_client, args=(port, until, n, phase, query, vary))
        for n in range(runaways)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return phase


class WorkerWatch:
    """When the server's worker processes start, listen and end (``--trace``): polls the
    children of the server's main process every :data:`WATCH_POLL` seconds."""

    def __init__(self, root: int, port: int) -> None:
        self.root, self.port, self.events, self.stopped = root, port, [], threading.Event()
        #: Seconds from each worker's first sighting to its listening socket on ``port``.
        self.ready: list[float] = []
        self.thread = threading.Thread(target=self._poll, daemon=True)
        self.thread.start()

    def _children(self) -> set[int]:
        found: set[int] = set()
        for task in Path(f"/proc/{self.root}/task").glob("*/children"):
            with contextlib.suppress(OSError):  # the task ended
                found.update(int(pid) for pid in task.read_text().split())
        return found

    def _listening(self, pids: list[int]) -> set[int]:
        """Which of ``pids`` hold a listening TCP socket on the port."""
        inodes: set[str] = set()
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            with contextlib.suppress(OSError):
                for line in Path(table).read_text().splitlines()[1:]:
                    fields = line.split()
                    if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == self.port:
                        inodes.add(f"socket:[{fields[9]}]")
        found = set()
        for pid in pids:
            with contextlib.suppress(OSError):
                for fd in os.scandir(f"/proc/{pid}/fd"):
                    with contextlib.suppress(OSError):
                        if os.readlink(fd.path) in inodes:
                            found.add(pid)
                            break
        return found

    def _poll(self) -> None:
        known, pending = self._children(), dict[int, float]()
        while not self.stopped.wait(WATCH_POLL):
            now, seen = time.monotonic(), self._children()
            self.events += [(now, "spawn", pid) for pid in seen - known]
            self.events += [(now, "exit", pid) for pid in known - seen]
            pending.update((pid, now) for pid in seen - known)
            for pid in [p for p in pending if p not in seen]:
                del pending[pid]  # ended before it listened
            if pending:
                for pid in self._listening(list(pending)):
                    self.ready.append(time.monotonic() - pending.pop(pid))
            known = seen

    def readiness(self, first: int) -> str:
        """The start-to-listening times from ``self.ready[first]`` on."""
        times = sorted(self.ready[first:])
        if not times:
            return "no worker ready"
        median, worst = statistics.median(times) * 1000, times[-1] * 1000
        return f"ready after median {median:.0f} ms, max {worst:.0f} ms"


WATCH_POLL = 0.005
#: A lookup counts as slowed by a worker's replacement when it overlaps the first this many
#: seconds of a new worker (its start-up) or the moment an old one ended.
STARTUP_WINDOW = 1.5
#: Seconds after a runaway's start that a burst of runaways may keep the cores busy at normal
#: priority (see :func:`causes`).
BURST_WINDOW = 0.5


def causes(phase: Phase, events: list[tuple[float, str, int]], slow: float) -> str:
    """The lookups slower than ``slow`` seconds per likely cause, against all lookups per cause.

    In this order: on a fresh connection (the previous answer closed it: a worker retiring),
    overlapping a worker's start-up or end, overlapping a runaway's first 100 ms (its CPU at
    normal priority before its demotion), none of these. Of the last, how many started within
    :data:`BURST_WINDOW` of a runaway's start ("of which after a burst"): runaways answered
    503 at the same deadline are sent again together, and 8 of them take 8 x 50 ms of CPU at
    normal priority on the machine's 2 cores, longer than the first 100 ms.
    """
    spawns = [t for t, kind, _ in events if kind == "spawn"]
    exits = [t for t, kind, _ in events if kind == "exit"]
    slow_by, all_by, bursts = Counter[str](), Counter[str](), [0, 0]
    for start, seconds, fresh in phase.lookups:
        end = start + seconds
        if fresh:
            cause = "reconnect"
        elif any(start - STARTUP_WINDOW <= t <= end for t in spawns) or any(
            start - 0.2 <= t <= end for t in exits
        ):
            cause = "replacement"
        elif any(start - 0.1 <= t <= end for t in phase.runaway_starts):
            cause = "runaway-start"
        else:
            cause = "other"
            if any(start - BURST_WINDOW <= t <= end for t in phase.runaway_starts):
                bursts[0] += 1
                bursts[1] += seconds > slow
        all_by[cause] += 1
        slow_by[cause] += seconds > slow
    reloads = len(spawns)
    parts = [f"{c} {slow_by[c]}/{all_by[c]}" for c in
             ("reconnect", "replacement", "runaway-start", "other")]  # fmt: skip
    parts[-1] += f" (of which after a burst {bursts[1]}/{bursts[0]})"
    return f"  slow (> {slow * 1000:.1f} ms) / all: {', '.join(parts)}; workers started {reloads}"


def settle(base: str) -> None:
    """Wait for the server to be healthy and quiet (replaced workers up) before a phase."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(base + "/health", timeout=5).read()
            time.sleep(3)
            urllib.request.urlopen(base + "/health", timeout=5).read()
            return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"server at {base} did not come up")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else float("nan")


def spread(seconds: list[float], digits: int = 2) -> str:
    """``p50 .. ms, p99 .. ms, max .. ms`` of ``seconds`` (the probes beside this bench)."""
    p50, p99, top = (percentile(seconds, f) * 1000 for f in (0.5, 0.99, 1.0))
    return f"p50 {p50:.{digits}f} ms, p99 {p99:.{digits}f} ms, max {top:.{digits}f} ms"


def serve(
    src: Path, store: Path, mode: str, timeout: float, work: Path
) -> tuple[subprocess.Popen[bytes], int, int]:
    """Start ``kg serve`` from ``src``; (process, port, request threads in all workers)."""
    port = free_port()
    env = dict(os.environ, PYTHONPATH=str(src), KG_RESULT_CACHE_MB="0", KG_WRITE_TOKEN="",
               KG_QUERY_TIMEOUT=str(timeout), KG_PROJECT_DIR=str(ROOT))  # fmt: skip
    workers = os.cpu_count() or 1
    if mode == "writable":
        env["KG_WRITE_TOKEN"] = WRITE_TOKEN
        workers = 1
    threads = int(env.get("KG_THREADS", "2")) * workers
    log = (work / f"serve-{port}.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "graph", "serve", "--store", str(store), "--port", str(port),
         "--no-access-log"], env=env, stdout=log, stderr=log, start_new_session=True,
    )  # fmt: skip
    return process, port, threads


def report(label: str, mode: str, name: str, phase: Phase, idle_p99: float) -> None:
    lat = phase.latencies
    p50 = statistics.median(lat) * 1000 if lat else float("nan")
    p99, worst = percentile(lat, 0.99) * 1000, (max(lat) * 1000 if lat else float("nan"))
    ratio = p99 / idle_p99 if idle_p99 else float("nan")
    lookups = " ".join(f"{k}:{v}" for k, v in sorted(phase.lookup_status.items()))
    runaways = " ".join(f"{k}:{v}" for k, v in sorted(phase.runaway_status.items())) or "-"
    print(f"{label:<8} {mode:<9} {name:<10} {len(lat):>6} {p50:>8.1f} {p99:>8.1f} {worst:>8.1f}"
          f" {ratio:>6.2f}  lookups[{lookups}] runaways[{runaways}]", flush=True)  # fmt: skip


def measure(label: str, src: Path, mode: str, store: Path, args: argparse.Namespace,
            work: Path, ids: int) -> None:  # fmt: skip
    process, port, threads = serve(src, store, mode, args.timeout, work)
    base = f"http://127.0.0.1:{port}"
    watch = WorkerWatch(process.pid, port) if args.trace else None
    try:
        settle(base)
        run_phase(port, 0, 3, ids)  # warm-up, not counted
        idle = run_phase(port, 0, args.seconds, ids)
        idle_p99 = percentile(idle.latencies, 0.99) * 1000
        report(label, mode, "idle", idle, idle_p99)
        for factor in (1, 2):
            settle(base)
            mark = len(watch.ready) if watch is not None else 0
            phase = run_phase(port, factor * threads, args.seconds, ids, RUNAWAYS[args.runaway],
                              vary=args.vary)  # fmt: skip
            report(label, mode, f"{factor}x={factor * threads}", phase, idle_p99)
            if watch is not None:
                print(causes(phase, watch.events, 3 * idle_p99 / 1000)
                      + f"; {watch.readiness(mark)}", flush=True)  # fmt: skip
    finally:
        if watch is not None:
            watch.stopped.set()
        stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a server started by :func:`serve` and its workers (killed after 30 s)."""
    os.killpg(process.pid, 15)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, 9)
        process.wait()


def labelled_codes(values: list[str]) -> list[tuple[str, Path]]:
    """``--code LABEL=SRC`` values as (label, source folder) pairs."""
    return [(c.split("=", 1)[0], Path(c.split("=", 1)[1]).resolve()) for c in values]


def generated(work: Path, triples: int, seed: int) -> Path:
    """N-Quads of ``triples`` valid generated triples (bench/generate.py), written in ``work``."""
    data = work / "data.nq"
    subprocess.run(
        [sys.executable, str(ROOT / "bench" / "generate.py"), "--triples", str(triples),
         "--seed", str(seed), "--invalid-share", "0", "--out", str(data)],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--triples", type=int, default=300_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=15.0, help="length of each phase")
    parser.add_argument("--timeout", type=float, default=2.0, help="kg serve's query_timeout")
    parser.add_argument("--code", action="append", required=True, help="LABEL=SRC, repeatable")
    parser.add_argument("--mode", nargs="+", default=["read-only", "writable"],
                        choices=["read-only", "writable"])  # fmt: skip
    parser.add_argument("--rounds", type=int, default=1, help="alternating rounds per version")
    parser.add_argument("--runaway", choices=sorted(RUNAWAYS), default="cross-product",
                        help="the runaway query: see RUNAWAYS")  # fmt: skip
    parser.add_argument("--trace", action="store_true",
                        help="print the slow lookups per likely cause (see causes())")  # fmt: skip
    parser.add_argument("--vary", action="store_true",
                        help="a text of its own for every runaway sent")  # fmt: skip
    args = parser.parse_args()
    codes = labelled_codes(args.code)
    work = Path(tempfile.mkdtemp(prefix="kg-runaway-bench-"))
    try:
        data = generated(work, args.triples, args.seed)
        oxigraph = shutil.which("oxigraph") or str(Path(sys.executable).with_name("oxigraph"))
        store = build_store(data, work, oxigraph)
        ids = grant_count(data)
        print(f"{args.triples} triples, {ids} grants; query_timeout {args.timeout} s;"
              f" {LOOKUP_CLIENTS} lookup clients; {args.seconds} s per phase;"
              f" runaway {args.runaway}{' (varied)' if args.vary else ''};"
              f" load average {os.getloadavg()[0]:.1f}")  # fmt: skip
        print(f"{'code':<8} {'mode':<9} {'phase':<10} {'n':>6} {'p50 ms':>8} {'p99 ms':>8}"
              f" {'max ms':>8} {'p99/idle':>6}  statuses")  # fmt: skip
        for _ in range(args.rounds):
            for mode in args.mode:
                for label, src in codes:
                    measure(label, src, mode, store, args, work, ids)
        print(f"load average at the end {os.getloadavg()[0]:.1f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
