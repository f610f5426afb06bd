"""Run work over a visitor's query (``/explore``, ``/export``) under the endpoint's rules.

A CONSTRUCT given to the explorer or an export is as much a visitor's query as one sent to
/sparql, so it gets the same guards: its length is limited (graph.answering.stack), SERVICE
targets off the allow-list are refused before Oxigraph sees the text (Oxigraph would fetch
them), and the check and the evaluation stop at query_timeout on a thread with stack enough for
any query allowed (with the worker retired, as for /sparql: pyoxigraph cannot cancel an
evaluation).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import current_app, request

from graph.answering import deadline
from graph.answering import stack as stacks
from graph.answering.admission import Admission, query_key
from graph.answering.guard import check_remote_targets
from graph.core.links import prefixes
from graph.http.context import time_limit
from graph.store import evaluating

T = TypeVar("T")


def run_visitor_query(query: str | None, work: Callable[[], T]) -> T:
    """Check ``query`` against the SERVICE allow-list, then run ``work`` under the time limit.

    ``work`` evaluates the query (on a helper thread, so it must not need the app context).

    :raises graph.core.errors.BadRequest: for a query over max_query_bytes (graph.answering.stack).
    :raises graph.core.errors.Forbidden: for a SERVICE target off the allow-list.
    :raises graph.core.errors.QueryTimeout: when the evaluation overruns query_timeout.
    :raises graph.core.errors.TooManyQueries: when the client has too many long queries running.
    :raises graph.core.errors.EvaluationFailed: when the engine fails to evaluate the query
        (graph.store.evaluation).
    :raises graph.core.errors.StoreUnavailable: when the store fails it (graph.store.evaluation).
    """
    config = current_app.config
    allowlist = config["SERVICE_ALLOWLIST"]
    declared = prefixes(str(config["BASE_IRI"]))
    size = stacks.check_query_size(query or "", int(config["MAX_QUERY_BYTES"]))

    def checked() -> T:
        # The check is part of the work, so it runs under the same time limit (issue 11).
        if query:
            # The prefixes and (no) base the explorer and exports evaluate with.
            check_remote_targets(query, allowlist, update=False, prefixes=declared)
        # The work reads the engine's lazy answers itself; the visitor's query decides whose
        # fault an engine error is (graph.store.evaluation).
        with evaluating(text=query or ""):
            return work()

    seconds, retire = time_limit(current_app)
    # Long evaluations at idle priority, counted per client, as on /sparql
    # (graph.answering.admission).
    admission: Admission = current_app.extensions["kg.admission"]
    client = request.remote_addr or ""
    admission.admit(client)
    stack, budget = stacks.stack_for(size), int(config["QUERY_MEMORY_MB"]) << 20 if retire else 0
    return deadline.with_deadline(
        lambda: admission.run(client, checked, key=query_key(query) if query else None),
        seconds,
        stack=stack,
        retire=retire,
        budget=budget,
    )
