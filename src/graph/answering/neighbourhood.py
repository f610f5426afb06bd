"""What links to a resource and what it links to, as cytoscape.js elements, for the picture on
its page and for the explorer, which grows a drawing one neighbourhood at a time (issue 14).

Only data is drawn: the ontology's and the shapes' graphs are left out, types colour the nodes
instead of being nodes, and passages (the provenance of every fact) only when asked for or when
the resource is one. Nodes carry their best label and main class (graph.answering.labels).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from graph.answering import labels, queries
from graph.core.links import compact, link_target, prefixes
from graph.core.namespaces import graph_iri
from graph.store import Literal, NamedNode, QuerySolutions, Store, Term, run_query

#: The most neighbours one picture or one expansion draws (the explorer opens under 40 nodes).
MAX_NEIGHBOURS: Final = 30


@dataclass
class Neighbourhood:
    """A resource and its neighbours as cytoscape.js elements; ``more`` when some were left out."""

    focus: str
    elements: list[dict[str, Any]] = field(default_factory=list)
    more: bool = False

    def as_json(self) -> dict[str, Any]:
        """The JSON the explorer reads."""
        return {"focus": self.focus, "elements": self.elements, "more": self.more}


def neighbourhood(
    store: Store,
    iri: str,
    base: str,
    languages: Sequence[str] = labels.DEFAULT_LANGUAGES,
    *,
    passages: bool = False,
    limit: int = MAX_NEIGHBOURS,
) -> Neighbourhood:
    """The elements around ``iri``: at most ``limit`` neighbours, with the links to them."""
    bindings: dict[str, Term] = {
        "focus": NamedNode(iri),
        "passages": Literal("true" if passages else "false", datatype=_BOOLEAN),
        "ontologyGraph": NamedNode(graph_iri("ontology", base)),
        "shapesGraph": NamedNode(graph_iri("shapes", base)),
    }
    rows = run_query(store, queries.NEIGHBOURS, bindings=bindings, prefixes=prefixes(base))
    assert isinstance(rows, QuerySolutions)
    links: list[tuple[str, str, str]] = []
    neighbours: list[str] = []
    more = False
    for row in rows:
        other, prop = row["other"].value, row["property"].value
        if other not in neighbours:
            if len(neighbours) == limit:
                more = True
                continue
            neighbours.append(other)
        outgoing = row["direction"].value == "out"
        links.append((iri, prop, other) if outgoing else (other, prop, iri))
    return Neighbourhood(iri, _elements(store, iri, neighbours, links, base, languages), more)


_BOOLEAN = NamedNode("http://www.w3.org/2001/XMLSchema#boolean")


def _elements(
    store: Store,
    focus: str,
    neighbours: list[str],
    links: list[tuple[str, str, str]],
    base: str,
    languages: Sequence[str],
) -> list[dict[str, Any]]:
    nodes = [focus, *neighbours]
    classes = labels.node_classes(store, nodes, base)
    main = {iri: labels.main_class(classes.get(iri, []), base) for iri in nodes}
    named = labels.best_labels(store, [*nodes, *(c for c in main.values() if c)], base, languages)
    out: list[dict[str, Any]] = []
    for iri in nodes:
        data: dict[str, Any] = {
            "id": iri,
            "iri": iri,
            "label": labels.label_or_name(named, iri, base),
            "href": link_target(iri, base),
        }
        if (cls := main[iri]) is not None:
            data["class"] = compact(cls, base)
            data["classLabel"] = named.get(cls) or compact(cls, base).rpartition(":")[2]
        if iri == focus:
            data["centre"] = True
        out.append({"data": data})
    for source, prop, target in links:
        out.append(
            {
                "data": {
                    "id": f"{source} {prop} {target}",
                    "source": source,
                    "target": target,
                    "label": compact(prop, base),
                }
            }
        )
    return out


def default_focus(store: Store, base: str) -> str | None:
    """Where the explorer starts when not told: an alliance, else a country, else anything."""
    rows = run_query(store, queries.DEFAULT_FOCUS, prefixes=prefixes(base))
    assert isinstance(rows, QuerySolutions)
    return next((row["resource"].value for row in rows), None)


def find_by_label(
    store: Store, text: str, base: str, languages: Sequence[str] = labels.DEFAULT_LANGUAGES
) -> list[dict[str, str]]:
    """Up to ten resources whose label holds ``text``: IRI, best label and link."""
    rows = run_query(
        store, queries.FIND_BY_LABEL, bindings={"text": Literal(text)}, prefixes=prefixes(base)
    )
    assert isinstance(rows, QuerySolutions)
    found = [row["resource"].value for row in rows]
    named = labels.best_labels(store, found, base, languages)
    return [
        {
            "iri": iri,
            "label": labels.label_or_name(named, iri, base),
            "href": link_target(iri, base) or "",
        }
        for iri in found
    ]
