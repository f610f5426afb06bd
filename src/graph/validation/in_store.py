"""Validation inside the store: the compiled SHACL checks of graph.validation.compile, located.

The data is already in an Oxigraph store (a new generation being built, or a temporary one), so
validating it costs a set of SPARQL queries instead of copying every triple into rdflib. The
report has the same :class:`graph.validation.report.Violation` entries as the pyshacl engine.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from rdflib import RDF, Graph, Literal, URIRef
from rdflib.term import Node

from graph.core.machine import usable_cores
from graph.sources.files import DATASET_SUFFIXES, Progress, SourceFile, no_progress
from graph.store import BlankNode, NamedNode, QuerySolutions, Store, run_query
from graph.validation.checks import CHUNK_SIZE, Batch, Check, batches
from graph.validation.compile import SUBCLASS, Subclasses, compile_shapes
from graph.validation.report import SH, Report, Violation

TOKEN = re.compile(r"<([^>\s]*)>|([A-Za-z][\w.-]*)?:([^\s;,()\[\]\"]*)")
#: Queries evaluated at once: Oxigraph releases the GIL while it evaluates, so each core works.
WORKERS = min(4, usable_cores())
#: From this many focus nodes on, a batch scans its predicate once instead of looking each up.
MANY_TARGETS = 2000
#: From this many focus nodes on (all its shapes together), a batch streams them instead: its
#: hash tables would grow with the data (8.5 GiB at 10M triples), but streaming costs up to
#: twice the time before the store is compacted; the figures are in docs/scaling.md (issue 12).
STREAM_TARGETS = 1_000_000
PREFIX = re.compile(r"^\s*@?prefix\s+([\w.-]*):\s*<([^>]*)>", re.IGNORECASE)


def shapes_graph(files: Iterable[SourceFile]) -> Graph:
    """The shapes files merged into one rdflib graph (shapes are small)."""
    graph = Graph()
    for source in files:
        graph.parse(source.path)
    return graph


# The checks read Oxigraph's union of every graph, duplicates and all (they count distinct
# values), unless told (``union=False``) that the store's own default graph already holds the
# set of every triple (graph.store.default_graph), as a build's generation does before it is
# validated; `kg validate` and the write path validate stores without the set. On the set the
# same checks run two to three times faster (docs/scaling.md, issue 12).


def store_classes(store: Store, *, union: bool = True) -> Subclasses:
    """The ``rdfs:subClassOf`` closure of ``store`` (ontology and data): class -> subclasses."""
    included: dict[str, set[str]] = {}
    text = f"SELECT ?sub ?super {{ ?sub <{SUBCLASS}>+ ?super FILTER(isIRI(?sub) && isIRI(?super))}}"
    result = run_query(store, text, union_default_graph=union)
    assert isinstance(result, QuerySolutions)
    for row in result:
        included.setdefault(_show(row["super"]), set()).add(_show(row["sub"]))
    return included


def target_count(store: Store, targets: str, limit: int, *, union: bool = True) -> int:
    """How many focus nodes ``targets`` binds, counted up to ``limit``."""
    text = f"SELECT (COUNT(*) AS ?n) WHERE {{ SELECT ?focus WHERE {{ {targets} }} LIMIT {limit} }}"
    result = run_query(store, text, union_default_graph=union)
    assert isinstance(result, QuerySolutions)
    return sum(int(str(row["n"].value)) for row in result)


def relevant(store: Store, checks: Sequence[Check], *, union: bool = True) -> list[Check]:
    """``checks`` without those the store cannot break (see :meth:`Check.vacuous`).

    Most shapes list optional properties that large parts of the data never use; checking
    them would still look up every focus node.
    """
    predicates = {c.predicate for c in checks if c.predicate is not None}
    present = used_predicates(store, predicates, union=union)
    return [c for c in checks if not c.vacuous(present)]


def used_predicates(store: Store, predicates: Iterable[str], *, union: bool = True) -> set[str]:
    """Those of ``predicates`` some statement of ``store`` uses.

    One query for all of them: each is an index lookup either way, but a write's validation
    asked about a hundred predicates one query at a time, paying the parsing and planning of
    each in CPU the readers of a busy server need (issue 12)."""
    wanted = sorted(predicates)
    if not wanted:
        return set()
    values = " ".join(f"<{p}>" for p in wanted)
    text = f"SELECT ?p WHERE {{ VALUES ?p {{ {values} }} FILTER EXISTS {{ ?s ?p ?o }} }}"
    result = run_query(store, text, union_default_graph=union)
    assert isinstance(result, QuerySolutions)
    return {str(row["p"].value) for row in result}


def plan(
    store: Store, checks: Sequence[Check], *, hashed: bool = True, union: bool = True
) -> list[Batch]:
    """The batches that evaluate ``checks`` on ``store``, leaving out what cannot break.

    Shapes without focus nodes and checks of absent predicates are dropped; with ``hashed``,
    batches over many focus nodes join with their predicate by hashing, and those over very
    many (:data:`STREAM_TARGETS`) stream their focus nodes.
    """
    checks = relevant(store, checks, union=union)
    limit = max(MANY_TARGETS, STREAM_TARGETS) if hashed else MANY_TARGETS
    sizes = {t: target_count(store, t, limit, union=union) for t in {c.targets for c in checks}}
    many = {t for t, n in sizes.items() if n >= MANY_TARGETS and hashed}
    stream_from = STREAM_TARGETS if hashed else None
    planned = batches([c for c in checks if sizes[c.targets]], many, sizes, stream_from)
    # The hashed and streamed batches are the long ones: started first, they do not finish
    # last alone.
    return sorted(planned, key=lambda batch: not (batch.hashed or batch.streamed))


def validate_store(
    store: Store,
    shapes: Graph,
    files: Sequence[SourceFile],
    base: str,
    *,
    focus: Sequence[str] | None = None,
    track: Progress = no_progress,
    checks: Sequence[Check] | None = None,
    workers: int = WORKERS,
    union: bool = True,
) -> Report:
    """Run every check of ``shapes`` on ``store`` (only on ``focus`` nodes when given).

    ``checks`` are the shapes already compiled for the store's class tree, if known;
    ``workers`` queries run at once (1: all on this thread, for a small store). With
    ``union`` False the checks read the store's own default graph, which must hold every
    triple of every graph (graph.store.default_graph.materialize), instead of the union.

    :raises graph.validation.compile.UnsupportedShape: if the shapes go beyond the compiled subset.
    """
    if checks is None:
        checks = compile_shapes(shapes, store_classes(store, union=union))
    groups = plan(store, checks, hashed=focus is None, union=union)
    found: list[tuple[Check, str, str]] = []
    if workers == 1:
        for batch in groups:
            found.extend(broken_by(store, batch, focus, union=union))
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            running = [pool.submit(broken_by, store, b, focus, union=union) for b in groups]
            for done in track(as_completed(running), "Validating", len(running)):
                found.extend(done.result())
    locations = locate(store, files, base, {f for _, f, _ in found})
    violations = [
        Violation(
            file=str(locations.get(f, ("", None))[0]),
            line=locations.get(f, ("", None))[1],
            focus=f,
            path=_path_text(check.path),
            value=value,
            message=check.message,
            severity=check.severity,
            constraint=check.component,
            shape=check.shape,
        )
        for check, f, value in found
    ]
    violations.sort(key=lambda v: (v.file, v.line or 0, v.focus, v.path, v.constraint))
    return Report(violations, results_graph(violations))


def broken_by(
    store: Store, batch: Batch, focus: Sequence[str] | None, *, union: bool = True
) -> list[tuple[Check, str, str]]:
    """(check, focus node, value node) of every violation the checks of ``batch`` find."""
    found: list[tuple[Check, str, str]] = []
    for text in queries_of(batch, focus):
        result = run_query(store, text, union_default_graph=union)
        assert isinstance(result, QuerySolutions)
        for row in result:
            cells = {f"c{i}": row[f"c{i}"] for i in range(len(batch.checks))}
            found.extend((c, _show(row["focus"]), _show(row["value"])) for c in batch.broken(cells))
    return found


def queries_of(batch: Batch, focus: Sequence[str] | None) -> Iterator[str]:
    if focus is None:
        yield batch.query
        return
    for start in range(0, len(focus), CHUNK_SIZE):
        yield batch.restricted(list(focus[start : start + CHUNK_SIZE]))


def _show(term: object) -> str:
    if term is None:
        return ""
    if isinstance(term, NamedNode):
        return term.value
    if isinstance(term, BlankNode):
        return f"_:{term.value}"
    return str(term)


def _path_text(path: str) -> str:
    """A predicate path as its IRI (as the pyshacl engine shows it), other paths in SPARQL."""
    if path.startswith("<") and path.endswith(">") and path.count("<") == 1:
        return path[1:-1]
    return path


def locate(
    store: Store, files: Sequence[SourceFile], base: str, nodes: set[str]
) -> dict[str, tuple[Path, int | None]]:
    """The file and first line that describe each of ``nodes`` (IRIs; blank nodes stay unknown)."""
    iris = sorted(n for n in nodes if not n.startswith(("_:", '"')))
    by_graph = {source.graph(base): source for source in files}
    # N-Quads and TriG files name their own graphs; a node in such a graph is theirs.
    datasets = [s for s in files if s.path.suffix in DATASET_SUFFIXES]
    owner: dict[str, SourceFile] = {}
    for start in range(0, len(iris), CHUNK_SIZE):
        values = " ".join(f"<{iri}>" for iri in iris[start : start + CHUNK_SIZE])
        text = f"SELECT ?n ?g WHERE {{ VALUES ?n {{ {values} }} GRAPH ?g {{ ?n ?p ?o }} }}"
        result = run_query(store, text, union_default_graph=False)
        assert isinstance(result, QuerySolutions)
        for row in result:
            source = by_graph.get(_show(row["g"]), datasets[0] if datasets else None)
            if source is not None and (
                _show(row["n"]) not in owner or source.path < owner[_show(row["n"])].path
            ):
                owner[_show(row["n"])] = source
    located: dict[str, tuple[Path, int | None]] = {}
    for path in sorted({s.path for s in owner.values()}):
        wanted = {iri for iri, s in owner.items() if s.path == path}
        lines = first_lines(path, wanted)
        located.update({iri: (path, lines.get(iri)) for iri in wanted})
    return located


def first_lines(path: Path, wanted: set[str]) -> dict[str, int]:
    """The first line of ``path`` naming each IRI of ``wanted``, in full or with a prefix."""
    prefixes: dict[str, str] = {}
    lines: dict[str, int] = {}
    with path.open(encoding="utf-8", errors="replace") as text:
        for number, line in enumerate(text, start=1):
            declared = PREFIX.match(line)
            if declared:
                prefixes[declared.group(1)] = declared.group(2)
                continue
            for full, prefix, local in TOKEN.findall(line):
                iri = full or prefixes.get(prefix, "\0") + local.rstrip(".")
                if iri in wanted and iri not in lines:
                    lines[iri] = number
            if len(lines) == len(wanted):
                break
    return lines


def results_graph(violations: Sequence[Violation]) -> Graph:
    """The SHACL validation report graph of ``violations`` (section 3.6 of SHACL)."""
    graph = Graph()
    graph.bind("sh", SH)
    report = URIRef("urn:alliance-graph:validation-report")
    graph.add((report, RDF.type, SH.ValidationReport))
    graph.add((report, SH.conforms, Literal(not violations)))
    for index, v in enumerate(violations):
        result = URIRef(f"urn:alliance-graph:validation-result:{index}")
        graph.add((report, SH.result, result))
        graph.add((result, RDF.type, SH.ValidationResult))
        graph.add((result, SH.focusNode, _node(v.focus)))
        if v.path and not v.path.startswith("("):
            graph.add((result, SH.resultPath, URIRef(v.path)))
        graph.add((result, SH.resultSeverity, SH[v.severity]))
        graph.add((result, SH.sourceConstraintComponent, SH[v.constraint]))
        graph.add((result, SH.resultMessage, Literal(v.message)))
    return graph


def _node(text: str) -> Node:
    return Literal(text) if text.startswith(("_:", '"')) else URIRef(text)
