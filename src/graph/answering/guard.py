"""Refuse SERVICE and LOAD targets off the allow-list before Oxigraph evaluates anything.

Oxigraph fetches SERVICE endpoints (https://www.w3.org/TR/sparql11-federated-query/) and LOAD
sources (https://www.w3.org/TR/sparql11-update/#load) unconditionally, so the check happens
before evaluation, inside the query's time limit (the callers run it as part of the work they
hand to graph.answering.deadline).

Where the process cannot open network sockets at all (graph.answering.sandbox: a server worker with
an
empty allow-list and a local store) there is nothing to decide and nothing is parsed: that
guarantee does not depend on reading SPARQL. Elsewhere (a non-empty allow-list, ``kg query``,
an app built in tests) the text is parsed with rdflib to find every target; that check trusts
rdflib to read the text as Oxigraph does, with the known differences closed (comments end at
a carriage return too, see :func:`remote_targets`), text that rdflib cannot parse refused, and
targets matched as parsed URLs (graph.answering.allowlist). docs/security.md says what remains.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Sequence
from typing import Any

from graph.answering import sandbox
from graph.answering.allowlist import NotAllowedUrl, allowed
from graph.core.errors import BadRequest, Forbidden

log = logging.getLogger("kg")

#: SPARQL's code point escapes (https://www.w3.org/TR/sparql11-query/#codepointEscape).
_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")


def mentions_remote(text: str) -> bool:
    """True when the letters of SERVICE or LOAD occur anywhere in ``text`` (any case, escapes
    decoded): a superset of the texts where either is a keyword, found without reading SPARQL.

    >>> mentions_remote('SELECT * WHERE { ?s ?p ?o }')
    False
    >>> mentions_remote('SELECT * WHERE { ?s ?p "\\\\u0053ERVICE" }')
    True
    """
    lowered = text.lower()
    if "service" in lowered or "load" in lowered:
        return True
    if "\\u" not in lowered:
        return False
    lowered = _ESCAPE.sub(_decode, text).lower()
    return "service" in lowered or "load" in lowered


def _decode(match: re.Match[str]) -> str:
    code = int(match[1] or match[2], 16)
    return chr(code) if code < 0x110000 else ""


def check_remote_targets(text: str, allowlist: Sequence[str], *, update: bool) -> None:
    """Refuse ``text`` if it names a SERVICE or LOAD target outside ``allowlist``.

    :raises Forbidden: naming the offending IRI (or variable), or saying the text could not be
        checked.
    """
    if not allowlist and sandbox.active():
        return  # this process cannot reach the network: graph.answering.sandbox
    if not mentions_remote(text):
        return
    for target in remote_targets(text, update=update):
        if target.startswith("?") or target.startswith("$"):
            raise Forbidden(f"SERVICE with a variable endpoint ({target}) is not allowed")
        try:
            ok = allowed(target, allowlist)
        except NotAllowedUrl as error:
            raise Forbidden(f"SERVICE/LOAD of <{target}> is not allowed: {error}") from None
        if not ok:
            raise Forbidden(
                f"SERVICE/LOAD of <{target}> is not allowed: it is not on this server's"
                " service allow-list"
            )


def evaluation_failed(error: OSError | RuntimeError, *, what: str = "query") -> BadRequest:
    """The 400 for an evaluation that Oxigraph ended with ``error``; the error goes to the log.

    Oxigraph's text is not sent: for a SERVICE or LOAD it tells whether the target refused the
    connection, timed out or answered, with what status and body, which turns the endpoint into
    a port scanner and a proxy to read internal services (issue 11, item 2).
    """
    log.warning("a %s failed during evaluation: %s", what, error)
    if sandbox.active():
        cause = "SERVICE and LOAD cannot reach the network on this server"
    else:
        cause = "a SERVICE or LOAD target did not answer usably, or the store could not be read"
    return BadRequest(f"the {what} failed during evaluation ({cause})")


def remote_targets(text: str, *, update: bool) -> list[str]:
    """Every SERVICE and LOAD target in ``text``: IRIs, or ``?name`` for a variable.

    >>> remote_targets('PREFIX e: <http://e/> SELECT * { OPTIONAL { SERVICE e:x {} } }',
    ...                update=False)
    ['http://e/x']

    :raises Forbidden: if the text cannot be parsed (so it cannot be checked).
    """
    # Imported here: rdflib's SPARQL grammar takes a while to build and is rarely needed.
    from rdflib.plugins.sparql.parser import parseQuery, parseUpdate
    from rdflib.term import Variable

    # Oxigraph ends a comment at a carriage return as well as a line feed; rdflib only at a line
    # feed. A carriage return is only allowed elsewhere inside long strings, whose structure
    # does not change when it becomes a line feed.
    text = text.replace("\r", "\n")
    try:
        tree: Any = parseUpdate(text) if update else parseQuery(text)
    except Exception as error:
        raise Forbidden(
            f"the request uses SERVICE or LOAD and could not be checked against the allow-list:"
            f" {error}"
        ) from None
    prefixes = dict(_prefixes(tree))
    targets: list[str] = []
    for node in _walk(tree):
        name = getattr(node, "name", None)
        if name == "ServiceGraphPattern":
            term = node.get("term")
        elif name == "Load":
            term = node.get("iri")
        else:
            continue
        if isinstance(term, Variable):
            targets.append(f"?{term}")
        else:
            targets.append(_resolve(term, prefixes))
    return targets


def _walk(node: Any) -> Iterator[Any]:
    yield node
    if isinstance(node, dict):
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list | tuple) or type(node).__name__ == "ParseResults":
        for item in node:
            yield from _walk(item)


def _prefixes(tree: Any) -> Iterator[tuple[str, str]]:
    for node in _walk(tree):
        if getattr(node, "name", None) == "PrefixDecl":
            yield str(node.get("prefix") or ""), str(node.get("iri"))


def _resolve(term: Any, prefixes: dict[str, str]) -> str:
    if getattr(term, "name", None) == "pname":
        prefix = str(term.get("prefix") or "")
        return prefixes.get(prefix, prefix + ":") + str(term.get("localname") or "")
    return str(term)
