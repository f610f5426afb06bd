"""Serving benchmark: `kg serve` against native `oxigraph serve-read-only` on the same store.

Drives both with wrk (16 connections) over the same query mix and prints req/s, p50, p99 and
the ratio to native for each query. Not a test: run it by hand.

    python bench/serve_bench.py --triples 1000000 [--data FILE.nq] [--no-cache] [--duration 5]
        [--rounds 3] [--http-server granian|gunicorn]

On a shared machine the load changes from one second to the next, so each query is measured
in ``--rounds`` alternating native/kg runs of ``--duration`` seconds: req/s is the mean over
the rounds, p50/p99 the median of the rounds' figures. Each round's kg run is compared with the
native run just before it; ``range`` shows the lowest and highest of these paired req/s ratios,
so a ratio can be read against the machine's noise. Run it under `flock /tmp/bench.lock`; each
row shows the 1-minute load average when its last run ended.

Needs: `pip install oxigraph` (the native server) and Debian's `wrk`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from pyoxigraph import Store  # noqa: E402

from graph.store import materialize, new_generation, publish_generation  # noqa: E402

PREFIXES = (
    "PREFIX ag: <https://w3id.org/alliance-graph/ontology#> "
    "PREFIX org: <http://www.w3.org/ns/org#> "
    "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "
    "PREFIX schema: <https://schema.org/> "
)
ID = "https://w3id.org/alliance-graph/id/"
#: name -> query; the point lookup's %07d is replaced per request by wrk with a random number.
MIX = {
    "point": f"SELECT ?p ?o WHERE {{ <{ID}grant/synthetic-%07d> ?p ?o }}",
    "join": PREFIXES + "SELECT ?m ?country ?code ?alliance WHERE { ?m org:member ?country ;"
    " org:organization ?alliance . ?country ag:iso3166Alpha2 ?code } LIMIT 500",
    "aggregate": PREFIXES
    + "SELECT ?alliance (COUNT(?m) AS ?members) WHERE { ?m org:organization ?alliance }"
    " GROUP BY ?alliance ORDER BY DESC(?members) LIMIT 20",
    "construct": PREFIXES + "CONSTRUCT { ?g ?p ?o } WHERE { ?g a ag:Grant ; ?p ?o } LIMIT 300",
    # The "1 s aggregation": every triple grouped (about 0.5 s at 1M triples).
    "aggregate-all": "SELECT ?p (COUNT(*) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?p ORDER BY DESC(?n)",
}
#: Seconds per wrk run at least, for queries so slow that a short run holds few answers.
MIN_DURATION = {"aggregate-all": 20}

LUA = """
local ids = IDS
local path = "PATH"
local template = [[QUERY]]
local function enc(c) return string.format("%%%02X", string.byte(c)) end
request = function()
  local q = string.format(template, math.random(0, ids - 1))
  local body = "query=" .. q:gsub("[^%w]", enc)
  return wrk.format("POST", path, {["Content-Type"]="application/x-www-form-urlencoded",
    ["Accept"]="application/sparql-results+json"}, body)
end
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_up(url: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=5).read()
            return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"server at {url} did not come up")


def build_store(data: Path, work: Path, oxigraph: str) -> Path:
    """Bulk-load the quads (keeping their named graphs) with Oxigraph's own loader."""
    store = work / "store"
    generation = new_generation(store)
    subprocess.run([oxigraph, "load", "--location", str(generation), "--file", str(data)],
                   check=True, stderr=subprocess.DEVNULL)  # fmt: skip
    # kg serve opens stores read-only and refuses one whose default graph is not the set of
    # the named graphs' triples (issue 17): write it as kg build does.
    materialize(Store(str(generation)))
    publish_generation(store, generation)
    return store


def grant_count(data: Path) -> int:
    """How many grants ``data`` (bench/generate.py N-Quads) holds: the point lookups' ids."""
    found = subprocess.run(["grep", "-c", "ontology#Grant> <", str(data)],
                           capture_output=True, text=True).stdout  # fmt: skip
    return int(found)


