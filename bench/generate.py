"""Seeded synthetic Alliance Graph data, streamed to N-Quads or Turtle, for benchmarks and tests.

    python bench/generate.py --triples 1000000 --seed 1 --out var/bench/1m.nq

The data follows the project's ontology and conforms to its shapes (ontology/alliance.ttl,
shapes/alliance-shapes.ttl): alliances, member states, memberships with roles, commitments,
funders, grants with monetary amounts, events held in a country, statistics with measure and
unit, source documents with a publisher and passages, every fact node (and each document, from its
first line) derived from a passage.
The SKOS concepts it uses (roles, measures, units, qualifiers) go to a reference graph. A known
share of fact nodes is made invalid on purpose, one defect per invalid node, each breaking the
project's shapes on that node; how many of each kind were written goes to
``FILE.summary.json`` and stderr, so a validator's findings can be checked against it.

Memory stays constant: every document block is written as soon as it is generated. ``.nq`` puts
each synthetic source document in its own named graph (as the build does for one file per
document) and countries in the reference graph; ``.ttl`` writes the same triples as N-Triples
lines, which are valid Turtle, for loading as one file.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

BASE = "https://w3id.org/alliance-graph/"
AG = BASE + "ontology#"
ID = BASE + "id/"
GRAPH = BASE + "graph/"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
XSD = "http://www.w3.org/2001/XMLSchema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
PROV = "http://www.w3.org/ns/prov#"
DCTERMS = "http://purl.org/dc/terms/"
ORG = "http://www.w3.org/ns/org#"
SCHEMA = "https://schema.org/"
WD = "http://www.wikidata.org/entity/"
OWL = "http://www.w3.org/2002/07/owl#"

LABEL = RDFS + "label"
PREF_LABEL = SKOS + "prefLabel"
DERIVED = PROV + "wasDerivedFrom"
CONCEPT = ID + "concept/"
CONCEPTS_GRAPH = GRAPH + "reference-synthetic-concepts"
#: SKOS concepts the generated facts refer to, with their extra class (org:Role for roles).
CONCEPTS: dict[str, str | None] = {
    "member": ORG + "Role",
    "alliance-size": None,
    "countries-reached": None,
    "reports-received": None,
    "cases-identified": None,
    "exactly": None,
    "more-than": None,
    "nearly": None,
    "government": None,
    "hotline": None,
    "percent": None,
}
#: Documents sharing one publisher (described in the first of them).
DOCUMENTS_PER_PUBLISHER = 100

#: The defects the generator plants, one per invalid node, and the node kinds they apply to.
INVALID_KINDS: dict[str, tuple[str, ...]] = {
    "bad-iso-code": ("country",),
    "missing-label": ("alliance", "commitment", "grant", "event", "statistic"),
    "missing-provenance": ("alliance", "membership", "commitment", "grant", "event", "statistic"),
    "negative-amount": ("amount",),
    "bad-currency": ("amount",),
    "dangling-reference": ("membership", "commitment"),
    "missing-unit": ("statistic",),
    "wrong-datatype": ("membership", "grant", "event"),
}

CURRENCIES = ("USD", "EUR", "GBP", "CAD", "SEK", "NOK", "AUD", "JPY")
BAD_CURRENCIES = ("usd", "US$", "DOLLARS", "€")
EVENT_CLASSES = ("Summit", "Workshop", "Meeting", "Visit")
MEASURES = ("alliance-size", "countries-reached", "reports-received", "cases-identified")
QUALIFIERS = ("exactly", "more-than", "nearly")
UNITS = ("government", "hotline", "percent")
PASSAGES_PER_DOCUMENT = 6


def iri(text: str) -> str:
    return f"<{text}>"


def plain(text: str, lang: str = "en") -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"@{lang}'


def typed(value: str, datatype: str) -> str:
    return f'"{value}"^^<{XSD}{datatype}>'


def string(value: str) -> str:
    return f'"{value}"'


def letters(index: int, width: int) -> str:
    """Upper-case code number ``index`` of ``width`` letters (AA, AB, ...)."""
    code = ""
    for _ in range(width):
        index, digit = divmod(index, 26)
        code = chr(ord("A") + digit) + code
    return code


@dataclass
class Writer:
    """Writes statements as N-Quads (with a graph) or N-Triples lines, counting them."""

    out: TextIO
    quads: bool
    triples: int = 0
    documents: int = 0
    invalid: Counter[str] = field(default_factory=Counter)
    #: The IRI of every node made invalid, with its defect.
    invalid_nodes: dict[str, str] = field(default_factory=dict)
    nodes: Counter[str] = field(default_factory=Counter)

    def emit(self, graph: str, subject: str, predicate: str, obj: str) -> None:
        if self.quads:
            self.out.write(f"<{subject}> <{predicate}> {obj} <{graph}> .\n")
        else:
            self.out.write(f"<{subject}> <{predicate}> {obj} .\n")
        self.triples += 1


@dataclass
class Document:
    """One synthetic source document: its graph, passages and a random generator."""

    number: int
    rng: random.Random
    share: float
    writer: Writer

    @property
    def slug(self) -> str:
        return f"synthetic-{self.number:07d}"

    @property
    def graph(self) -> str:
        return GRAPH + self.slug

    def passage(self) -> str:
        line = 1 + 2 * self.rng.randrange(PASSAGES_PER_DOCUMENT)
        return f"{ID}passage/{self.slug}-line-{line}"

    def defect(self, kind: str, node: str) -> str | None:
        """The defect to plant in the next node of ``kind``, or None for a valid node."""
        self.writer.nodes[kind] += 1
        if self.rng.random() >= self.share:
            return None
        choices = [name for name, kinds in INVALID_KINDS.items() if kind in kinds]
        chosen = self.rng.choice(choices)
        self.writer.invalid[chosen] += 1
        self.writer.invalid_nodes[node] = chosen
        return chosen

    def fact(
        self,
        node: str,
        classes: tuple[str, ...],
        label: str,
        defect: str | None,
        label_predicate: str | None = LABEL,
    ) -> None:
        """Type, label and provenance of a fact node (left out when that is the defect)."""
        w = self.writer
        for cls in classes:
            w.emit(self.graph, node, RDF_TYPE, iri(cls))
        if defect != "missing-label" and label_predicate is not None:
            w.emit(self.graph, node, label_predicate, plain(label))
        if defect != "missing-provenance":
            w.emit(self.graph, node, DERIVED, iri(self.passage()))


def write_document(doc: Document) -> None:
    """Write one source document and the facts derived from it."""
    w, g, rng, n = doc.writer, doc.graph, doc.rng, doc.number
    source = f"{ID}source/{doc.slug}"
    year = 2000 + n % 25
    date = f"{year}-{1 + n % 12:02d}-{1 + n % 28:02d}"
    publisher = f"{ID}organization/publisher-{n // DOCUMENTS_PER_PUBLISHER:07d}"
    w.emit(g, source, RDF_TYPE, iri(AG + "SourceDocument"))
    w.emit(g, source, DCTERMS + "title", plain(f"Synthetic news story {n}"))
    w.emit(g, source, DCTERMS + "publisher", iri(publisher))
    w.emit(g, source, SCHEMA + "datePublished", typed(date, "date"))
    w.emit(g, source, AG + "seedFile", string(f"{n % 1000:03d}_{n:016x}.txt"))
    w.emit(g, source, DERIVED, iri(f"{ID}passage/{doc.slug}-line-1"))
    for index in range(PASSAGES_PER_DOCUMENT):
        passage = f"{ID}passage/{doc.slug}-line-{1 + 2 * index}"
        w.emit(g, passage, RDF_TYPE, iri(AG + "Passage"))
        w.emit(g, passage, AG + "lineNumber", typed(str(1 + 2 * index), "integer"))
        w.emit(g, passage, DCTERMS + "isPartOf", iri(source))

    country = write_country(doc, n)
    partner = f"{ID}country/synthetic-{rng.randrange(n + 1):07d}"
    alliance = f"{ID}organization/alliance-{n // 10:07d}"
    if n % 10 == 0:  # ten documents report on each alliance; the first describes it
        defect = doc.defect("alliance", alliance)
        name = f"Synthetic alliance {n // 10}"
        doc.fact(alliance, (AG + "Alliance",), name, defect, PREF_LABEL)
    if n % DOCUMENTS_PER_PUBLISHER == 0:
        name = f"Synthetic publisher {n // DOCUMENTS_PER_PUBLISHER}"
        doc.fact(publisher, (AG + "Organization",), name, None, PREF_LABEL)
    funder = f"{ID}organization/funder-{n:07d}"
    doc.fact(
        funder, (AG + "Organization", AG + "Funder"), f"Synthetic funder {n}", None, PREF_LABEL
    )

    for index, member in enumerate((country, partner)):
        write_membership(doc, index, member, alliance, date)
    write_commitment(doc, country, alliance, year)
    write_grant(doc, funder, year)
    write_event(doc, alliance, country, date)
    write_statistic(doc, alliance)


def write_country(doc: Document, n: int) -> str:
    w, g = doc.writer, doc.graph
    country = f"{ID}country/synthetic-{n:07d}"
    defect = doc.defect("country", country)
    alpha2 = letters(n, 2) if defect != "bad-iso-code" else letters(n, 2).lower() + "1"
    for cls in ("Country", "MemberState"):
        w.emit(g, country, RDF_TYPE, iri(AG + cls))
    w.emit(g, country, PREF_LABEL, plain(f"Synthetic country {n}"))
    w.emit(g, country, AG + "iso3166Alpha2", string(alpha2))
    w.emit(g, country, AG + "iso3166Alpha3", string(letters(n, 3)))
    w.emit(g, country, OWL + "sameAs", iri(f"{WD}Q{10_000_000 + n}"))
    w.emit(g, country, DERIVED, iri(doc.passage()))
    return country


def write_membership(doc: Document, index: int, member: str, alliance: str, date: str) -> None:
    w, g = doc.writer, doc.graph
    node = f"{ID}membership/{doc.slug}-{index}"
    defect = doc.defect("membership", node)
    doc.fact(node, (ORG + "Membership",), f"Membership of {member}", defect)
    if defect == "dangling-reference":
        member = f"{ID}country/undescribed-{doc.number:07d}-{index}"
    w.emit(g, node, ORG + "member", iri(member))
    w.emit(g, node, ORG + "organization", iri(alliance))
    w.emit(g, node, ORG + "role", iri(CONCEPT + "member"))
    reported = string(date) if defect == "wrong-datatype" else typed(date, "date")
    w.emit(g, node, AG + "reportedOn", reported)


def write_commitment(doc: Document, country: str, alliance: str, year: int) -> None:
    w, g = doc.writer, doc.graph
    node = f"{ID}commitment/{doc.slug}"
    defect = doc.defect("commitment", node)
    doc.fact(node, (AG + "Commitment",), f"Commitment {doc.number}", defect)
    if defect == "dangling-reference":
        alliance = f"{ID}organization/undescribed-{doc.number:07d}"
    w.emit(g, node, AG + "committedParty", iri(country))
    w.emit(g, node, AG + "committedTo", iri(alliance))
    w.emit(g, node, AG + "year", typed(str(year), "gYear"))


def write_grant(doc: Document, funder: str, year: int) -> None:
    w, g, rng = doc.writer, doc.graph, doc.rng
    node = f"{ID}grant/{doc.slug}"
    amount = f"{ID}amount/{doc.slug}"
    defect = doc.defect("grant", node)
    doc.fact(node, (AG + "Grant",), f"Grant {doc.number}", defect)
    w.emit(g, node, SCHEMA + "funder", iri(funder))
    w.emit(g, node, SCHEMA + "amount", iri(amount))
    w.emit(
        g,
        node,
        AG + "year",
        string(str(year)) if defect == "wrong-datatype" else typed(str(year), "gYear"),
    )
    defect = doc.defect("amount", amount)
    value = f"{rng.randrange(1, 10_000) * 1000}.00"
    if defect == "negative-amount":
        value = "-" + value
    currency = rng.choice(BAD_CURRENCIES if defect == "bad-currency" else CURRENCIES)
    doc.fact(amount, (SCHEMA + "MonetaryAmount",), f"{currency} {value}", None)
    w.emit(g, amount, SCHEMA + "value", typed(value, "decimal"))
    w.emit(g, amount, SCHEMA + "currency", string(currency))


def write_event(doc: Document, alliance: str, country: str, date: str) -> None:
    w, g, rng = doc.writer, doc.graph, doc.rng
    node = f"{ID}event/{doc.slug}"
    defect = doc.defect("event", node)
    cls = AG + rng.choice(EVENT_CLASSES)
    doc.fact(node, (cls,), f"Event {doc.number}", defect, PREF_LABEL)
    start = string(date) if defect == "wrong-datatype" else typed(date, "date")
    w.emit(g, node, SCHEMA + "startDate", start)
    w.emit(g, node, SCHEMA + "location", iri(country))
    w.emit(g, node, AG + "participant", iri(country))
    w.emit(g, node, AG + "ofAlliance", iri(alliance))


def write_statistic(doc: Document, alliance: str) -> None:
    w, g, rng = doc.writer, doc.graph, doc.rng
    node = f"{ID}statistic/{doc.slug}"
    defect = doc.defect("statistic", node)
    doc.fact(node, (AG + "Statistic",), f"Statistic {doc.number}", defect)
    w.emit(g, node, AG + "measure", iri(CONCEPT + rng.choice(MEASURES)))
    w.emit(g, node, AG + "value", typed(f"{rng.randrange(1, 500)}.0", "decimal"))
    w.emit(g, node, AG + "valueQualifier", iri(CONCEPT + rng.choice(QUALIFIERS)))
    if defect != "missing-unit":
        w.emit(g, node, AG + "unit", iri(CONCEPT + rng.choice(UNITS)))
    w.emit(g, node, AG + "statisticAbout", iri(alliance))


def write_concepts(writer: Writer) -> None:
    """The SKOS concepts the facts use, in their own reference graph."""
    for name, extra in CONCEPTS.items():
        node = CONCEPT + name
        writer.emit(CONCEPTS_GRAPH, node, RDF_TYPE, iri(SKOS + "Concept"))
        if extra is not None:
            writer.emit(CONCEPTS_GRAPH, node, RDF_TYPE, iri(extra))
        writer.emit(CONCEPTS_GRAPH, node, PREF_LABEL, plain(name.replace("-", " ")))


def documents(writer: Writer, seed: int, share: float, first: int = 0) -> Iterator[Document]:
    rng = random.Random(seed)
    number = first
    while True:
        yield Document(number, rng, share, writer)
        number += 1


def generate(
    out: TextIO, triples: int, seed: int, share: float, quads: bool, first: int = 0
) -> Writer:
    """Write at least ``triples`` statements (whole documents) to ``out``.

    Documents are numbered from ``first``; a later batch (``first`` > 0) links to the countries
    and alliances of the earlier documents and leaves the shared concepts out.
    """
    writer = Writer(out, quads)
    if first == 0:
        write_concepts(writer)
    for doc in documents(writer, seed, share, first):
        if writer.triples >= triples:
            break
        write_document(doc)
        writer.documents += 1
    return writer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--triples", type=int, required=True, help="how many triples, at least")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--invalid-share",
        type=float,
        default=0.01,
        help="share of fact nodes made invalid (0 for a conforming graph)",
    )
    parser.add_argument(
        "--first-document",
        type=int,
        default=0,
        help="number of the first document: continue a graph of that many documents",
    )
    parser.add_argument("--out", type=Path, required=True, help="FILE.nq or FILE.ttl")
    args = parser.parse_args(argv)
    if args.out.suffix not in {".nq", ".ttl", ".nt"}:
        parser.error("--out must end in .nq, .nt or .ttl")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8", buffering=1 << 20) as out:
        writer = generate(
            out,
            args.triples,
            args.seed,
            args.invalid_share,
            args.out.suffix == ".nq",
            args.first_document,
        )
    summary = {
        "file": str(args.out),
        "seed": args.seed,
        "triples": writer.triples,
        "documents": writer.documents,
        "invalid_share": args.invalid_share,
        "nodes": dict(sorted(writer.nodes.items())),
        "invalid": dict(sorted(writer.invalid.items())),
        "invalid_total": sum(writer.invalid.values()),
    }
    sidecar = args.out.with_name(args.out.name + ".summary.json")
    sidecar.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(summary, indent=2), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
