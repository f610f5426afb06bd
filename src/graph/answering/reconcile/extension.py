"""Properties of entities: the ones offered for data extension, and their values.

Reconciliation constraints (``properties`` of a query) and data extension read values the same
way: one SPARQL query per property over all the entities asked about, the property's path
taken from :data:`PROPERTIES` (or one predicate named by IRI), never text from a request
(https://www.w3.org/community/reports/reconciliation/CG-FINAL-specs-0.2-20230410/#data-extension-service).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from graph.answering import queries
from graph.answering.reconcile.loading import Catalogue
from graph.core.errors import BadRequest
from graph.core.links import prefixes
from graph.core.namespaces import WIKIDATA, XSD
from graph.store import Literal, NamedNode, QuerySolutions, Store, check_iri, run_query
from graph.store.external.remote_store import RemoteStore


@dataclass(frozen=True)
class Property:
    """A property offered for extension: its id, name, SPARQL path and the types it suits."""

    id: str
    name: str
    path: str
    types: tuple[str, ...] = ()
    description: str = ""
    #: Values are IRIs under this prefix, given as their local id ("Q783").
    strip: str = ""


#: Property paths use the project's prefixes (graph.core.links.prefixes), so they follow the
#: base IRI setting.
PROPERTIES: tuple[Property, ...] = (
    Property("iso3166Alpha2", "ISO 3166-1 alpha-2 code", "ag:iso3166Alpha2", ("ag:Country",)),
    Property("iso3166Alpha3", "ISO 3166-1 alpha-3 code", "ag:iso3166Alpha3", ("ag:Country",)),
    Property(
        "wikidata",
        "Wikidata item",
        "owl:sameAs",
        ("ag:Country",),
        "The Wikidata item (Q…) the entity is the same as.",
        WIKIDATA,
    ),
    Property("country", "country", "ag:ofCountry", ("org:Organization",)),
    Property(
        "alliance",
        "alliance",
        "^ag:committedParty/ag:committedTo|^org:member/org:organization",
        ("ag:Country", "org:Organization"),
        "An alliance the entity committed to or is a member of.",
    ),
    Property(
        "funder",
        "funder",
        "^ag:fundsInitiative/schema:funder|schema:funder",
        ("ag:Initiative", "ag:Grant"),
        "Who funds the initiative or grant.",
    ),
    Property("acronym", "acronym", "ag:acronym", ("org:Organization",)),
    Property("type", "type", "a"),
)
BY_ID = {prop.id: prop for prop in PROPERTIES}

#: A value as the data extension response writes it: {"id", "name"}, {"str"}, {"int"}, {"float"}.
Value = dict[str, Any]


def resolve(pid: str, base: str) -> Property | None:
    """The property ``pid`` names: one of :data:`PROPERTIES`, a prefixed name such as
    ``ag:iso3166Alpha2``, or a predicate's full IRI; None when it names nothing usable.

    >>> resolve("iso3166Alpha2", "https://w3id.org/alliance-graph/").path
    'ag:iso3166Alpha2'
    >>> resolve("rdfs:label", "https://w3id.org/alliance-graph/").path
    '<http://www.w3.org/2000/01/rdf-schema#label>'
    >>> print(resolve("professionOrOccupation", "https://w3id.org/alliance-graph/"))
    None
    """
    known = BY_ID.get(pid)
    if known is not None:
        return known
    iri = expand(pid, base)
    if iri is None:
        return None
    return Property(pid, pid, str(NamedNode(iri)))


def expand(name: str, base: str) -> str | None:
    """The IRI a prefixed name or full IRI stands for, or None if it is neither.

    >>> expand("ag:Country", "https://w3id.org/alliance-graph/")
    'https://w3id.org/alliance-graph/ontology#Country'
    >>> print(expand("http://e.org/a b", "https://w3id.org/alliance-graph/"))
    None
    """
    prefix, colon, rest = name.partition(":")
    known = prefixes(base)
    iri = known[prefix] + rest if colon and prefix in known else name
    if not iri.startswith(("http://", "https://")):
        return None
    try:
        check_iri(iri)
    except BadRequest:
        return None
    return iri


def values(
    store: Store | RemoteStore, catalogue: Catalogue, iris: Sequence[str], prop: Property
) -> dict[str, list[Value]]:
    """The values of ``prop`` for each of ``iris`` (IRIs the catalogue names), as written in a
    data extension response."""
    known = [iri for iri in dict.fromkeys(iris) if catalogue.entity(iri) is not None]
    found: dict[str, list[Value]] = defaultdict(list)
    if not known:
        return found
    entities = " ".join(str(NamedNode(iri)) for iri in known)
    text = queries.RECONCILE_VALUES.format(entities=entities, path=prop.path)
    result = run_query(store, text, prefixes=prefixes(catalogue.base))
    assert isinstance(result, QuerySolutions)
    for row in result:
        value = _value(row["value"], catalogue, prop)
        if value not in found[row["entity"].value]:
            found[row["entity"].value].append(value)
    return found


#: Entities a query without a name may have as candidates.
HOLDERS_LIMIT = 1000


def holders(
    store: Store | RemoteStore,
    catalogue: Catalogue,
    prop: Property,
    wanted: Mapping[str, Sequence[Any]],
) -> dict[str, list[str]]:
    """For each key of ``wanted``, the entities holding one of its values on ``prop``: strings
    compared without case, ``{"id"}`` objects and names of entities as those entities. One
    SPARQL query for every key."""
    iris: dict[str, set[str]] = {}
    texts: dict[str, set[str]] = {}
    for key, given in wanted.items():
        iris[key], texts[key] = _sought(catalogue, prop, given)
    every_iri = sorted(set().union(*iris.values()))
    every_text = sorted(set().union(*texts.values()))
    text = queries.RECONCILE_HOLDERS.format(
        path=prop.path,
        iris=", ".join(str(NamedNode(iri)) for iri in every_iri),
        texts=", ".join(str(Literal(t)) for t in every_text),
        limit=HOLDERS_LIMIT * len(wanted),
    )
    result = run_query(store, text, prefixes=prefixes(catalogue.base))
    assert isinstance(result, QuerySolutions)
    by_iri: dict[str, list[str]] = defaultdict(list)
    by_text: dict[str, list[str]] = defaultdict(list)
    for key in wanted:
        for iri in iris[key]:
            by_iri[iri].append(key)
        for lowered in texts[key]:
            by_text[lowered].append(key)
    found: dict[str, list[str]] = {key: [] for key in wanted}
    for row in result:
        value = row["value"]
        named = isinstance(value, NamedNode)
        for key in (by_iri if named else by_text).get(
            value.value if named else value.value.lower(), []
        ):
            if len(found[key]) < HOLDERS_LIMIT:
                found[key].append(row["entity"].value)
    return found


def _sought(
    catalogue: Catalogue, prop: Property, given: Sequence[Any]
) -> tuple[set[str], set[str]]:
    """The IRIs and lower-cased texts the values ``given`` stand for (a Wikidata id "Q783"
    stands for its item's IRI)."""
    space = catalogue.base + "id/"
    iris: set[str] = set()
    texts: set[str] = set()
    for value in given:
        if isinstance(value, dict):
            ident = str(value.get("id", ""))
            iri = ident if ident.startswith(("http://", "https://")) else space + ident
            if expand(iri, catalogue.base):
                iris.add(iri)
            continue
        text = str(value).lower() if isinstance(value, bool) else str(value)
        texts.add(text.lower())
        if prop.strip and expand(prop.strip + text, catalogue.base):
            iris.add(prop.strip + text)
        iris.update(c.entity.iri for c in catalogue.index.search(text, limit=3) if c.match)
    return iris, texts


def _value(term: Any, catalogue: Catalogue, prop: Property) -> Value:
    if isinstance(term, NamedNode):
        if prop.strip and term.value.startswith(prop.strip):
            return {"str": term.value[len(prop.strip) :]}
        entity = catalogue.entity(term.value)
        name = entity.name if entity else catalogue.type_name(term.value)
        # Entities by their id in the service (graph.answering.reconcile.service), others by IRI.
        ident = term.value.removeprefix(catalogue.base + "id/") if entity else term.value
        return {"id": ident, "name": name}
    datatype = getattr(term, "datatype", None)
    kind = datatype.value.removeprefix(XSD) if datatype is not None else ""
    try:
        if kind in {"integer", "int", "long", "nonNegativeInteger", "positiveInteger"}:
            return {"int": int(term.value)}
        if kind in {"decimal", "double", "float"}:
            return {"float": float(term.value)}
    except ValueError:
        pass
    return {"str": term.value}


def proposed(catalogue: Catalogue, type_iri: str | None, limit: int) -> list[dict[str, str]]:
    """The properties worth extending entities of ``type_iri`` with (all of them without one)."""
    chosen: Iterable[Property] = PROPERTIES
    if type_iri:
        members = catalogue.members.get(type_iri, frozenset())
        chosen = [
            prop
            for prop in PROPERTIES
            if not prop.types or any(_covers(catalogue, t, members, type_iri) for t in prop.types)
        ]
    return [described(prop) for prop in list(chosen)[:limit]]


def _covers(catalogue: Catalogue, short: str, members: frozenset[int], type_iri: str) -> bool:
    suited = expand(short, catalogue.base)
    if suited is None:
        return False
    if suited == type_iri:
        return True
    # A type whose instances are (some of them) instances of the property's type.
    return bool(members & catalogue.members.get(suited, frozenset()))


def described(prop: Property) -> dict[str, str]:
    described = {"id": prop.id, "name": prop.name}
    if prop.description:
        described["description"] = prop.description
    return described
