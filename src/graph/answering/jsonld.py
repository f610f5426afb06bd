"""The published JSON-LD context and compaction of RDF with it (pyld, a JSON-LD 1.1 processor)."""

from __future__ import annotations

import json
from typing import Any

from pyld import jsonld

from graph.core.links import prefixes

#: Kinds of resources under ``{base}id/``; each gets a prefix in the context ("country:honduras").
KINDS = (
    "country",
    "organization",
    "person",
    "post",
    "membership",
    "commitment",
    "agreement",
    "grant",
    "amount",
    "programme",
    "project",
    "event",
    "place",
    "statistic",
    "source",
    "passage",
)


def document_prefixes(base: str) -> dict[str, str]:
    """Prefixes for documents about resources: the project's, with one per kind instead of id:.

    >>> document_prefixes("https://w3id.org/alliance-graph/")["place"]
    'https://w3id.org/alliance-graph/id/place/'
    """
    names = {name: iri for name, iri in prefixes(base).items() if name != "id"}
    names.update({kind: f"{base}id/{kind}/" for kind in KINDS})
    return names


def context(base: str) -> dict[str, Any]:
    """The JSON-LD context served at ``/context.jsonld``: the project's prefixes and the kinds.

    >>> context("https://w3id.org/alliance-graph/")["@context"]["country"]
    'https://w3id.org/alliance-graph/id/country/'
    """
    return {"@context": dict(document_prefixes(base))}


def compact_nquads(nquads: bytes, base: str, context_url: str) -> bytes:
    """Turn N-Quads (or N-Triples) into JSON-LD compacted with the context, which is referred
    to by ``context_url`` in the output rather than copied into it.
    """
    expanded = jsonld.from_rdf(nquads.decode("utf-8"), {"format": "application/n-quads"})
    compacted: dict[str, Any] = jsonld.compact(expanded, context(base))
    compacted["@context"] = context_url
    return json.dumps(compacted, ensure_ascii=False, indent=2).encode("utf-8")
