"""Answer one SPARQL operation for an application: a query (cached, under the time limit, its
answer serialized in the format asked for) or an update (checked and committed).

Independent of Flask's request context: graph.http.endpoint reads the request and calls these.
"""

from __future__ import annotations

from flask import Flask

from graph.answering import deadline, writes
from graph.answering import stack as stacks
from graph.answering.admission import SUSPECT_LIMITS, Admission, query_key
from graph.answering.auth import require_write_access
from graph.answering.guard import check_remote_targets
from graph.answering.jsonld import compact_nquads, reshape_form
from graph.answering.result_cache import ResultCache
from graph.core.errors import ResultTooLarge
from graph.core.links import prefixes
from graph.http.context import external_store, store_of, store_version, time_limit, writable_of
from graph.http.negotiate import JSONLD, choose, jsonld_profile
from graph.http.protocol import Operation
from graph.store import (
    QueryResult,
    QueryTriples,
    TooManyResults,
    evaluating,
    serialize_limited,
    triples_from_bytes,
)
from graph.store import run_query as store_query

#: Formats offered for SELECT and ASK results, most preferred first.
RESULT_TYPES = (
    "application/sparql-results+json",
    "application/sparql-results+xml",
    "text/csv",
    "text/tab-separated-values",
)
#: Formats offered for CONSTRUCT and DESCRIBE results, most preferred first.
GRAPH_TYPES = (
    "text/turtle",
    "application/n-triples",
    "application/n-quads",
    "application/trig",
    "application/rdf+xml",
    "application/ld+json",
)

#: ``format`` values clients (e.g. SPARQLWrapper) send that mean an RDF format for graph results.
GRAPH_FORMAT_ALIASES = {
    "xml": "application/rdf+xml",
    "rdf+xml": "application/rdf+xml",
    "json": "application/ld+json",
    "n3": "text/turtle",
}


def init_app(app: Flask) -> None:
    """The per-process result cache (none over an external store, which can change without
    this process knowing) and the admission of long queries."""
    capacity = 0 if external_store(app) else int(app.config["RESULT_CACHE_MB"]) << 20
    app.extensions["kg.cache"] = ResultCache(capacity)
    timeout = float(app.config["QUERY_TIMEOUT"])
    app.extensions["kg.admission"] = Admission(
        client_limit=int(app.config["CLIENT_SLOW_QUERIES"]),
        retry_after=timeout,
        suspect_window=SUSPECT_LIMITS * timeout,
    )


