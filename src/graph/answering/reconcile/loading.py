"""The names, types and classes of a store, read through SPARQL into a :class:`Catalogue`.

Only SPARQL queries read the store, so an external store (graph.store.external) is indexed
the same way as the embedded one. A catalogue is built once per version of the store
(graph.answering.store_version); over an external store, which changes without this process
knowing, it is built again once it is older than ``max_age`` seconds.
"""

from __future__ import annotations

import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from graph.answering import queries
from graph.answering.reconcile.index import Entity, NameIndex
from graph.answering.store_version import StoreVersion
from graph.core.links import prefixes
from graph.core.namespaces import AG, DCTERMS, FOAF, OWL, RDF, RDFS, SH, SKOS, rebase
from graph.store import QuerySolutions, Store, run_query
from graph.store.external.remote_store import RemoteStore

#: The label properties, the one a display name is taken from first.
_NAME_ORDER = ("skos:prefLabel", "foaf:name", "dcterms:title", "rdfs:label", "skos:altLabel")
#: Types of the vocabulary itself (classes, properties, shapes): not things to reconcile to.
_SCHEMA_NAMESPACES = (OWL, RDFS, RDF, SH)


@dataclass(frozen=True)
class TypeInfo:
    """A class: its IRI, English name and direct superclasses."""

    iri: str
    name: str
    broader: tuple[str, ...] = ()


@dataclass
class Catalogue:
    """What reconciliation and search know of one version of the store."""

    index: NameIndex
    numbers: dict[str, int]
    classes: dict[str, TypeInfo]
    #: Entity numbers per class, an instance of a subclass counted under its superclasses.
    members: dict[str, frozenset[int]]
    types: NameIndex
    base: str

    def entity(self, iri: str) -> Entity | None:
        """The entity named ``iri``, if the graph names it."""
        number = self.numbers.get(iri)
        return None if number is None else self.index.entities[number]

    def type_name(self, iri: str) -> str:
        """The English name of class ``iri`` (its local name if it has none)."""
        known = self.classes.get(iri)
        return known.name if known else _local_name(iri)


def load(store: Store | RemoteStore, base: str) -> Catalogue:
    """Read every name, type and class of ``store`` (published under ``base``)."""
    names = _name_order(base)
    labels: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for row in _rows(store, queries.RECONCILE_LABELS, base):
        value = row["label"]
        rank = names.get(row["property"].value, len(names))
        language = getattr(value, "language", None)
        rank = rank * 2 + (0 if language in (None, "en") else 1)
        labels[row["entity"].value].append((rank, value.value))
    direct: dict[str, list[str]] = defaultdict(list)
    for row in _rows(store, queries.RECONCILE_TYPES, base):
        entity = row["entity"].value
        if entity in labels:
            direct[entity].append(sys.intern(row["type"].value))
    classes = _classes(store, base)
    closure = _closure(classes)
    named: list[tuple[Entity, list[str]]] = []
    # Entities share a few combinations of types: each combination's figures computed once.
    kinds: dict[tuple[str, ...], tuple[frozenset[str], str] | None] = {}
    for iri, found in labels.items():
        types = tuple(sorted(set(direct.get(iri, ()))))
        if types not in kinds:
            kinds[types] = _kind(types, classes, closure)
        kind = kinds[types]
        if kind is None:
            continue
        found.sort()
        entity = Entity(iri, found[0][1], types, kind[1], kind[0])
        named.append((entity, [text for _, text in found]))
    index = NameIndex(named)
    return _catalogue(index, classes, base)


def _kind(
    types: tuple[str, ...], classes: dict[str, TypeInfo], closure: dict[str, set[str]]
) -> tuple[frozenset[str], str] | None:
    """The types with their superclasses and the description of an entity with ``types``;
    None for terms of the vocabulary itself (classes, properties, shapes)."""
    if types and all(t.startswith(_SCHEMA_NAMESPACES) for t in types):
        return None
    every = frozenset(t for direct in types for t in closure.get(direct, {direct}))
    return every, ", ".join(sorted({_class_name(classes, t) for t in types}))


