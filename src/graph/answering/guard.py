"""Refuse SERVICE and LOAD targets off the allow-list before Oxigraph evaluates anything.

Oxigraph fetches SERVICE endpoints (https://www.w3.org/TR/sparql11-federated-query/) and LOAD
sources (https://www.w3.org/TR/sparql11-update/#load) unconditionally, so the check happens
before evaluation. A cheap lexical pass (comments, strings and IRIs removed) finds whether the
keywords occur at all; only then is the text parsed with rdflib to find every target, wherever
it is nested. Text that cannot be parsed is refused rather than guessed about.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any

from graph.core.errors import Forbidden
from graph.core.sparql_text import NOISE

_KEYWORDS = re.compile(r"\b(?:SERVICE|LOAD)\b", re.IGNORECASE)


def mentions_remote(text: str) -> bool:
    """True when SERVICE or LOAD occurs outside strings, IRIs and comments.

    >>> mentions_remote('SELECT * WHERE { ?s ?p "SERVICE" } # LOAD')
    False
    >>> mentions_remote('SELECT * WHERE { SERVICE <http://x/> { ?s ?p ?o } }')
    True
    """
    lowered = text.lower()
    if "service" not in lowered and "load" not in lowered:
        return False  # the usual case, decided without the lexical pass
    return _KEYWORDS.search(NOISE.sub(" ", text)) is not None


def check_remote_targets(text: str, allowlist: Sequence[str], *, update: bool) -> None:
    """Refuse ``text`` if it names a SERVICE or LOAD target outside ``allowlist``.

    :raises Forbidden: naming the offending IRI (or variable), or saying the text could not be
        checked.
    """
    if not mentions_remote(text):
        return
    for target in remote_targets(text, update=update):
        if target.startswith("?") or target.startswith("$"):
            raise Forbidden(f"SERVICE with a variable endpoint ({target}) is not allowed")
        if not any(target.startswith(prefix) for prefix in allowlist):
            raise Forbidden(
                f"SERVICE/LOAD of <{target}> is not allowed: it is not on this server's"
                " service allow-list"
            )


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