def run_wrk(
    base: str, path: str, name: str, ids: int, duration: int, work: Path
) -> tuple[float, str, str]:
    script = work / f"{name}.lua"
    if "%07d" in MIX[name]:
        script.write_text(
            LUA.replace("IDS", str(ids)).replace("PATH", path).replace("QUERY", MIX[name])
        )
        args = ["-s", str(script), base]
    else:
        query = urllib.parse.quote(MIX[name], safe="")
        args = [f"{base}{path}?query={query}", "-H", "Accept: */*"]
    duration = max(duration, MIN_DURATION.get(name, 0))
    out = subprocess.run(
        ["wrk", "-t2", "-c16", f"-d{duration}s", "--timeout", "120s", "--latency", *args],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    # The latency distribution lines, e.g. "     50%    1.23ms" (seconds come with a trailing
    # space: "3.25s "), each alone on a line: an unanchored "50%" also matches the end of
    # "+/- Stdev" figures such as "90.50%".
    p50 = re.search(r"^\s+50%\s+(\S+)\s*$", out, re.M).group(1)  # type: ignore[union-attr]
    p99 = re.search(r"^\s+99%\s+(\S+)\s*$", out, re.M).group(1)  # type: ignore[union-attr]
    if re.search(r"Non-2xx", out):
        print(f"WARNING: non-2xx answers for {name}:\n{out}", file=sys.stderr)
    return rate, p50, p99


def summarize(runs: list[tuple[float, str, str]]) -> tuple[float, str, str]:
    """Mean req/s and median p50 and p99 of several wrk runs."""
    p50s = sorted((r[1] for r in runs), key=to_ms)
    p99s = sorted((r[2] for r in runs), key=to_ms)
    return statistics.mean(r[0] for r in runs), p50s[len(runs) // 2], p99s[len(runs) // 2]


def to_ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", value).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--triples", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--data", type=Path, help="an N-Quads file instead of generated data")
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="alternating runs per server")
    parser.add_argument("--no-cache", action="store_true", help="turn kg serve's cache off")
    parser.add_argument("--http-server", default="auto", help="kg serve's http_server setting")
    parser.add_argument("--allocator", default="auto", help="kg serve's allocator setting")
    parser.add_argument("--native-preload", help="a malloc library to preload for native too")
    parser.add_argument("--only", nargs="*", help="run only these queries of the mix")
    args = parser.parse_args()
    for tool in ("wrk",):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is missing: apt-get install -y wrk")
    oxigraph = shutil.which("oxigraph") or str(Path(sys.executable).with_name("oxigraph"))
    work = Path(tempfile.mkdtemp(prefix="kg-serve-bench-"))
    data = args.data or work / "data.nq"
    if args.data is None:
        subprocess.run(
            [sys.executable, str(ROOT / "bench" / "generate.py"), "--triples", str(args.triples),
             "--seed", str(args.seed), "--invalid-share", "0", "--out", str(data)],
            check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
    store = build_store(data, work, oxigraph)
    ids = grant_count(data)
    native_port, kg_port = free_port(), free_port()
    env = dict(os.environ, KG_RESULT_CACHE_MB="0" if args.no_cache else "64",
               KG_QUERY_TIMEOUT="30", KG_MAX_RESULTS="1000000",
               KG_HTTP_SERVER=args.http_server, KG_ALLOCATOR=args.allocator)  # fmt: skip
    # Native as shipped (glibc's malloc) unless asked: --native-preload shows what the same
    # allocator as kg serve's does for native Oxigraph.
    native_env = dict(os.environ)
    if args.native_preload:
        native_env["LD_PRELOAD"] = args.native_preload
    servers = [
        subprocess.Popen([oxigraph, "serve-read-only", "--location", str(store.resolve()),
                          "--bind", f"127.0.0.1:{native_port}", "--union-default-graph"],
                         env=native_env, stderr=subprocess.DEVNULL),
        subprocess.Popen([sys.executable, "-m", "graph", "serve", "--store", str(store),
                          "--port", str(kg_port), "--no-access-log"], env=env,
                         stderr=subprocess.DEVNULL),
    ]  # fmt: skip
    try:
        native, ours = f"http://127.0.0.1:{native_port}", f"http://127.0.0.1:{kg_port}"
        wait_up(native + "/query?query=ASK%7B%7D")
        wait_up(ours + "/health")
        cache = "off" if args.no_cache else "on"
        health = json.loads(urllib.request.urlopen(ours + "/health", timeout=10).read())
        print(f"{ids} grants; kg serve result cache {cache}, http_server {args.http_server},"
              f" allocator {health['allocator']} (native: {args.native_preload or 'glibc'});"
              f" wrk -t2 -c16 -d{args.duration}s x {args.rounds} rounds")  # fmt: skip
        print(f"{'query':<13} {'server':<8} {'req/s':>9} {'p50':>9} {'p99':>9} {'ratio':>6}"
              f" {'range':>11} {'p99/native':>10} {'load':>5}")  # fmt: skip
        for name in args.only or MIX:
            # Warm-up, not counted: both servers fill their caches for this query first.
            run_wrk(native, "/query", name, ids, 2, work)
            run_wrk(ours, "/sparql", name, ids, 2, work)
            runs: dict[str, list[tuple[float, str, str]]] = {"native": [], "kg": []}
            for _ in range(args.rounds):
                runs["native"].append(run_wrk(native, "/query", name, ids, args.duration, work))
                runs["kg"].append(run_wrk(ours, "/sparql", name, ids, args.duration, work))
            n_rate, n50, n99 = summarize(runs["native"])
            k_rate, k50, k99 = summarize(runs["kg"])
            load = os.getloadavg()[0]
            print(f"{name:<13} {'native':<8} {n_rate:>9.1f} {n50:>9} {n99:>9}")
            paired = [k[0] / n[0] for n, k in zip(runs["native"], runs["kg"], strict=True)]
            spread = f"{min(paired):.2f}-{max(paired):.2f}"
            print(f"{'':<13} {'kg':<8} {k_rate:>9.1f} {k50:>9} {k99:>9} {k_rate / n_rate:>6.2f}"
                  f" {spread:>11} {to_ms(k99) / to_ms(n99):>10.2f} {load:>5.1f}")  # fmt: skip
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
