"""Instructions per request: `kg serve` against native `oxigraph serve-read-only`, under callgrind.

    python bench/instructions_bench.py --data FILE.nq [--query point] [--requests 1000]

Requests per second move by 10-15% from one minute to the next on a shared machine, more than
most changes to the request path are worth. valgrind's callgrind counts the instructions each
server executes instead: the same binary, data and requests give the same count whatever else
the machine is doing. Each server runs under callgrind (one worker for kg serve, on glibc's
malloc like native), answers ``--warm`` requests, has its counters zeroed, answers
``--requests`` more over one keep-alive connection, and has its counters dumped. The report
gives instructions per request for each server and their ratio.

Not a timing: instructions are not cycles (cache misses, thread hand-offs and the interpreter's
lock cost time without many instructions), so serve_bench.py stays the measure of req/s.
Needs: Debian's valgrind, and `pip install oxigraph`.
"""

from __future__ import annotations

import argparse
import http.client
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

from serve_bench import MIX, build_store, free_port, grant_count, wait_up

ROOT = Path(__file__).resolve().parents[1]


def drive(port: int, path: str, query: str, requests: int, ids: int, seed: int) -> None:
    """Send ``requests`` POST form queries over one connection; every answer must be a 200."""
    rng = random.Random(seed)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Accept": "application/sparql-results+json",
    }
    for _ in range(requests):
        text = query % rng.randrange(ids) if "%07d" in query else query
        connection.request("POST", path, "query=" + urllib.parse.quote(text, safe=""), headers)
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            raise SystemExit(f"{path} answered {response.status}")
    connection.close()


def callgrind(
    args: list[str], out: Path, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        ["valgrind", "--tool=callgrind", "--trace-children=yes",
         f"--callgrind-out-file={out}/cg.%p.out", *args],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, start_new_session=True,
    )  # fmt: skip


def control(pid: int, option: str) -> None:
    """``callgrind_control`` on every process of the session led by ``pid`` (workers too)."""
    members = subprocess.run(
        ["pgrep", "-s", str(pid)], capture_output=True, text=True
    ).stdout.split()
    for member in members:
        subprocess.run(["callgrind_control", option, member], capture_output=True)


def measure(
    name: str, server: list[str], url_path: str, query: str, args: argparse.Namespace,
    ids: int, env: dict[str, str] | None = None,
) -> int:  # fmt: skip
    """Instructions per request of one server, whose command line is ``server`` with
    ``{port}`` filled in."""
    out = Path(tempfile.mkdtemp(prefix=f"kg-cg-{name}-"))
    port = free_port()
    process = callgrind([part.format(port=port) for part in server], out, env)
    try:
        wait_up(f"http://127.0.0.1:{port}{url_path}?query=ASK%7B%7D", timeout=600)
        drive(port, url_path, query, args.warm, ids, seed=args.seed + 1)
        control(process.pid, "-z")
        drive(port, url_path, query, args.requests, ids, seed=args.seed)
        for dump in out.glob("cg.*.out*"):
            dump.unlink()
        control(process.pid, "-d")
        time.sleep(2)
        total = 0
        for dump in out.glob("cg.*.out.*"):  # the dumps (cg.PID.out is written at exit)
            summary = re.search(r"^summary: (\d+)", dump.read_text(), re.M)
            total += int(summary.group(1)) if summary else 0
        return total // int(args.requests)
    finally:
        subprocess.run(["pkill", "-9", "-s", str(process.pid)], capture_output=True)
        process.wait()
        shutil.rmtree(out, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="N-Quads (bench/generate.py)")
    parser.add_argument("--query", default="point", choices=sorted(MIX))
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--warm", type=int, default=50, help="requests before counting")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is missing: apt-get install -y valgrind")
    oxigraph = shutil.which("oxigraph") or str(Path(sys.executable).with_name("oxigraph"))
    work = Path(tempfile.mkdtemp(prefix="kg-cg-bench-"))
    try:
        store = build_store(args.data, work, oxigraph).resolve()
        ids = grant_count(args.data)
        query = MIX[args.query]
        native = measure(
            "native",
            [oxigraph, "serve-read-only", "--location", str(store), "--union-default-graph",
             "--bind", "127.0.0.1:{port}"],
            "/query", query, args, ids,
        )  # fmt: skip
        env = {"KG_RESULT_CACHE_MB": "0", "KG_QUERY_TIMEOUT": "600", "KG_MAX_RESULTS": "1000000",
               "PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin"}  # fmt: skip
        ours = measure(
            "kg",
            [sys.executable, "-m", "graph", "serve", "--store", str(store), "--workers", "1",
             "--allocator", "system", "--no-access-log", "--port", "{port}"],
            "/sparql", query, args, ids, env,
        )  # fmt: skip
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"{args.query}: {args.requests} requests over one connection, after {args.warm}")
    print(f"native  {native:>10,} instructions/request")
    print(f"kg      {ours:>10,} instructions/request   native/kg {native / ours:.2f}")


if __name__ == "__main__":
    main()
