"""The ontology as a reference page, in the spirit of pyLODE and Widoco (issue 14): classes
and properties apart, each with its definition, super-terms, domains and ranges, and the SHACL
constraints of the shapes that apply to it; read by SPARQL from the ontology's and the shapes'
named graphs (the shapes, which the build does not load, parsed from the project's shapes/
files once per process), so an external store serves it too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from graph.answering import labels, queries
from graph.core.links import compact, link_target, prefixes
from graph.core.namespaces import OWL, RDF, RDFS, SKOS, graph_iri
from graph.sources.files import discover, parse_sources
from graph.store import Literal, NamedNode, QuerySolutions, Store, memory_store, run_query

PROPERTY_KINDS = {
    OWL + "ObjectProperty": "object",
    OWL + "DatatypeProperty": "datatype",
    OWL + "AnnotationProperty": "annotation",
    RDF + "Property": "property",
}
CLASS_KINDS = (OWL + "Class", RDFS + "Class")


@dataclass(frozen=True)
class Ref:
    """A term as the page links it: label, compact name, link (its anchor when it is ours)."""

    iri: str
    label: str
    name: str
    href: str | None


@dataclass(frozen=True)
class Constraint:
    """One property shape of a node shape, readable: path, cardinality, what values must be."""

    shape: Ref
    target: Ref
    path: Ref
    cardinality: str
    values: str
    message: str


@dataclass
class Term:
    """A class or a property of the ontology and what the page says of it."""

    ref: Ref
    kind: str
    anchor: str
    definitions: list[str] = field(default_factory=list)
    alt_labels: list[str] = field(default_factory=list)
    parents: list[Ref] = field(default_factory=list)
    children: list[Ref] = field(default_factory=list)
    domains: list[Ref] = field(default_factory=list)
    ranges: list[Ref] = field(default_factory=list)
    in_domain_of: list[Ref] = field(default_factory=list)
    in_range_of: list[Ref] = field(default_factory=list)
    inverse: list[Ref] = field(default_factory=list)
    constraints: list[Constraint] = field(default_factory=list)


@dataclass
class Vocabulary:
    """The ontology page: its header, its classes and its properties, apart."""

    iri: str
    title: str
    header: dict[str, list[str]]
    classes: list[Term]
    properties: list[Term]


def anchor(iri: str) -> str:
    """The fragment of a term IRI (``/ontology#Country`` -> ``Country``), else its last segment.

    >>> anchor("https://w3id.org/alliance-graph/ontology#MemberState")
    'MemberState'
    """
    return iri.rpartition("#")[2] if "#" in iri else iri.rstrip("/").rpartition("/")[2]


@lru_cache(maxsize=4)
def shapes_store(project_dir: str, base: str) -> Store:
    """The project's shapes/ files in an in-memory store, in their named graph (parsed once).

    :raises graph.store.RdfSyntaxError: if a file does not parse.
    """
    files = [f for f in discover(Path(project_dir)) if f.role == "shapes"]
    return memory_store(q for parsed in parse_sources(files, base) for q in parsed.quads)


class Reader:
    """Reads the ontology and the shapes out of a store whose IRIs live under ``base``."""

    def __init__(self, store: Store, base: str, languages: Sequence[str]) -> None:
        self.store, self.base, self.languages = store, base, tuple(languages)
        self.bindings = {
            "ontologyGraph": NamedNode(graph_iri("ontology", base)),
            "shapesGraph": NamedNode(graph_iri("shapes", base)),
        }
        self.named: dict[str, str] = {}

    def rows(self, text: str, store: Store | None = None) -> list[Any]:
        """The rows of one of the ontology queries (on ``store``, by default the graph's)."""
        wanted = {k: v for k, v in self.bindings.items() if f"?{k}" in text}
        result = run_query(store or self.store, text, bindings=wanted, prefixes=prefixes(self.base))
        assert isinstance(result, QuerySolutions)
        return list(result)

    def ref(self, iri: str) -> Ref:
        """A link to a term: its anchor on this page when the ontology declares it."""
        name = compact(iri, self.base)
        href = link_target(iri, self.base)
        return Ref(iri, self.named.get(iri) or name, name, href)


def read_vocabulary(
    store: Store,
    base: str,
    shapes: Store,
    languages: Sequence[str] = labels.DEFAULT_LANGUAGES,
) -> Vocabulary:
    """The ontology page's content (see :class:`Vocabulary`); ``shapes`` holds the shapes."""
    reader = Reader(store, base, languages)
    kinds = [(row["term"].value, row["kind"].value) for row in reader.rows(queries.ONTOLOGY_TERMS)]
    facts = reader.rows(queries.ONTOLOGY_FACTS)
    constraints = reader.rows(queries.SHAPE_CONSTRAINTS, shapes)
    mentioned = [iri for iri, _ in kinds]
    mentioned += [row["value"].value for row in facts if isinstance(row["value"], NamedNode)]
    for row in constraints:
        mentioned += [row[n].value for n in ("target", "path", "class") if row[n]]
    reader.named = labels.best_labels(store, mentioned, base, languages)
    terms: dict[str, Term] = {}
    for iri, kind in kinds:
        is_class = kind in CLASS_KINDS
        existing = terms.get(iri)
        if existing is None or (not is_class and existing.kind == "class"):
            terms[iri] = Term(
                reader.ref(iri), "class" if is_class else PROPERTY_KINDS[kind], anchor(iri)
            )
    _add_facts(reader, terms, facts)
    for row in constraints:
        constraint = _constraint(reader, row)
        for iri in (constraint.target.iri, constraint.path.iri):
            if iri in terms:
                terms[iri].constraints.append(constraint)
    header = _header(reader)
    iri = base + "ontology"
    title = (header.get("title") or header.get("label") or ["Ontology"])[0]
    by_label = sorted(terms.values(), key=lambda t: t.ref.label.lower())
    return Vocabulary(
        iri,
        title,
        header,
        [t for t in by_label if t.kind == "class"],
        [t for t in by_label if t.kind != "class"],
    )


def _add_facts(reader: Reader, terms: dict[str, Term], facts: list[Any]) -> None:
    for row in facts:
        term, prop, value = terms.get(row["term"].value), row["property"].value, row["value"]
        if term is None:
            continue
        if isinstance(value, Literal):
            if prop in (RDFS + "comment", SKOS + "definition"):
                term.definitions.append(value.value)
            elif prop == SKOS + "altLabel":
                term.alt_labels.append(value.value)
            continue
        other = reader.ref(value.value)
        if prop in (RDFS + "subClassOf", RDFS + "subPropertyOf"):
            term.parents.append(other)
            if value.value in terms:
                terms[value.value].children.append(term.ref)
        elif prop == RDFS + "domain":
            term.domains.append(other)
            if value.value in terms:
                terms[value.value].in_domain_of.append(term.ref)
        elif prop == RDFS + "range":
            term.ranges.append(other)
            if value.value in terms:
                terms[value.value].in_range_of.append(term.ref)
        elif prop == OWL + "inverseOf":
            term.inverse.append(other)
    for term in terms.values():
        for refs in (term.parents, term.children, term.domains, term.ranges):
            refs.sort(key=lambda r: r.label.lower())
        term.in_domain_of.sort(key=lambda r: r.label.lower())
        term.in_range_of.sort(key=lambda r: r.label.lower())


def _constraint(reader: Reader, row: Any) -> Constraint:
    def text(name: str) -> str:
        return row[name].value if row[name] is not None else ""

    low, high = text("min") or "0", text("max") or "*"
    values = []
    if row["datatype"] is not None:
        values.append(compact(text("datatype"), reader.base))
    if row["class"] is not None:
        values.append("a " + reader.ref(text("class")).label)
    if text("alternatives"):
        values.append(
            "a " + " or a ".join(reader.ref(c).label for c in sorted(text("alternatives").split()))
        )
    if row["nodeKind"] is not None and not values:
        values.append(compact(text("nodeKind"), reader.base).replace("sh:", ""))
    if text("pattern"):
        values.append(f"matching {text('pattern')}")
    shape = text("shape")
    return Constraint(
        Ref(shape, anchor(shape), anchor(shape), None),
        reader.ref(text("target")),
        reader.ref(text("path")),
        f"{low}..{high}",
        ", ".join(values),
        text("message"),
    )


def _header(reader: Reader) -> dict[str, list[str]]:
    names = {
        "http://purl.org/dc/terms/title": "title",
        "http://purl.org/dc/terms/description": "description",
        OWL + "versionInfo": "version",
        "http://purl.org/dc/terms/license": "licence",
        RDFS + "label": "label",
        RDFS + "comment": "comment",
    }
    out: dict[str, list[str]] = {}
    for row in reader.rows(queries.ONTOLOGY_HEADER):
        out.setdefault(names[row["property"].value], []).append(row["value"].value)
    return out
