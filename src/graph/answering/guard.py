"""Refuse SERVICE and LOAD targets off the allow-list before Oxigraph evaluates anything.

Oxigraph fetches SERVICE endpoints (https://www.w3.org/TR/sparql11-federated-query/) and LOAD
sources (https://www.w3.org/TR/sparql11-update/#load) unconditionally, so the check happens
before evaluation, inside the query's time limit (the callers run it as part of the work they
hand to graph.answering.deadline).

Where the process cannot open network sockets at all (graph.answering.sandbox: a server worker
with an empty allow-list and a local store) there is nothing to decide and nothing is read.
Elsewhere (a non-empty allow-list, ``kg query``, an app built in tests):

* a query's SERVICE targets are those of the engine's own plan of the text, with the caller's
  prefixes and base (graph.answering.engine_plan): no regex and no second parser decides what
  the engine will call (issue 11, item 2); each target is then matched as a parsed URL
  (graph.answering.allowlist);
* an update that could hold SERVICE or LOAD is refused: Oxigraph offers no plan of an update,
  and an upload (Graph Store Protocol) does what LOAD would without the server fetching.

A query in which the engine cannot read the keyword is not planned: see
:func:`graph.core.sparql_text.may_call_service`.
docs/security.md ("No outbound connection") has the threat model and the tests.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence

from graph.answering import engine_plan, sandbox
from graph.answering import stack as stacks
from graph.answering.allowlist import NotAllowedUrl, allowed
from graph.core.errors import BadRequest, Forbidden
from graph.core.sparql_text import may_call_service

log = logging.getLogger("kg")

#: SPARQL's code point escapes (https://www.w3.org/TR/sparql11-query/#codepointEscape).
_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")

#: Seconds a plan may take when the caller gives no limit of its own; the callers run the check
#: under the query's time limit anyway (graph.answering.deadline).
PLAN_SECONDS = 10.0


def mentions_remote(text: str) -> bool:
    """True when the letters of SERVICE or LOAD occur anywhere in ``text`` (any case), also
    after decoding code point escapes any number of times: a superset of the texts where
    either is a keyword, found without reading SPARQL.

    >>> mentions_remote('SELECT * WHERE { ?s ?p ?o }')
    False
    >>> mentions_remote('SELECT * WHERE { ?s ?p "\\\\u005Cu0053ERVICE" }')
    True
    """
    while True:
        lowered = text.lower()
        if "service" in lowered or "load" in lowered:
            return True
        decoded = _ESCAPE.sub(_decode, text)
        if decoded == text:
            return False
        text = decoded


def _decode(match: re.Match[str]) -> str:
    code = int(match[1] or match[2], 16)
    return chr(code) if code < 0x110000 else ""


def check_remote_targets(
    text: str,
    allowlist: Sequence[str],
    *,
    update: bool,
    prefixes: Mapping[str, str] | None = None,
    base_iri: str | None = None,
) -> None:
    """Refuse ``text`` if it names a SERVICE or LOAD target outside ``allowlist``.

    ``prefixes`` and ``base_iri`` must be those the text is evaluated with: the plan is the
    engine's reading of exactly that (a prefix missing here makes the check refuse, never
    pass).

    :raises Forbidden: naming the offending IRI (or variable), or saying the text could not be
        checked.
    :raises BadRequest: for a query the engine cannot parse, with the place in ``text``.
    """
    if not allowlist and sandbox.active():
        return  # this process cannot reach the network: graph.answering.sandbox
    if update:
        if mentions_remote(text):
            raise Forbidden(
                "this server has a service allow-list, so an update may not use SERVICE or"
                " LOAD, nor mention those words even in a literal (send data with the Graph"
                " Store Protocol instead)"
            )
        return
    if not may_call_service(text):
        return
    for target in query_targets(text, prefixes=prefixes, base_iri=base_iri):
        if target.startswith(("?", "$")):
            raise Forbidden(f"SERVICE with a variable endpoint ({target}) is not allowed")
        try:
            ok = allowed(target, allowlist)
        except NotAllowedUrl as error:
            raise Forbidden(f"SERVICE of <{target}> is not allowed: {error}") from None
        if not ok:
            raise Forbidden(
                f"SERVICE of <{target}> is not allowed: it is not on this server's service"
                " allow-list"
            )


def query_targets(
    text: str, *, prefixes: Mapping[str, str] | None = None, base_iri: str | None = None
) -> list[str]:
    """Every SERVICE target of the query ``text`` in the engine's plan: IRIs, or ``?name``.

    :raises Forbidden: when no plan could be read (so the text cannot be checked).
    :raises BadRequest: for a query the engine cannot parse.
    """
    try:
        return engine_plan.service_targets(
            text,
            prefixes=prefixes,
            base_iri=base_iri,
            seconds=PLAN_SECONDS,
            stack=stacks.stack_for(stacks.query_bytes(text)),
        )
    except engine_plan.SyntaxProblem as error:
        raise BadRequest(str(error), position=(error.line, error.column)) from None
    except UnicodeEncodeError:
        raise BadRequest("the query is not valid UTF-8 text") from None
    except (engine_plan.PlanFailed, engine_plan.EngineUnavailable) as error:
        log.warning("a query's SERVICE targets could not be read: %s", error)
        raise Forbidden(
            f"the query uses SERVICE and could not be checked against the allow-list: {error}"
        ) from None