def _catalogue(index: NameIndex, classes: dict[str, TypeInfo], base: str) -> Catalogue:
    members: dict[str, set[int]] = defaultdict(set)
    for number, entity in enumerate(index.entities):
        for type_iri in entity.all_types:
            members[type_iri].add(number)
    used = {iri: classes.get(iri, TypeInfo(iri, _local_name(iri))) for iri in members}
    types = NameIndex(
        (Entity(info.iri, info.name, ()), [info.name, _local_name(info.iri)])
        for info in used.values()
    )
    return Catalogue(
        index,
        {entity.iri: number for number, entity in enumerate(index.entities)},
        used,
        {iri: frozenset(numbers) for iri, numbers in members.items()},
        types,
        base,
    )


def _classes(store: Store | RemoteStore, base: str) -> dict[str, TypeInfo]:
    broader: dict[str, set[str]] = defaultdict(set)
    names: dict[str, str] = {}
    for row in _rows(store, queries.RECONCILE_CLASSES, base):
        iri = row["class"].value
        broader.setdefault(iri, set())
        if row["super"] is not None:
            broader[iri].add(row["super"].value)
        if row["label"] is not None:
            names.setdefault(iri, row["label"].value)
    return {
        iri: TypeInfo(iri, names.get(iri, _local_name(iri)), tuple(sorted(supers)))
        for iri, supers in broader.items()
    }


def _closure(classes: dict[str, TypeInfo]) -> dict[str, set[str]]:
    """Each class with all its superclasses (itself included); cycles are harmless."""
    closure: dict[str, set[str]] = {}
    for start in classes:
        seen = {start}
        todo = [start]
        while todo:
            for parent in classes[todo.pop()].broader:
                if parent not in seen:
                    seen.add(parent)
                    if parent in classes:
                        todo.append(parent)
        closure[start] = seen
    return closure


def _class_name(classes: dict[str, TypeInfo], iri: str) -> str:
    known = classes.get(iri)
    return known.name if known else _local_name(iri)


def _local_name(iri: str) -> str:
    """The last segment of an IRI.

    >>> _local_name("https://w3id.org/alliance-graph/ontology#Country")
    'Country'
    """
    return iri.rstrip("/#").rsplit("#", 1)[-1].rsplit("/", 1)[-1]


def _name_order(base: str) -> dict[str, int]:
    spelled = {
        "skos:prefLabel": SKOS + "prefLabel",
        "foaf:name": FOAF + "name",
        "dcterms:title": DCTERMS + "title",
        "rdfs:label": RDFS + "label",
        "skos:altLabel": SKOS + "altLabel",
    }
    order = {spelled[name]: rank for rank, name in enumerate(_NAME_ORDER)}
    order[rebase(AG + "acronym", base)] = len(order)
    return order


def _rows(store: Store | RemoteStore, text: str, base: str) -> Iterable[Any]:
    result = run_query(store, text, prefixes=prefixes(base))
    assert isinstance(result, QuerySolutions)
    return result


class CatalogueCache:
    """The catalogue of the current version of a store, built on first use after each write.

    ``max_age`` (seconds) rebuilds it after that long whatever the version says: an external
    store changes without the version knowing.
    """

    def __init__(self, version: StoreVersion, *, max_age: float | None = None) -> None:
        self._version = version
        self._max_age = max_age
        self._lock = threading.Lock()
        self._built: tuple[int, float, Catalogue] | None = None

    def get(self, build: Callable[[], Catalogue]) -> Catalogue:
        """The catalogue for the current version, built by ``build`` if stale or missing."""
        version = self._version.value
        with self._lock:
            if self._built is not None and self._fresh(version):
                return self._built[2]
            catalogue = build()
            self._built = (version, time.monotonic(), catalogue)
            return catalogue

    def _fresh(self, version: int) -> bool:
        assert self._built is not None
        built_version, built_at, _ = self._built
        if built_version != version:
            return False
        return self._max_age is None or time.monotonic() - built_at < self._max_age
