"""The store: embedded Oxigraph or an external SPARQL store behind one interface; the only
package that imports pyoxigraph.

A store on disk is published as a symbolic link (``var/store``) to a generation directory
(``var/store.gen/<id>``). A build writes a new generation and swaps the link with one atomic
rename, so a failed or killed build never touches the graph that is being served.

Imports only graph.core.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pyoxigraph import (
    BlankNode,
    DefaultGraph,
    Literal,
    NamedNode,
    Quad,
    QueryBoolean,
    QueryResultsFormat,
    QuerySolutions,
    QueryTriples,
    RdfFormat,
    Store,
    Triple,
    Variable,
)

from graph.core.errors import StoreUnavailable
from graph.store.change import Change
from graph.store.default_graph import (
    has_own_triples,
    is_materialized,
    maintain_change,
    materialize,
)
from graph.store.evaluation import evaluating, network_denied
from graph.store.external.remote_store import RemoteStore
from graph.store.generations import discard_generation, new_generation, publish_generation
from graph.store.handles import (
    apply_change,
    bulk_load_file,
    copy_to_memory,
    dump_dataset,
    dump_nquads,
    finish_generation,
    graph_content,
    graph_exists,
    is_remote,
    load_dataset_file,
    load_generation,
    memory_store,
    open_generation,
    stream_dump,
)
from graph.store.rdfio import (
    MAX_JSON_NESTING,
    RdfSyntaxError,
    Term,
    check_iri,
    check_json_nesting,
    dataset_format,
    named_node,
    nquads,
    ntriples,
    parse_bytes,
    parse_file,
    rdf_format_for,
    rdf_format_of,
    rdf_format_of_extension,
    read_nquads,
    serialize_quads,
    serialize_triples,
    sparql_data_block,
    sparql_term,
)
from graph.store.results import (
    TooManyResults,
    quads_from_solutions,
    serialize_limited,
    serialize_results,
    solutions_from_bytes,
    triples_from_bytes,
)
from graph.store.scratch import on_scratch_copy
from graph.store.sparql import (
    MAX_QUERY_NESTING,
    QueryResult,
    QuerySyntaxError,
    UpdateFailed,
    check_nesting,
    check_query_text,
    run_over_dataset,
    run_query,
    run_update,
    select_rows,
)

__all__ = [
    "MAX_JSON_NESTING",
    "MAX_QUERY_NESTING",
    "BlankNode",
    "Change",
    "DefaultGraph",
    "Literal",
    "NamedNode",
    "Quad",
    "QueryBoolean",
    "QueryResult",
    "QueryResultsFormat",
    "QuerySolutions",
    "QuerySyntaxError",
    "QueryTriples",
    "RdfFormat",
    "RdfSyntaxError",
    "Store",
    "Term",
    "TooManyResults",
    "Triple",
    "UpdateFailed",
    "Variable",
    "apply_change",
    "bulk_load_file",
    "check_iri",
    "check_json_nesting",
    "check_nesting",
    "check_query_text",
    "copy_to_memory",
    "dataset_format",
    "discard_generation",
    "dump_dataset",
    "dump_nquads",
    "evaluating",
    "finish_generation",
    "graph_content",
    "graph_exists",
    "has_own_triples",
    "is_materialized",
    "is_remote",
    "load_dataset_file",
    "load_generation",
    "maintain_change",
    "materialize",
    "memory_store",
    "named_node",
    "network_denied",
    "new_generation",
    "nquads",
    "ntriples",
    "on_scratch_copy",
    "open_generation",
    "open_store",
    "parse_bytes",
    "parse_file",
    "publish_generation",
    "quads_from_solutions",
    "rdf_format_for",
    "rdf_format_of",
    "rdf_format_of_extension",
    "read_nquads",
    "run_over_dataset",
    "run_query",
    "run_update",
    "select_rows",
    "serialize_limited",
    "serialize_quads",
    "serialize_results",
    "serialize_triples",
    "solutions_from_bytes",
    "sparql_data_block",
    "sparql_term",
    "stream_dump",
    "triples_from_bytes",
]


def open_store(
    location: str | Path, *, read_only: bool = False, options: Mapping[str, Any] | None = None
) -> Store | RemoteStore:
    """Open the store published at ``location``: a path, or the URL of an external SPARQL store.

    ``options`` are the resolved settings a remote store reads (kind, endpoints, credentials).

    :raises FileNotFoundError: if nothing has been built at a local ``location``, it is not
        a store, or it was built before the default graph held the set of all triples (issue
        17) and cannot be brought up to date (opened read-only).
    :raises StoreUnavailable: if the engine cannot open it (another process writes it, say).
    """
    if is_remote(location):
        return RemoteStore.from_settings(str(location), options, read_only=read_only)
    path = Path(location)
    if not path.exists():
        raise FileNotFoundError(f"no store at {path}: run `kg build --store {path}` first")
    real = path.resolve()
    if not (real / "CURRENT").is_file():
        raise FileNotFoundError(f"{path} is not an Oxigraph store (it has no CURRENT file)")
    try:
        store = Store.read_only(str(real)) if read_only else Store(str(real))
    except OSError as error:  # RocksDB's: locked by another writer, unreadable files ...
        raise StoreUnavailable(f"the store cannot be opened: {error}") from None
    if not is_materialized(store):
        if read_only:
            raise FileNotFoundError(
                f"the store at {path} was built before its default graph held every triple"
                f" once (issue 17): run `kg build --store {path}` again"
            )
        materialize(store)
    return store
