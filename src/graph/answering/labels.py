"""One name for each node, the same on every page, picture, export and in the CLI (issue 14).

A node's best label is chosen among its literals by the reader's languages first (the request's
Accept-Language, then English, then untagged text, then any other language) and then by
property, in the order of :data:`LABEL_PROPERTIES`. A passage with no label of its own is named
by its document's title and its line. The candidates are read with one SPARQL query per
:data:`CHUNK` nodes, so an external store answers them as well as the embedded one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from graph.answering import queries
from graph.core.links import compact, prefixes
from graph.core.namespaces import DCTERMS, FOAF, RDFS, SCHEMA, SKOS
from graph.store import (
    Literal,
    NamedNode,
    QuerySolutions,
    Store,
    named_node,
    run_query,
    sparql_term,
)

if TYPE_CHECKING:
    from graph.store.external.remote_store import RemoteStore

#: The properties whose value names a node, best first.
LABEL_PROPERTIES: Final = (
    SKOS + "prefLabel",
    RDFS + "label",
    FOAF + "name",
    SCHEMA + "name",
    DCTERMS + "title",
    SKOS + "altLabel",
)
#: The languages a reader gets when they ask for none (and after the ones they ask for).
DEFAULT_LANGUAGES: Final = ("en",)
#: Nodes per query: the VALUES block stays a few tens of kilobytes.
CHUNK: Final = 400
_LINE = "ontology#lineNumber"


@dataclass(frozen=True)
class Candidate:
    """One literal that could name a node: its text, language and the property it came by."""

    text: str
    language: str
    property: str


def reader_languages(ranges: Iterable[str]) -> tuple[str, ...]:
    """The languages to prefer, from Accept-Language ranges (best first), English appended.

    A range with a region also stands for its language (RFC 4647 section 3.4, lookup):

    >>> reader_languages(["es-HN", "fr", "*"])
    ('es-hn', 'es', 'fr', 'en')
    >>> reader_languages([])
    ('en',)
    """
    out: list[str] = []
    for value in ranges:
        value = value.strip().lower()
        if not value or value == "*":
            continue
        out += [value, value.split("-")[0]]
    return tuple(dict.fromkeys([*out, *DEFAULT_LANGUAGES]))


def _language_rank(tag: str, languages: Sequence[str]) -> int:
    tag = tag.lower()
    for index, wanted in enumerate(languages):
        if tag == wanted or tag.startswith(wanted + "-"):
            return index
    return len(languages) + (0 if not tag else 1)


def best(
    candidates: Iterable[Candidate], languages: Sequence[str] = DEFAULT_LANGUAGES
) -> str | None:
    """The best of a node's candidate labels, or None when it has none.

    >>> best([Candidate("Gobierno", "es", SKOS + "prefLabel"),
    ...       Candidate("Government", "en", RDFS + "label")])
    'Government'
    >>> best([Candidate("Gobierno", "es", SKOS + "prefLabel"),
    ...       Candidate("Government", "en", RDFS + "label")], ("es", "en"))
    'Gobierno'
    >>> best([Candidate("Jose Isaias Barahona", "", FOAF + "name")])
    'Jose Isaias Barahona'
    """
    ranks = {prop: index for index, prop in enumerate(LABEL_PROPERTIES)}

    def key(candidate: Candidate) -> tuple[int, int, str]:
        prop = ranks.get(candidate.property, len(ranks))
        return (_language_rank(candidate.language, languages), prop, candidate.text)

    chosen = min(candidates, key=key, default=None)
    return chosen.text if chosen else None


def best_labels(
    store: Store | RemoteStore,
    iris: Iterable[str],
    base: str,
    languages: Sequence[str] = DEFAULT_LANGUAGES,
) -> dict[str, str]:
    """The best label of each of ``iris`` that has one (see the module's docstring)."""
    found: dict[str, list[Candidate]] = {}
    for rows in _chunked(store, queries.LABEL_CANDIDATES, iris, base):
        for row in rows:
            label, prop = row["label"], row["property"].value
            assert isinstance(label, Literal)
            text = label.value
            if prop.endswith(_LINE):
                text = f"{text}, line {row['line'].value}"
            found.setdefault(row["node"].value, []).append(
                Candidate(text, label.language or "", prop)
            )
    chosen = {iri: best(options, languages) for iri, options in found.items()}
    return {iri: text for iri, text in chosen.items() if text is not None}


def label_or_name(labels: dict[str, str], iri: str, base: str) -> str:
    """The label found for ``iri``, else its compact name (``id:place/x``).

    >>> label_or_name({}, "https://w3id.org/alliance-graph/id/place/x", "https://w3id.org/alliance-graph/")
    'id:place/x'
    """
    return labels.get(iri) or compact(iri, base)


def node_classes(
    store: Store | RemoteStore, iris: Iterable[str], base: str
) -> dict[str, list[str]]:
    """The classes (IRIs, sorted) of each of ``iris`` that has any."""
    found: dict[str, set[str]] = {}
    for rows in _chunked(store, queries.NODE_CLASSES, iris, base):
        for row in rows:
            found.setdefault(row["node"].value, set()).add(row["class"].value)
    return {iri: sorted(classes) for iri, classes in found.items()}


def main_class(classes: Sequence[str], base: str) -> str | None:
    """The one class a picture colours a node by: the project's own first, else the first.

    >>> main_class(["http://xmlns.com/foaf/0.1/Person"], "https://w3id.org/alliance-graph/")
    'http://xmlns.com/foaf/0.1/Person'
    >>> main_class([], "https://w3id.org/alliance-graph/")
    """
    ours = sorted(c for c in classes if c.startswith(prefixes(base)["ag"]))
    candidates = ours or sorted(classes)
    return candidates[0] if candidates else None


def _chunked(
    store: Store | RemoteStore, template: str, iris: Iterable[str], base: str
) -> Iterable[QuerySolutions]:
    """Run ``template`` over the IRIs :data:`CHUNK` at a time (IRIs that are not valid skipped)."""
    # An id that is not an IRI (a blank node's, a broken IRI) has no label here.
    nodes = (named_node(iri) for iri in dict.fromkeys(iris))
    terms = [sparql_term(node) for node in nodes if node is not None]
    names = prefixes(base)
    properties = " ".join(sparql_term(NamedNode(p)) for p in LABEL_PROPERTIES)
    for start in range(0, len(terms), CHUNK):
        text = template.format(nodes=" ".join(terms[start : start + CHUNK]), properties=properties)
        result = run_query(store, text, prefixes=names)
        assert isinstance(result, QuerySolutions)
        yield result