def answer_query(
    app: Flask,
    operation: Operation,
    accept: str | None,
    format_param: str | None,
    *,
    client: str = "",
) -> tuple[bytes, str, bool]:
    """(body, media type, served from the cache) answering the query ``operation``.

    The evaluation runs on a helper thread under the time limit and memory budget
    (:func:`graph.answering.deadline.with_deadline`). ``client`` (its address) is what
    graph.answering.admission counts long queries by.

    :raises GraphError: for a refused, malformed, overrunning or oversized query.
    """
    config = app.config
    size = stacks.check_query_size(
        operation.text,
        int(config["MAX_QUERY_BYTES"]),
        operation.default_graphs + operation.named_graphs,
    )
    cache: ResultCache = app.extensions["kg.cache"]
    # Keyed on the store's version: an answer from before a write is never served after it.
    version = store_version(app).value
    key = (operation.text, operation.default_graphs, operation.named_graphs, accept, format_param)
    hit = cache.get(version, key) if cache.capacity else None
    if hit is not None:
        return hit[0], hit[1], True
    store, limit = store_of(app), int(config["MAX_RESULTS"])
    declared = declared_prefixes(app)
    base_iri = str(config["BASE_IRI"])
    allowlist = config["SERVICE_ALLOWLIST"]
    budget = int(config["QUERY_MEMORY_MB"]) << 20
    admission: Admission = app.extensions["kg.admission"]
    admission.admit(client)
    suspect = query_key(operation.text, operation.default_graphs, operation.named_graphs)

    def work() -> tuple[bytes, str]:
        return admission.run(client, _serialized, key=suspect)

    def _serialized() -> tuple[bytes, str]:
        # The check is part of the work, so it runs under the same time limit (issue 11).
        check_remote_targets(
            operation.text, allowlist, update=False, prefixes=declared, base_iri=base_iri
        )
        # pyoxigraph results must die on the thread that made them: never let an exception
        # carry this frame (and the result) to the request thread.
        result = _evaluate(store, operation, declared, base_iri)
        try:
            # The answer is evaluated as it is written: the client's text decides whose fault
            # an engine error is (graph.store.evaluation).
            with evaluating(text=operation.text):
                fmt = format_param
                offered: tuple[str, ...]
                if isinstance(result, QueryTriples):
                    offered = GRAPH_TYPES
                    fmt = GRAPH_FORMAT_ALIASES.get((fmt or "").lower(), fmt)
                else:
                    offered = RESULT_TYPES
                media_type = choose(accept, offered, fmt)
                form = jsonld_profile(accept) if media_type == JSONLD else None
                if form in ("compacted", "flattened"):  # Oxigraph writes the expanded form
                    triples = serialize_limited(result, "application/n-triples", limit)
                    form = reshape_form(form, triples.count(b"\n"))
                    if form is None:  # too large for pyld: Oxigraph's expanded form
                        expanded = triples_from_bytes(triples, "application/n-triples")
                        body = serialize_limited(expanded, media_type, limit)
                    else:
                        body = compact_nquads(triples, base_iri, None, form)
                else:
                    body = serialize_limited(result, media_type, limit)
                if budget and len(body) > budget:
                    raise ResultTooLarge(
                        f"the result is {len(body)} bytes, over the limit of {budget >> 20} MiB"
                        " (setting query_memory_mb); add a LIMIT or page with OFFSET"
                    )
                return body, media_type
        except TooManyResults as error:
            raise ResultTooLarge(
                f"the result has {error}, over the limit of {limit} (setting max_results);"
                " add a LIMIT or page with OFFSET"
            ) from None
        finally:
            del result

    seconds, retire = time_limit(app)
    stack, budget = stacks.stack_for(size), budget if retire else 0
    body, media_type = deadline.with_deadline(
        work, seconds, stack=stack, retire=retire, budget=budget
    )
    if cache.capacity:
        cache.put(version, key, body, media_type)
    return body, media_type, False


def declared_prefixes(app: Flask) -> dict[str, str]:
    """The project's prefixes, declared for every query that does not declare them itself (as
    Wikidata's query service does for wd:, wdt: ...); listed in the service description."""
    found: dict[str, str] | None = app.extensions.get("kg.prefixes")
    if found is None:
        found = app.extensions["kg.prefixes"] = prefixes(str(app.config["BASE_IRI"]))
    return found


def _evaluate(
    store: object, operation: Operation, declared: dict[str, str], base_iri: str
) -> QueryResult:
    return store_query(
        store,  # type: ignore[arg-type]
        operation.text,
        default_graphs=operation.default_graphs,
        named_graphs=operation.named_graphs,
        prefixes=declared,
        # Relative IRIs resolve against the published base, not the request's host: see
        # README "Serving: the SPARQL endpoint" (issue 17).
        base_iri=base_iri,
    )


def with_charset(media_type: str) -> str:
    """The Content-Type value for ``media_type``, naming UTF-8 for textual formats."""
    if media_type.startswith("text/") or media_type.endswith(("json", "xml")):
        return media_type + "; charset=utf-8"
    return media_type


def apply_update(app: Flask, operation: Operation, authorization: str | None) -> None:
    """Check and commit the update ``operation``, sent with the ``Authorization`` header value
    ``authorization``, under the time limit.

    :raises GraphError: writes off, a wrong token, a malformed, refused or overrunning update.
    """
    config = app.config
    require_write_access(config["WRITE_TOKEN"], authorization)
    allowlist = config["SERVICE_ALLOWLIST"]
    dataset = operation.default_graphs + operation.named_graphs
    stack = stacks.stack_for(
        stacks.check_query_size(operation.text, config["MAX_QUERY_BYTES"], dataset)
    )
    # Looked up here: work() runs on a helper thread.
    target = writable_of(app)

    def work() -> None:
        # The check is part of the work, so it runs under the same time limit (issue 11).
        check_remote_targets(operation.text, allowlist, update=True)
        writes.checked_update(
            target,
            operation.text,
            using=operation.default_graphs,
            using_named=operation.named_graphs,
        )

    seconds, retire = time_limit(app)
    budget = int(config["QUERY_MEMORY_MB"]) << 20 if retire else 0
    with writes.WRITE_QUEUE:
        deadline.with_deadline(work, seconds, stack=stack, retire=retire, budget=budget)
