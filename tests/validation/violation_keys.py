"""Violations as comparable (focus node, path, constraint component) keys, for both engines;
and the data generator of bench/generate.py, for tests that need a generated project."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from rdflib import Literal, URIRef

from graph.build.embedded import validate_project
from graph.core.namespaces import CANONICAL_BASE, SH
from graph.sources.files import discover, parse_sources
from graph.store import Store, bulk_load_file, finish_generation
from graph.validation.in_store import shapes_graph, validate_store
from graph.validation.report import Report
from tests.paths import ROOT

Key = tuple[str, str, str]


def load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("generate", ROOT / "bench" / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("generate", module)
    spec.loader.exec_module(module)
    return module


def keys(report: Report) -> set[Key]:
    """(focus, path, component) of the SPARQL engine; blank nodes and complex paths as markers."""
    return {
        (
            "_:" if v.focus.startswith("_:") else v.focus,
            "complex" if v.path.startswith(("_:", "(")) else v.path,
            v.constraint,
        )
        for v in report.violations
    }


def pyshacl_keys(report: Report) -> set[Key]:
    """The same from pyshacl's report graph, top-level results only (not sh:detail ones)."""
    graph = report.results
    found: set[Key] = set()
    for result in graph.objects(None, URIRef(SH + "result")):
        focus = graph.value(result, URIRef(SH + "focusNode"))
        path = graph.value(result, URIRef(SH + "resultPath"))
        component = graph.value(result, URIRef(SH + "sourceConstraintComponent"))
        found.add(
            (
                str(focus) if isinstance(focus, URIRef) else show_literal(focus),
                "" if path is None else str(path) if isinstance(path, URIRef) else "complex",
                str(component).rsplit("#", 1)[-1],
            )
        )
    return found


def show_literal(node: object) -> str:
    return node.n3() if isinstance(node, Literal) else "_:"


def both_engines(project: Path, *, on_set: bool = False) -> tuple[set[Key], set[Key]]:
    """The violations of ``project`` by pyshacl and by the SPARQL engine, as keys.

    ``on_set``: the SPARQL engine reads the store as a build does, its default graph made the
    set of every triple and compacted first; else Oxigraph's union, as ``kg validate`` does.
    """
    files = discover(project)
    by_pyshacl = validate_project(parse_sources(files, CANONICAL_BASE))
    store = Store()
    for source in files:
        if source.role != "shapes":
            bulk_load_file(store, source.path, source.graph(CANONICAL_BASE), CANONICAL_BASE)
    shapes = shapes_graph(f for f in files if f.role == "shapes")
    data = [f for f in files if f.role == "data"]
    if on_set:
        finish_generation(store)
    by_sparql = validate_store(store, shapes, data, CANONICAL_BASE, union=not on_set)
    return pyshacl_keys(by_pyshacl), keys(by_sparql)
