"""The Reconciliation Service API v0.2 answered without HTTP: queries, suggest, extension.

Entity ids are IRIs without the identifier space (``{base}id/``), as Wikidata's are ("Q42"
under ``http://www.wikidata.org/entity/``): ``country/honduras``. Type ids are full IRIs.
https://www.w3.org/community/reports/reconciliation/CG-FINAL-specs-0.2-20230410/
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from rapidfuzz import fuzz

from graph.answering.reconcile import extension
from graph.answering.reconcile.index import Candidate, Entity, decide
from graph.answering.reconcile.loading import Catalogue
from graph.answering.reconcile.names import fold
from graph.store import Store
from graph.store.external.remote_store import RemoteStore

#: Types offered first to a client (OpenRefine's "reconcile against type"), when present.
DEFAULT_TYPES = (
    "ag:Country",
    "org:Organization",
    "foaf:Person",
    "ag:Alliance",
    "ag:Initiative",
    "org:Post",
    "ag:Event",
    "skos:Concept",
)
#: A property value at least this similar (0-100) to the one asked for counts as the same.
VALUE_MATCH = 85.0


@dataclass(frozen=True)
class Service:
    """One version of the graph as the reconciliation service sees it."""

    catalogue: Catalogue
    store: Store | RemoteStore

    @property
    def space(self) -> str:
        """The identifier space: entity ids are IRIs without it."""
        return self.catalogue.base + "id/"

    def entity_id(self, entity: Entity) -> str:
        """The id of ``entity`` in this service (its IRI without the identifier space)."""
        return entity.iri.removeprefix(self.space)

    def find(self, entity_id: str) -> Entity | None:
        """The entity an id (or a full IRI) names, if any."""
        iri = entity_id if entity_id.startswith(("http://", "https://")) else self.space + entity_id
        return self.catalogue.entity(iri)

    def accepted(self, types: Sequence[str], strict: str) -> frozenset[int] | None:
        """The entities a query's ``type`` allows (None: all), after ``type_strict``."""
        if not types or strict == "should":
            return None
        sets = [self.catalogue.members.get(self.type_iri(t) or "", frozenset()) for t in types]
        if len(sets) == 1:
            return sets[0]  # shared, not copied: a class may have most of the graph's entities
        if strict == "all":
            return frozenset.intersection(*sets)
        return frozenset().union(*sets)

    def type_iri(self, name: str) -> str | None:
        """The class a type id names: a full IRI, a prefixed name, or a class's local name."""
        iri = extension.expand(name, self.catalogue.base)
        if iri is not None:
            return iri
        wanted = name.casefold()
        for known in self.catalogue.classes:
            if known.rsplit("#", 1)[-1].rsplit("/", 1)[-1].casefold() == wanted:
                return known
        return None

    def reconcile(self, queries: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """The candidates of each query of a batch (checked by reconcile.requests.batch)."""
        found: dict[str, list[Candidate]] = {}
        for key, query in queries.items():
            types = query.get("type", [])
            types = [types] if isinstance(types, str) else types
            strict = query.get("type_strict", "any")
            accept = self.accepted(types, strict)
            if query.get("query", "").strip():
                more = 3 * query["limit"] if query.get("properties") or types else query["limit"]
                found[key] = self.catalogue.index.search(query["query"], accept=accept, limit=more)
            else:
                found[key] = []  # found by their properties below, for the whole batch
            if strict == "should" and types:
                found[key] = self._prefer(found[key], types)
        self._by_properties(queries, found)
        self._weigh_properties(queries, found)
        return {
            key: {"result": [self.candidate(c) for c in found[key][: queries[key]["limit"]]]}
            for key in queries
        }

    def _prefer(self, found: list[Candidate], types: list[str]) -> list[Candidate]:
        """``type_strict: should``: other types kept, at nine tenths of their score."""
        preferred = self.accepted(types, "any") or frozenset()
        numbers = self.catalogue.numbers
        weighed = [
            c if numbers[c.entity.iri] in preferred else replace(c, score=round(c.score * 0.9, 1))
            for c in found
        ]
        return decide(sorted(weighed, key=lambda c: (-c.score, c.entity.name)))

    def _by_properties(
        self, queries: dict[str, dict[str, Any]], found: dict[str, list[Candidate]]
    ) -> None:
        """Candidates for the queries without a name: the entities holding their first
        constraint's value, one SPARQL query per property for the whole batch."""
        by_pid: dict[str, dict[str, list[Any]]] = {}
        for key, query in queries.items():
            # The schema allows a blank name with no constraint: nothing to look for.
            if not query.get("query", "").strip() and query.get("properties"):
                first = query["properties"][0]
                given = first["v"] if isinstance(first["v"], list) else [first["v"]]
                by_pid.setdefault(first["pid"], {})[key] = given
        for pid, wanted in by_pid.items():
            prop = extension.resolve(pid, self.catalogue.base)
            held = extension.holders(self.store, self.catalogue, prop, wanted) if prop else {}
            for key in wanted:
                types = queries[key].get("type", [])
                types = [types] if isinstance(types, str) else types
                accept = self.accepted(types, queries[key].get("type_strict", "any"))
                numbers = [self.catalogue.numbers.get(iri) for iri in held.get(key, [])]
                found[key] = [
                    Candidate(self.catalogue.index.entities[n], 0.0, "")
                    for n in dict.fromkeys(numbers)
                    if n is not None and (accept is None or n in accept)
                ]

    def _weigh_properties(
        self, queries: dict[str, dict[str, Any]], found: dict[str, list[Candidate]]
    ) -> None:
        """Score the candidates of queries with ``properties`` against their values, one SPARQL
        query per property for the whole batch."""
        wanted: dict[str, set[str]] = {}
        for key, query in queries.items():
            for constraint in query.get("properties", []):
                wanted.setdefault(constraint["pid"], set()).update(c.entity.iri for c in found[key])
        held: dict[str, dict[str, list[extension.Value]]] = {}
        for pid, iris in wanted.items():
            prop = extension.resolve(pid, self.catalogue.base)
            held[pid] = (
                extension.values(self.store, self.catalogue, sorted(iris), prop) if prop else {}
            )
        # Names given as values, matched once per batch: name -> {entity IRI: score}.
        names: dict[str, dict[str, float]] = {}
        for key, query in queries.items():
            constraints = query.get("properties", [])
            if constraints:
                named = bool(query.get("query", "").strip())
                found[key] = decide(
                    sorted(
                        (self._weigh(c, constraints, held, named, names) for c in found[key]),
                        key=lambda c: (-c.score, c.entity.name),
                    )
                )

    def _weigh(
        self,
        candidate: Candidate,
        constraints: list[dict[str, Any]],
        held: dict[str, dict[str, list[extension.Value]]],
        named: bool,
        names: dict[str, dict[str, float]],
    ) -> Candidate:
        scores = []
        for constraint in constraints:
            given = constraint["v"] if isinstance(constraint["v"], list) else [constraint["v"]]
            have = held[constraint["pid"]].get(candidate.entity.iri, [])
            similar = (self._similar(g, h, names) for g in given for h in have)
            scores.append(max(similar, default=0.0))
        parts = [candidate.score, *scores] if named else scores
        return replace(candidate, score=round(sum(parts) / len(parts), 1))

    def _similar(
        self, given: Any, held: extension.Value, names: dict[str, dict[str, float]]
    ) -> float:
        """How like a value held (0-100) a value asked for is: a string, number or ``{"id"}``."""
        if isinstance(given, dict):
            wanted = self.find(str(given.get("id", "")))
            return 100.0 if wanted is not None and self.find(held.get("id", "")) == wanted else 0.0
        text = str(given).lower() if isinstance(given, bool) else str(given)
        if "id" in held:
            entity = self.find(held["id"])
            if entity is None:
                return 0.0
            if text not in names:
                found = self.catalogue.index.search(text, limit=5)
                names[text] = {c.entity.iri: c.score for c in found}
            return names[text].get(entity.iri, 0.0)
        score = float(fuzz.ratio(fold(text), fold(str(next(iter(held.values()))))))
        return score if score >= VALUE_MATCH else 0.0

    def candidate(self, found: Candidate) -> dict[str, Any]:
        """A candidate as the specification writes it."""
        entity = found.entity
        written: dict[str, Any] = {
            "id": self.entity_id(entity),
            "name": entity.name,
            "type": [{"id": t, "name": self.catalogue.type_name(t)} for t in entity.types],
            "score": found.score,
            "match": found.match,
        }
        if entity.description:
            written["description"] = entity.description
        return written

    def search(self, text: str, type_name: str | None, limit: int) -> list[Candidate]:
        """Entities for a search box: ranked as reconciliation ranks them, then (for a name
        still being typed) those with a word starting as the last word does."""
        accept = self.accepted([type_name], "any") if type_name else None
        found = self.catalogue.index.search(text, accept=accept, limit=limit)
        seen = {candidate.entity.iri for candidate in found}
        for candidate in self.catalogue.index.prefixed(text, accept=accept, limit=limit):
            if len(found) >= limit:
                break
            if candidate.entity.iri not in seen:
                found.append(replace(candidate, score=0.0))
                seen.add(candidate.entity.iri)
        return found

    def suggest_entities(self, prefix: str, type_name: str | None, limit: int) -> dict[str, Any]:
        """Entities whose name starts with ``prefix`` (or has a word that does)."""
        accept = self.accepted([type_name], "any") if type_name else None
        found = self.catalogue.index.prefixed(prefix, accept=accept, limit=limit)
        return {"result": [self._suggested(c.entity) for c in found]}

    def _suggested(self, entity: Entity) -> dict[str, Any]:
        suggested: dict[str, Any] = {
            "id": self.entity_id(entity),
            "name": entity.name,
            "notable": [{"id": t, "name": self.catalogue.type_name(t)} for t in entity.types],
        }
        if entity.description:
            suggested["description"] = entity.description
        return suggested

    def suggest_types(self, prefix: str, limit: int) -> dict[str, Any]:
        """Classes whose name starts with ``prefix``."""
        found = self.catalogue.types.prefixed(prefix, limit=limit)
        return {"result": [{"id": c.entity.iri, "name": c.entity.name} for c in found]}

    def suggest_properties(self, prefix: str, limit: int) -> dict[str, Any]:
        """Properties (of data extension) whose id or name starts with ``prefix``."""
        folded = fold(prefix)
        found = [
            prop
            for prop in extension.PROPERTIES
            if fold(prop.name).startswith(folded)
            or fold(prop.id).startswith(folded)
            or any(word.startswith(folded) for word in fold(prop.name).split())
        ]
        return {"result": [extension.described(prop) for prop in found[:limit]]}

    def default_types(self) -> list[dict[str, str]]:
        """The manifest's ``defaultTypes``: the common classes the graph has instances of."""
        chosen = []
        for short in DEFAULT_TYPES:
            iri = extension.expand(short, self.catalogue.base)
            if iri and iri in self.catalogue.members:
                chosen.append({"id": iri, "name": self.catalogue.type_name(iri)})
        return chosen

    def propose(self, type_name: str | None, limit: int) -> dict[str, Any]:
        """Properties to extend entities of a type with (data extension's property proposal)."""
        type_iri = self.type_iri(type_name) if type_name else None
        answer: dict[str, Any] = {
            "properties": extension.proposed(self.catalogue, type_iri, limit),
            "limit": limit,
        }
        if type_name:
            answer["type"] = type_name
        return answer

    def extend(self, query: dict[str, Any]) -> dict[str, Any]:
        """Values of the asked properties for the asked entities (data extension)."""
        entities = {eid: self.find(eid) for eid in query["ids"]}
        iris = [entity.iri for entity in entities.values() if entity is not None]
        rows: dict[str, dict[str, list[extension.Value]]] = {eid: {} for eid in query["ids"]}
        meta = []
        for asked in query["properties"]:
            prop = extension.resolve(asked["id"], self.catalogue.base)
            meta.append({"id": asked["id"], "name": prop.name if prop else asked["id"]})
            held = extension.values(self.store, self.catalogue, iris, prop) if prop else {}
            for eid, entity in entities.items():
                rows[eid][asked["id"]] = held.get(entity.iri, []) if entity else []
        return {"meta": meta, "rows": rows}
