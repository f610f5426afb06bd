"""What a resource page shows, gathered from the store: labels, types, statements with their
named graphs and source documents, inverse links, passages and external identifiers."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from graph.answering import labels, queries
from graph.core.links import compact, link_target, prefixes
from graph.core.namespaces import OWL, RDF, WIKIDATA
from graph.store import BlankNode, Literal, NamedNode, QuerySolutions, Store, named_node, run_query

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
        """The resource's best label (graph.answering.labels), else its compact IRI."""
        return self.resource.text


class Describer:
    """Reads descriptions of resources out of a store whose IRIs live under ``base``.

    Every IRI is named by its best label for ``languages`` (graph.answering.labels).
    """

    def __init__(
        self, store: Store, base: str, languages: Sequence[str] = labels.DEFAULT_LANGUAGES
    ) -> None:
        self.store = store
        self.base = base
        self.prefixes = prefixes(base)
        self.languages = tuple(languages)
        self.labels: dict[str, str] = {}

    def _select(self, text: str, resource: str) -> list[Any]:
        result = run_query(
            self.store, text, bindings={"resource": NamedNode(resource)}, prefixes=self.prefixes
        )
        assert isinstance(result, QuerySolutions)
        return list(result)

    def exists(self, iri: str) -> bool:
        """True when ``iri`` (a valid IRI) is the subject or object of any statement."""
        resource = named_node(iri)
        if resource is None:  # a space, a quote...: no statement can mention it
            return False
        return bool(run_query(self.store, queries.RESOURCE_EXISTS, bindings={"resource": resource}))

    def learn_labels(self, iris: Iterable[str]) -> None:
        """Look up the labels of ``iris`` (one query per few hundred) for :meth:`node`."""
        wanted = [iri for iri in iris if iri not in self.labels]
        self.labels.update(labels.best_labels(self.store, wanted, self.base, self.languages))

    def node(self, term: object, *, named: bool = True) -> Node:
        """Turn an Oxigraph term into a page node; an IRI shows its label when ``named``."""
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
        text = self.labels.get(iri) if named else None
        return Node(iri, text or compact(iri, self.base), link_target(iri, self.base))

    def describe(self, iri: str) -> Description:
        """Gather the description of ``iri`` (which must exist)."""
        out = self._select(queries.RESOURCE_OUT, iri)
        inverse = self._select(queries.RESOURCE_IN, iri)
        passages = self._select(queries.RESOURCE_PASSAGES, iri)
        sources = self._select(queries.RESOURCE_GRAPH_SOURCES, iri)
        mentioned = [iri]
        mentioned += [row["value"].value for row in out if isinstance(row["value"], NamedNode)]
        mentioned += [row["subject"].value for row in inverse]
        mentioned += [
            row[name].value for row in passages for name in ("passage", "document") if row[name]
        ]
        mentioned += [row["document"].value for row in sources]
        self.learn_labels(mentioned)
        description = Description(self.node(NamedNode(iri)))
        documents: dict[str, Node] = {}
        for row in sources:
            documents.setdefault(row["graph"].value, self.node(row["document"]))
        for row in out:
            self._add_statement(description, row, documents)
        description.statements = merge_statements(description.statements)
        for row in inverse:
            description.inverse.append(
                (self.node(row["subject"]), self.node(row["property"], named=False))
            )
        for row in passages:
            document = row["document"]
            description.passages.append(
                (
                    self.node(row["passage"]),
                    row["line"].value if row["line"] is not None else "",
                    self.node(document) if document is not None else None,
                )
            )
        return description

    def _add_statement(self, description: Description, row: Any, sources: dict[str, Node]) -> None:
        prop, value, graph = row["property"], row["value"], row["graph"]
        node = self.node(value)
        if prop.value in labels.LABEL_PROPERTIES and isinstance(value, Literal):
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
            Statement(
                self.node(prop, named=False),
                node,
                self.node(graph, named=False),
                sources.get(graph.value),
            )
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
