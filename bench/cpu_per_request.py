"""CPU time per request: `kg serve` of one or more source trees against native Oxigraph.

    python bench/cpu_per_request.py --data FILE.nq --src src [--src /tmp/before/src]
        [--query point] [--connections 16] [--duration 8] [--rounds 3] [--env KG_X=1 ...]

req/s on a shared machine moves with whatever else runs (serve_bench.py's ``range`` column shows
by how much). The CPU time a server spends per answered request moves much less: it is what the
request costs, not how often the scheduler lets the server run. Each server is driven by wrk
(POST form queries from serve_bench.py's mix) in alternating rounds; the user and system CPU
time of all its processes (workers and threads) is read from /proc before and after, and
divided by the number of answers, and so are the voluntary context switches of their threads
(``cs/req``: a thread going to sleep, e.g. a request thread waiting for a helper's answer).
Unlike instructions_bench.py (one connection, no sandbox, under valgrind), this includes thread
hand-offs, lock waits and system calls under concurrency.

``--src`` may be given several times (e.g. the tree before a change, ``git archive REV | tar -x
-C /tmp/before``): each runs with ``PYTHONPATH`` set to it, so every tree is served by the same
interpreter and dependencies. ``--env`` settings apply to every kg server; ``--src
PATH::KG_X=1`` gives one tree its own (to compare settings on one tree).

Needs: `pip install oxigraph` (the native server) and Debian's `wrk`.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

from serve_bench import LUA, MIX, build_store, free_port, grant_count, wait_up

_TICK = os.sysconf("SC_CLK_TCK")


@dataclass
class Server:
    name: str
    command: list[str]
    path: str
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    port: int = 0


def cpu_seconds(session: int) -> tuple[float, float]:
    """User and system CPU seconds of every process in ``session`` (all their threads)."""
    user = system = 0
    for pid in _session(session):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # ended meanwhile
            continue
        user, system = user + int(fields[11]), system + int(fields[12])
    return user / _TICK, system / _TICK


def switches(session: int) -> int:
    """Voluntary context switches of the live threads of every process in ``session``: each is
    a thread going to sleep (waiting for a request, a lock, the GIL, a helper's answer)."""
    total = 0
    for pid in _session(session):
        for status in Path(f"/proc/{pid}/task").glob("*/status"):
            try:
                text = status.read_text()
            except OSError:  # ended meanwhile
                continue
            total += int(re.search(r"^voluntary_ctxt_switches:\s+(\d+)", text, re.M).group(1))  # type: ignore[union-attr]
    return total


def _session(session: int) -> list[str]:
    return subprocess.run(
        ["pgrep", "-s", str(session)], capture_output=True, text=True
    ).stdout.split()


def drive(
    server: Server, query: str, ids: int, args: argparse.Namespace, work: Path
) -> tuple[int, float]:
    """(answers, req/s) of one wrk run against ``server``."""
    base = f"http://127.0.0.1:{server.port}"
    if "%07d" in query:
        script = work / "query.lua"
        script.write_text(
            LUA.replace("IDS", str(ids)).replace("PATH", server.path).replace("QUERY", query)
        )
        target = ["-s", str(script), base]
    else:
        target = [f"{base}{server.path}?query={urllib.parse.quote(query, safe='')}",
                  "-H", "Accept: application/sparql-results+json"]  # fmt: skip
    threads = min(2, args.connections)
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{args.connections}", f"-d{args.duration}s", *target],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    if "Non-2xx" in out:
        raise SystemExit(f"{server.name} gave non-2xx answers:\n{out}")
    answers = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    return answers, rate


def servers_for(args: argparse.Namespace, store: Path, oxigraph: str) -> list[Server]:
    command = [oxigraph, "serve-read-only", "--location", str(store),
               "--bind", "127.0.0.1:{port}", "--union-default-graph"]  # fmt: skip
    native = Server("native", command, "/query")
    ours = []
    for spec in args.src:
        tree, _, own = spec.partition("::")
        env = {"PYTHONPATH": str(Path(tree).resolve()), "KG_RESULT_CACHE_MB": "0",
               "KG_QUERY_TIMEOUT": "30", "KG_MAX_RESULTS": "1000000"}  # fmt: skip
        for setting in [*args.env, *filter(None, own.split(","))]:
            key, _, value = setting.partition("=")
            env[key] = value
        command = [sys.executable, "-m", "graph", "serve", "--store", str(store),
                   "--no-access-log", "--port", "{port}"]  # fmt: skip
        ours.append(Server(spec, command, "/sparql", env))
    return [native, *ours]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="N-Quads (bench/generate.py)")
    parser.add_argument("--src", action="append", required=True, help="a tree's src folder")
    parser.add_argument("--env", action="append", default=[], help="KG_SETTING=value for kg")
    parser.add_argument("--query", default="point", choices=sorted(MIX))
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--duration", type=int, default=8, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install -y wrk")
    oxigraph = shutil.which("oxigraph") or str(Path(sys.executable).with_name("oxigraph"))
    work = Path(tempfile.mkdtemp(prefix="kg-cpu-bench-"))
    servers: list[Server] = []
    try:
        store = build_store(args.data, work, oxigraph).resolve()
        ids = grant_count(args.data)
        servers = servers_for(args, store, oxigraph)
        for server in servers:
            server.port = free_port()
            server.process = subprocess.Popen(
                [part.format(port=server.port) for part in server.command],
                env={**os.environ, **server.env}, start_new_session=True,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            wait_up(f"http://127.0.0.1:{server.port}{server.path}?query=ASK%7B%7D")
        print(f"{args.query}: wrk -c{args.connections} -d{args.duration}s x {args.rounds} rounds")
        print(f"{'server':<40} {'req/s':>8} {'user us':>8} {'sys us':>7} {'CPU us':>7}"
              f" {'/native':>7} {'cs/req':>6} {'load':>5}")  # fmt: skip
        for _ in range(args.rounds):
            native_cost = 0.0
            for server in servers:
                assert server.process is not None
                user0, system0 = cpu_seconds(server.process.pid)
                slept = switches(server.process.pid)
                answers, rate = drive(server, MIX[args.query], ids, args, work)
                user1, system1 = cpu_seconds(server.process.pid)
                slept = switches(server.process.pid) - slept
                user, system = (user1 - user0) / answers * 1e6, (system1 - system0) / answers * 1e6
                native_cost = native_cost or user + system
                print(f"{server.name[-40:]:<40} {rate:>8.0f} {user:>8.0f} {system:>7.0f}"
                      f" {user + system:>7.0f} {(user + system) / native_cost:>7.2f}"
                      f" {slept / answers:>6.2f} {os.getloadavg()[0]:>5.1f}",
                      flush=True)  # fmt: skip
    finally:
        for server in servers:
            if server.process is not None:
                subprocess.run(["pkill", "-9", "-s", str(server.process.pid)], capture_output=True)
                server.process.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
