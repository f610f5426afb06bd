"""Python's cost per point lookup through the WSGI application alone, for two source trees.

No HTTP server and no concurrency: the application is called in a loop on a small in-memory
store, so the figure is the request path's own work (middleware, protocol, limits, guard,
evaluation hand-off, serialization). Run it for the current tree and an earlier one in the same
session and read the ratio; e.g. with the tree before the hardening work::

    git archive e243f77 | tar -x -C /tmp/before
    python bench/app_overhead.py --src /tmp/before/src --src src [--served]

``--served`` takes the path a query takes under ``kg serve`` (granian): the body is read in
place, and the environ offers the way to answer from another thread (``kg.respond``) that
trees from before issue 13 took to evaluate in place on a thread with a big stack. Trees
since ignore it: every query is handed to a helper thread, as without ``--served``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys

# Runs in a child process per tree, so each imports its own package.
CHILD = r"""
import io, os, sys, time, urllib.parse
from pathlib import Path
sys.path.insert(0, sys.argv[1])
package = Path(sys.argv[1]) / "graph"
if (package / "http" / "app.py").exists():
    from graph.http.app import create_app
else:
    from graph.app import create_app
import pyoxigraph as ox

store = ox.Store()
graph, p = ox.NamedNode("http://e/g"), ox.NamedNode("http://e/p")
for i in range(2000):
    store.add(ox.Quad(ox.NamedNode(f"http://e/s{i}"), p, ox.Literal(str(i)), graph))
served = sys.argv[3] == "served"
app = create_app({"STORE_HANDLE": store, "RESULT_CACHE_MB": 0, "TESTING": True,
                  "BODY_READS_ABORTABLE": not served})
query = "SELECT ?o WHERE { <http://e/s%d> <http://e/p> ?o }"

def call(i):
    environ = {
        "REQUEST_METHOD": "GET", "PATH_INFO": "/sparql", "SERVER_NAME": "x",
        "SERVER_PORT": "80", "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(b""),
        "QUERY_STRING": urllib.parse.urlencode({"query": query % (i % 2000)}),
        "HTTP_ACCEPT": "application/sparql-results+json", "REMOTE_ADDR": "127.0.0.1",
    }
    if served:  # trees before issue 13 evaluate in place given this; later ones ignore it
        environ["kg.respond"] = lambda *answer: None
    status = []
    b"".join(app(environ, lambda s, h, e=None: status.append(s)))
    assert status[0].startswith("200"), status

def run():
    for i in range(300):
        call(i)
    n = int(sys.argv[2])
    started = time.perf_counter()
    for i in range(n):
        call(i)
    print((time.perf_counter() - started) / n * 1e6)

import threading
threading.stack_size(1 << 30)  # as kg serve gave granian's threads before issue 13 (in place)
thread = threading.Thread(target=run)
thread.start()
thread.join()
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--src", action="append", required=True, help="a tree's src folder")
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=2, help="alternating runs per tree")
    parser.add_argument(
        "--served",
        action="store_true",
        help="take kg serve's path under granian: body read in place (and, for trees before"
        " issue 13, evaluation in place)",
    )
    args = parser.parse_args()
    results: dict[str, list[float]] = {src: [] for src in args.src}
    for _ in range(args.rounds):
        for src in args.src:
            path = "served" if args.served else ""
            done = subprocess.run(
                [sys.executable, "-c", CHILD, src, str(args.requests), path],
                env={"KG_ACCESS_LOG": "0", "PATH": "/usr/bin:/bin"},
                capture_output=True,
                text=True,
                check=True,
            )
            results[src].append(float(done.stdout.strip().splitlines()[-1]))
    first = min(results[args.src[0]])
    for src, runs in results.items():
        shown = ", ".join(f"{r:.0f}" for r in runs)
        print(
            f"{src}: {shown} us per point lookup; best / first tree's best {min(runs) / first:.2f}"
        )


if __name__ == "__main__":
    main()
