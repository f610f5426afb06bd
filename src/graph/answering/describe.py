"""What a resource page shows, gathered from the store: labels, types, statements with their
named graphs and source documents, inverse links, passages and external identifiers."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from graph.answering import queries
from graph.core.links import compact, link_target, prefixes
from graph.core.namespaces import OWL, RDF, RDFS, SKOS, WIKIDATA
from graph.store import BlankNode, Literal, NamedNode, QuerySolutions, Store, run_query

LABEL_PROPERTIES = (SKOS + "prefLabel", RDFS + "label")
ISO_CODE_PROPERTIES = ("iso3166Alpha2", "iso3166Alpha3")
#: The ISO Online Browsing Platform page of a country code.
ISO_OBP = "https://www.iso.org/obp/ui/#iso:code:3166:"


@dataclass(frozen=True)
class Node:
    """An RDF term as a page shows it: text, link (local path or external IRI), language."""

    value: str
    text: str
    href: str | None = None
    kind: str = "iri"
    language: str = ""
    datatype: str = ""


@dataclass(frozen=True)
class Statement:
    """One value of a property, with the named graph and source document it comes from, and
    the other sources that state it too (one row per value, not per graph: issue 17)."""

    property: Node
    value: Node
    graph: Node
    source: Node | None
    also: tuple[Node, ...] = ()


@dataclass
class Description:
    """Everything a resource page shows about one IRI."""

    resource: Node
    labels: list[tuple[str, str]] = field(default_factory=list)
    types: list[Node] = field(default_factory=list)
    statements: list[Statement] = field(default_factory=list)
    inverse: list[tuple[Node, Node]] = field(default_factory=list)
    passages: list[tuple[Node, str, Node | None]] = field(default_factory=list)
    external: list[Node] = field(default_factory=list)

    @property
    def title(self) -> str:
        """The English label, else any label, else the IRI."""
        for language, text in self.labels:
            if language.startswith("en"):
                return text
        return self.labels[0][1] if self.labels else self.resource.text


class Describer:
    """Reads descriptions of resources out of a store whose IRIs live under ``base``."""

    def __init__(self, store: Store, base: str) -> None:
        self.store = store
        self.base = base
        self.prefixes = prefixes(base)

    def _select(self, text: str, resource: str) -> QuerySolutions:
        result = run_query(
            self.store, text, bindings={"resource": NamedNode(resource)}, prefixes=self.prefixes
        )
        assert isinstance(result, QuerySolutions)
        return result

    def exists(self, iri: str) -> bool:
        """True when ``iri`` (a valid IRI) is the subject or object of any statement."""
        try:
            resource = NamedNode(iri)
        except ValueError:  # a space, a quote...: no statement can mention it
            return False
        return bool(run_query(self.store, queries.RESOURCE_EXISTS, bindings={"resource": resource}))

    def node(self, term: object, label: object = None) -> Node:
        """Turn an Oxigraph term (and an optional label term) into a page node."""
        if isinstance(term, Literal):
            return Node(
                term.value,
                term.value,
                None,
                "literal",
                term.language or "",
                "" if term.language else compact(term.datatype.value, self.base),
            )
        if isinstance(term, BlankNode):
            return Node(term.value, f"_:{term.value}", None, "bnode")
        assert isinstance(term, NamedNode)
        iri = term.value
        text = label.value if isinstance(label, Literal) else compact(iri, self.base)
        return Node(iri, text, link_target(iri, self.base))

    def describe(self, iri: str) -> Description:
        """Gather the description of ``iri`` (which must exist)."""
        description = Description(self.node(NamedNode(iri)))
        sources = self._graph_sources(iri)
        for row in self._select(queries.RESOURCE_OUT, iri):
            self._add_statement(description, row, sources)
        description.statements = merge_statements(description.statements)
        for row in self._select(queries.RESOURCE_IN, iri):
            description.inverse.append(
                (self.node(row["subject"], row["subjectLabel"]), self.node(row["property"]))
            )
        for row in self._select(queries.RESOURCE_PASSAGES, iri):
            document = row["document"]
            description.passages.append(
                (
                    self.node(row["passage"]),
                    row["line"].value if row["line"] is not None else "",
                    self.node(document, row["title"]) if document is not None else None,
                )
            )
        return description

    def _graph_sources(self, iri: str) -> dict[str, Node]:
        found: dict[str, Node] = {}
        for row in self._select(queries.RESOURCE_GRAPH_SOURCES, iri):
            found.setdefault(row["graph"].value, self.node(row["document"], row["title"]))
        return found

    def _add_statement(
        self, description: Description, row: object, sources: dict[str, Node]
    ) -> None:
        prop, value, graph = row["property"], row["value"], row["graph"]  # type: ignore[index]
        node = self.node(value, row["valueLabel"])  # type: ignore[index]
        if prop.value in LABEL_PROPERTIES and isinstance(value, Literal):
            label = (value.language or "", value.value)
            if label not in description.labels:
                description.labels.append(label)
        if prop.value == RDF + "type" and node not in description.types:
            description.types.append(node)
        external = None
        if prop.value == OWL + "sameAs" and value.value.startswith(WIKIDATA):
            external = Node(value.value, "Wikidata " + value.value.rsplit("/")[-1], value.value)
        if prop.value.endswith(ISO_CODE_PROPERTIES) and isinstance(value, Literal):
            external = Node(value.value, "ISO 3166-1 " + value.value, ISO_OBP + value.value)
        if external is not None and external not in description.external:
            description.external.append(external)
        description.statements.append(
            Statement(self.node(prop), node, self.node(graph), sources.get(graph.value))
        )


def merge_statements(statements: list[Statement]) -> list[Statement]:
    """One statement per property and value, the sources of the others kept in ``also``."""
    merged: dict[tuple[Node, Node], Statement] = {}
    for statement in statements:
        key = (statement.property, statement.value)
        first = merged.get(key)
        if first is None:
            merged[key] = statement
            continue
        source = statement.source or statement.graph
        if source != (first.source or first.graph) and source not in first.also:
            merged[key] = Statement(
                first.property, first.value, first.graph, first.source, (*first.also, source)
            )
    return list(merged.values())


def group_statements(statements: list[Statement]) -> dict[Node, list[Statement]]:
    """Statements grouped by property, in the order they came."""
    grouped: dict[Node, list[Statement]] = defaultdict(list)
    for statement in statements:
        grouped[statement.property].append(statement)
    return dict(grouped)
