"""Time graph.store.sparql_errors.explain on 64 KiB texts built to be hard for its tokenizer.

Run: ``python bench/sparql_errors_probe.py``; prints the length and seconds of each case.
"""

from __future__ import annotations

import time

from graph.store.sparql_errors import explain

CASES = {
    "a-a-a-": "SELECT * WHERE { " + "a-" * 32000 + " }",
    "a.a.a.": "{" * 200 + "a." * 32000,
    "unclosed string": 'SELECT * WHERE { ?s ?p "' + "x" * 65000,
    "<a<a<a": "<a" * 32000,
    '"a"a"a': '"a' * 32000,
    "'''a": "'''a" * 16000,
    "a......": "a" + "." * 65000,
    "@@@": "@" * 65000,
    "6,000 triples": "{" * 200 + "?s ?p ?o ; " * 6000,
    "20,000 variables": "SELECT * { " + "?a " * 20000 + "}",
}

if __name__ == "__main__":
    for name, text in CASES.items():
        started = time.perf_counter()
        explain("error at 1:5: expected one of Prefix not found", text)
        explain("error at 1:5: expected X", text)
        print(f"{name:18} {len(text):6} chars {time.perf_counter() - started:.3f} s")
