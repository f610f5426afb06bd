"""Run work over a visitor's query (``/explore``, ``/export``) under the endpoint's rules.

A CONSTRUCT given to the explorer or an export is as much a visitor's query as one sent to
/sparql, so it gets the same two guards: SERVICE targets off the allow-list are refused before
Oxigraph sees the text (Oxigraph would fetch them), and evaluation stops at query_timeout
(with the worker retired, as for /sparql: pyoxigraph cannot cancel an evaluation).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import current_app, request

from graph import evaluate
from graph.admission import Admission
from graph.endpoint import deadline
from graph.errors import BadRequest
from graph.guard import check_remote_targets

T = TypeVar("T")


def run_visitor_query(query: str | None, work: Callable[[], T]) -> T:
    """Check ``query`` against the SERVICE allow-list, then run ``work`` under the time limit.

    ``work`` evaluates the query (on a helper thread, so it must not need the app context).

    :raises graph.errors.Forbidden: for a SERVICE target off the allow-list.
    :raises graph.errors.QueryTimeout: when the evaluation overruns query_timeout.
    :raises graph.errors.TooManyQueries: when the client has too many long queries running.
    :raises BadRequest: when the evaluation fails (e.g. an allowed SERVICE does not answer).
    """
    config = current_app.config
    if query:
        check_remote_targets(query, config["SERVICE_ALLOWLIST"], update=False)
    seconds, retire = deadline(current_app)
    # Long evaluations at idle priority, counted per client, as on /sparql (graph.admission).
    admission: Admission = current_app.extensions["kg.admission"]
    client = request.remote_addr or ""
    admission.admit(client)

    try:
        return evaluate.with_deadline(
            lambda: admission.run(client, work), seconds, retire=retire
        )
    except OSError as error:  # Oxigraph reports evaluation failures (SERVICE, I/O) this way
        raise BadRequest(f"the query failed during evaluation: {error}") from None
