"""Measure how much thread stack Oxigraph needs per repetition of each recursive query shape.

Oxigraph's SPARQL parser, optimizer, evaluator and the drop of its trees recurse once per
repetition of a flat chain (``1+1+…``, ``{} UNION {} UNION …``, ``:p|:p|…``), so a long enough
query overflows any fixed stack and the process dies with SIGSEGV (issue 11, item 1).

Each probe runs in its own subprocess, on a thread whose stack is a large fresh mapping; the
kernel makes a page of it resident only when it is touched, so the mapping's Rss in
/proc/self/smaps after the query is the deepest stack the query used (its high-water mark),
for the query call (parse, plan, evaluate an ASK), the serialization (evaluates a SELECT) and
the drop of the result. The slope between two repetition counts is the stack per repetition;
divided by the bytes each repetition adds to the text, the stack per byte of query.

``--check`` then runs every shape at the largest size graph.answering.stack allows for the current
``max_query_bytes`` on a thread of exactly the stack graph.answering.stack gives it (must answer),
and
on a thread with a quarter of that (shows the figure is real: must crash or be refused).

Run: ``.venv/bin/python bench/stack_probe.py [--check]`` (about a minute).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Callable

PREFIX = "PREFIX : <http://e.org/> "


def _chain(head: str, unit: str, sep: str, tail: str) -> Callable[[int], str]:
    return lambda n: PREFIX + head + sep.join([unit] * n) + tail


#: name -> (query or update text with n repetitions, is it an update)
SHAPES: dict[str, tuple[Callable[[int], str], bool]] = {
    "plus": (_chain("ASK { FILTER(", "1", "+", " > 0) }"), False),
    "and": (_chain("ASK { FILTER(", "true", "&&", ") }"), False),
    "or": (_chain("ASK { FILTER(", "false", "||", ") }"), False),
    "union": (_chain("SELECT * { ", "{}", " UNION ", " }"), False),
    "filters": (_chain("SELECT * { ", "FILTER(true)", " ", " }"), False),
    "path_alt": (_chain("SELECT * { ?s ", ":p", "|", " ?o }"), False),
    "path_seq": (_chain("SELECT * { ?s ", ":p", "/", " ?o }"), False),
    "binds": (
        lambda n: PREFIX + "SELECT * { " + " ".join(f"BIND({i} AS ?v{i})" for i in range(n)) + " }",
        False,
    ),
    "optionals": (_chain("SELECT * { ", "OPTIONAL {}", " ", " }"), False),
    "minus": (_chain("SELECT * { ", "{}", " MINUS ", " }"), False),
    "triples": (
        lambda n: PREFIX + "SELECT * { " + " ".join(f"?s{i} :p ?o{i} ." for i in range(n)) + " }",
        False,
    ),
    "objects": (_chain("SELECT * { ?s :p ", "1", ",", " }"), False),
    "concat_args": (_chain("SELECT (CONCAT(", '"a"', ",", ") AS ?x) {}"), False),
    "values": (_chain("SELECT * { VALUES ?x { ", "1", " ", " } }"), False),
    "select_plus": (_chain("SELECT (", "1", "+", " AS ?x) {}"), False),
    "nesting": (lambda n: PREFIX + "ASK { FILTER(" + "(" * n + "1" + ")" * n + ") }", False),
    "brace_nesting": (lambda n: PREFIX + "ASK " + "{" * n + "}" * n, False),
    "not": (_chain("ASK { FILTER(", "!", "", "true) }"), False),
    "negate": (_chain("ASK { FILTER(", "- ", "", "1) }"), False),
    "path_a": (_chain("SELECT * { ?s ", "a", "|", " ?o }"), False),
    "collection": (_chain("SELECT * { ?s :p (", "1", " ", ") }"), False),
    "predicates": (_chain("SELECT * { ?s ", ":p ?o", ";", " }"), False),
    "times": (_chain("ASK { FILTER(", "1", "*", " > 0) }"), False),
    "triple_terms": (
        lambda n: PREFIX + "SELECT * { ?s ?p " + "<< :a :b " * n + ":c" + " >>" * n + " }",
        False,
    ),
    "order_by": (_chain("SELECT * {} ORDER BY ", "1", " ", ""), False),
    "literal": (lambda n: PREFIX + 'ASK { FILTER("' + "a" * n + '" != "") }', False),
    "update_plus": (_chain("INSERT { :a :b :c } WHERE { FILTER(", "1", "+", " > 0) }"), True),
    "update_ops": (_chain("", "INSERT DATA { :a :b :c }", " ; ", ""), True),
    "update_union": (_chain("INSERT { :a :b :c } WHERE { ", "{}", " UNION ", " }"), True),
}

_CHILD = r"""
import ctypes, json, sys, threading
import pyoxigraph

text, update, stack = sys.stdin.read(), sys.argv[1] == "1", int(sys.argv[2])
libc = ctypes.CDLL(None)
libc.pthread_self.restype = ctypes.c_ulong

