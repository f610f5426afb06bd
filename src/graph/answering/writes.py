"""Every write to the store: one transaction, checked against the SHACL shapes before it commits.

A write is a SPARQL update (one the client sent, or one written here for a Graph Store
Protocol request). It runs first on an in-memory copy of the store; the copy is validated with
the project's shapes; only when it conforms does the same update run on the real store, where
Oxigraph applies it in one transaction. A refused write leaves the store exactly as it was.

Writers in this process are serialized by one lock, so the check and the commit see the same
state. Other processes cannot interleave: Oxigraph opens an on-disk store read-write in one
process only, the others open it read-only.

Over an external store (graph.store.external.remote_store) every write is refused with 501: the
check-then-commit
above needs one lock around a copy of the store and the commit, and neither exists there
(several instances share the store, there is no transaction across requests, and the copy
would fetch the whole graph over HTTP on each write). The external store's graph is written
by ``kg build --store URL``, which validates the project locally and then switches staged
graphs in one update.

The whole resulting graph is validated for now. The scalable path, validating only the focus
nodes the change touches and their neighbourhood, plugs in at :func:`validate_result`.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from rdflib import Graph

from graph.answering import queries
from graph.answering.curated import curated_graphs, graphs_with_triples, refuse_curated_removal
from graph.answering.update_dataset import with_protocol_dataset
from graph.core import settings
from graph.core.errors import (
    BadRequest,
    NotFound,
    ShapeViolation,
    WritesNotSupported,
)
from graph.sources.files import discover, parse_sources
from graph.store import (
    Quad,
    QuerySyntaxError,
    RdfFormat,
    Store,
    UpdateFailed,
    copy_to_memory,
    graph_exists,
    run_update,
    serialize_quads,
    sparql_data_block,
)
from graph.validation.report import Locator, Report, to_rdflib, validate_graph

#: Serializes the writers of this process (see the module docstring).
WRITE_LOCK = threading.RLock()

#: Where HTTP writes wait for their turn, in the request thread, before their time limit
#: starts (graph.http.endpoint, graph.http.graph_store): a write queued behind others is not a
#: runaway.
WRITE_QUEUE = threading.Lock()


@dataclass(frozen=True)
class Shapes:
    """The SHACL shapes and the ontology a write is checked against, as rdflib graphs.

    Also the graphs a write may not remove (graph.answering.curated): those the project's files
    provide,
    unless ``allow_curated_removal``.
    """

    shapes: Graph
    ontology: Graph
    curated: frozenset[str] = frozenset()
    allow_curated_removal: bool = False


@lru_cache(maxsize=4)
def load_shapes(project_dir: str, base: str) -> Shapes:
    """Parse the project's shapes/ and ontology/ files once per process (IRIs moved to ``base``).

    :raises graph.store.RdfSyntaxError: if a file does not parse.
    """
    files = [f for f in discover(Path(project_dir)) if f.role in ("shapes", "ontology")]
    parsed = parse_sources(files, base)
    return Shapes(
        shapes=to_rdflib(p for p in parsed if p.source.role == "shapes"),
        ontology=to_rdflib(p for p in parsed if p.source.role == "ontology"),
        curated=curated_graphs(project_dir, base),
    )


def default_shapes() -> Shapes:
    """The shapes of the project the settings name (the HTTP layer passes its app's own)."""
    values = settings.resolve()
    shapes = load_shapes(str(values["project_dir"]), str(values["base_iri"]))
    return dataclasses.replace(shapes, allow_curated_removal=bool(values["allow_curated_removal"]))


def checked_update(
    store: Store,
    update: str,
    *,
    using: Sequence[str] = (),
    using_named: Sequence[str] = (),
    shapes: Shapes | None = None,
) -> None:
    """Run a SPARQL update if its result conforms to the shapes; otherwise change nothing.

    ``using`` and ``using_named`` are the protocol's ``using-graph-uri`` and
    ``using-named-graph-uri`` values; they act as USING and USING NAMED clauses.

    :raises BadRequest: for a syntax error (with line:column), an operation that fails, or
        protocol dataset parameters together with USING/WITH in the text.
    :raises ShapeViolation: if the result would break a shape; the body is the SHACL report.
    """
    _refuse_external(store)
    text = with_protocol_dataset(update, using, using_named)
    with WRITE_LOCK:
        _check_and_commit(store, text, shapes or default_shapes())


def replace_graph(
    store: Store, graph: str | None, quads: Sequence[Quad], *, shapes: Shapes | None = None
) -> bool:
    """Replace the content of ``graph`` (None: the default graph) with ``quads``.

    Returns True if the graph did not exist before (it was created).
    """
    _refuse_external(store)
    target = _graph_ref(graph)
    with WRITE_LOCK:
        created = not graph_exists(store, graph)
        steps = [queries.CLEAR_GRAPH.format(graph=target)]
        if graph is not None:
            steps.insert(0, queries.CREATE_GRAPH.format(graph=f"<{graph}>"))
        steps.append(queries.INSERT_DATA.format(data=sparql_data_block(quads)))
        _check_and_commit(store, " ;\n".join(steps), shapes or default_shapes())
    return created


def add_to_graph(
    store: Store, graph: str | None, quads: Sequence[Quad], *, shapes: Shapes | None = None
) -> bool:
    """Merge ``quads`` into ``graph`` (None: the default graph), creating it if needed.

    Returns True if the graph did not exist before (it was created).
    """
    _refuse_external(store)
    with WRITE_LOCK:
        created = not graph_exists(store, graph)
        steps = [queries.INSERT_DATA.format(data=sparql_data_block(quads))]
        if graph is not None:
            steps.insert(0, queries.CREATE_GRAPH.format(graph=f"<{graph}>"))
        _check_and_commit(store, " ;\n".join(steps), shapes or default_shapes())
    return created


def delete_graph(store: Store, graph: str | None, *, shapes: Shapes | None = None) -> None:
    """Remove ``graph``; for the default graph (None), remove its content.

    :raises NotFound: if the named graph does not exist.
    """
    _refuse_external(store)
    with WRITE_LOCK:
        if not graph_exists(store, graph):
            raise NotFound(f"there is no graph <{graph}> in the store")
        text = queries.DROP_GRAPH.format(graph=_graph_ref(graph))
        _check_and_commit(store, text, shapes or default_shapes())


def _refuse_external(store: object) -> None:
    """Refuse a write to an external store (see the module docstring for why)."""
    if not isinstance(store, Store):
        raise WritesNotSupported(
            "writes through this server are not supported on an external SPARQL store: a"
            " write is shape-checked and committed under one lock, which instances sharing the"
            " store cannot hold; publish changes with `kg build --store URL` instead"
        )


def _graph_ref(graph: str | None) -> str:
    return "DEFAULT" if graph is None else f"GRAPH <{graph}>"


def _check_and_commit(store: Store, text: str, shapes: Shapes) -> None:
    """Run ``text`` on a copy, validate the copy, then run it on ``store``. Hold WRITE_LOCK."""
    scratch = copy_to_memory(store)
    _run(scratch, text)
    refuse_curated_removal(
        graphs_with_triples(store),
        graphs_with_triples(scratch),
        shapes.curated,
        allowed=shapes.allow_curated_removal,
    )
    report = validate_result(scratch, shapes)
    if not report.conforms:
        raise violation_error(report)
    _run(store, text)


def _run(store: Store, text: str) -> None:
    try:
        run_update(store, text)
    except QuerySyntaxError as error:
        raise BadRequest(str(error)) from None
    except UpdateFailed as error:
        raise BadRequest(f"the update cannot be applied: {error}") from None


def validate_result(result: Store, shapes: Shapes) -> Report:
    """Validate every triple of ``result`` (all graphs merged, as queries see them)."""
    data = Graph()
    data.parse(data=serialize_quads(result, RdfFormat.N_TRIPLES), format="nt")
    return validate_graph(data, shapes.shapes, shapes.ontology, Locator([]))


def violation_error(report: Report) -> ShapeViolation:
    """A 422 error carrying the report; the HTTP layer renders it in the format asked for."""
    return ShapeViolation(f"the write would break the shapes:\n{report.to_text()}", report=report)
