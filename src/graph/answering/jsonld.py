"""The published JSON-LD context and compaction of RDF with it (pyld, a JSON-LD 1.1 processor)."""

from __future__ import annotations

import json
from typing import Any

from pyld import jsonld

from graph.core.links import prefixes
from graph.store import RdfFormat, read_nquads, serialize_quads

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


#: The forms a JSON-LD document can take (JSON-LD 1.1, section 9.1: the ``profile`` parameter).
FORMS = ("compacted", "expanded", "flattened")

#: Most triples a Graph Store or CONSTRUCT answer is compacted or flattened for: pyld works in
#: Python, about 17 s for 10,000 triples here, so a larger answer keeps Oxigraph's expanded
#: form (the profile is a preference: JSON-LD 1.1, section 9.1). docs/security.md, issue 17.
RESHAPE_LIMIT = 1_000


def reshape_form(form: str | None, triples: int) -> str | None:
    """The form to rewrite Oxigraph's (expanded) JSON-LD into, or None to leave it.

    >>> reshape_form("compacted", 10), reshape_form("expanded", 10)
    ('compacted', None)
    >>> reshape_form("flattened", 10**6) is None
    True
    """
    return form if form in ("compacted", "flattened") and triples <= RESHAPE_LIMIT else None


def compact_nquads(
    nquads: bytes, base: str, context_url: str | None, form: str = "compacted"
) -> bytes:
    """Turn N-Quads (or N-Triples) into JSON-LD in ``form``: compacted (the default) or
    flattened with the context, which is referred to by ``context_url`` in the output rather
    than copied into it (None: copied), or expanded (no context at all).

    >>> nt = b'<https://w3id.org/alliance-graph/id/country/x> <http://e.org/p> "1" .'
    >>> print(compact_nquads(nt, "https://w3id.org/alliance-graph/", None, "expanded").decode())
    [
      {
        "@id": "https://w3id.org/alliance-graph/id/country/x",
        "http://e.org/p": [
          {
            "@value": "1"
          }
        ]
      }
    ]
    """
    if form not in FORMS:
        raise ValueError(f"unknown JSON-LD form {form!r}; one of {FORMS}")
    try:
        expanded = jsonld.from_rdf(nquads.decode("utf-8"), {"format": "application/n-quads"})
    except jsonld.JsonLdError:
        # pyld reads RDF 1.1 only: a directional language tag ("x"@en--ltr) or a triple term
        # stops it. Oxigraph writes the expanded form (or refuses a triple term, 406).
        return serialize_quads(read_nquads(nquads), RdfFormat.JSON_LD)
    document: Any = expanded
    if form == "compacted":
        document = jsonld.compact(expanded, context(base))
    elif form == "flattened":
        document = jsonld.flatten(expanded, context(base))
    if form != "expanded" and context_url is not None:
        document["@context"] = context_url
    return json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")