def stack_range():
    attr = ctypes.create_string_buffer(128)
    libc.pthread_getattr_np(ctypes.c_ulong(libc.pthread_self()), attr)
    addr, size = ctypes.c_void_p(), ctypes.c_size_t()
    libc.pthread_attr_getstack(attr, ctypes.byref(addr), ctypes.byref(size))
    libc.pthread_attr_destroy(attr)
    return addr.value, addr.value + size.value

def resident(low, high):
    rss, inside = 0, False
    for line in open("/proc/self/smaps"):
        head = line.split()[0]
        if "-" in head and not head.endswith(":"):
            start, end = (int(part, 16) for part in head.split("-"))
            inside = start < high and end > low
        elif inside and head == "Rss:":
            rss += int(line.split()[1]) * 1024
    return rss

out = {}
def run():
    low, high = stack_range()
    out["base"] = resident(low, high)
    store = pyoxigraph.Store()
    store.add(pyoxigraph.Quad(pyoxigraph.NamedNode("http://e.org/a"),
        pyoxigraph.NamedNode("http://e.org/p"), pyoxigraph.NamedNode("http://e.org/b")))
    try:
        if update:
            store.update(text)
            out["query"] = out["serialize"] = resident(low, high)
        else:
            result = store.query(text)
            out["query"] = resident(low, high)
            if not isinstance(result, pyoxigraph.QueryBoolean):
                result.serialize(format=pyoxigraph.QueryResultsFormat.JSON)
            out["serialize"] = resident(low, high)
            del result
    except (SyntaxError, OSError, RuntimeError, ValueError) as error:
        out["error"] = str(error)[:200]
    out["drop"] = resident(low, high)

threading.stack_size(stack)
thread = threading.Thread(target=run)
thread.start()
thread.join()
print(json.dumps(out))
"""


def probe(text: str, update: bool, stack: int) -> dict[str, object] | None:
    """Stack high-water marks of one query on a thread of ``stack`` bytes; None if it crashed."""
    try:
        done = subprocess.run(
            [sys.executable, "-c", _CHILD, "1" if update else "0", str(stack)],
            input=text.encode(),
            capture_output=True,
            timeout=60,
        )
    except subprocess.TimeoutExpired:
        return {"error": "timed out after 60 s"}
    if done.returncode != 0:
        return None
    result: dict[str, object] = json.loads(done.stdout)
    return result


def measure(sizes: tuple[int, int] = (400, 800), stack: int = 1 << 30) -> list[dict[str, object]]:
    """Per shape: stack per repetition and per byte of query text, for each phase."""
    rows = []
    for name, (make, update) in SHAPES.items():
        low_n, high_n = (20_000, 40_000) if name == "literal" else sizes
        low, high = probe(make(low_n), update, stack), probe(make(high_n), update, stack)
        text_per_rep = (len(make(high_n).encode()) - len(make(low_n).encode())) / (high_n - low_n)
        row: dict[str, object] = {"shape": name, "text_bytes_per_rep": round(text_per_rep, 1)}
        if low is None or high is None:
            row["crashed"] = True
        elif "drop" not in low or "drop" not in high:
            row["error"] = (high or low).get("error", "")
        else:
            row["error"] = high.get("error", "")
            for phase in ("query", "serialize", "drop"):
                slope = (int(high[phase]) - int(low[phase])) / (high_n - low_n)  # type: ignore[call-overload]
                row[f"{phase}_per_rep"] = round(slope)
            row["stack_per_byte"] = round(int(row["drop_per_rep"]) / text_per_rep, 1)  # type: ignore[call-overload]
            row["stack_at_low_n"] = high["drop"]
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


def check() -> None:
    """Every shape at the largest size allowed answers on the stack graph.answering.stack gives."""
    from graph.answering import stack as kgstack
    from graph.core.settings import BY_NAME

    limit = int(BY_NAME["max_query_bytes"].default)
    needed = kgstack.stack_for(limit)
    print(f"max_query_bytes={limit} -> evaluation thread stack {needed >> 20} MiB")
    for name, (make, update) in SHAPES.items():
        n = 1
        while len(make(n * 2).encode()) <= limit:
            n *= 2
        low, high = n, n * 2  # bisect the largest n that fits the limit
        while high - low > 1:
            mid = (low + high) // 2
            low, high = (mid, high) if len(make(mid).encode()) <= limit else (low, mid)
        text = make(low)
        full = probe(text, update, needed)
        quarter = probe(text, update, needed // 4)
        print(
            json.dumps(
                {
                    "shape": name,
                    "repetitions": low,
                    "bytes": len(text.encode()),
                    "on_full_stack": _outcome(full),
                    "on_quarter_stack": _outcome(quarter),
                }
            ),
            flush=True,
        )


def _outcome(result: dict[str, object] | None) -> str:
    if result is None:
        return "crashed"
    error = str(result.get("error", ""))
    return "timed out (60 s)" if error.startswith("timed out") else "answered"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="check the limits graph.answering.stack sets"
    )
    parser.add_argument("--only", nargs="*", help="probe only these shapes")
    args = parser.parse_args()
    for name in set(SHAPES) - set(args.only or SHAPES):
        del SHAPES[name]
    check() if args.check else measure()
