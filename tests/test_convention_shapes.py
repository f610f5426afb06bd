"""The shapes that hold the data's conventions (issue 16, data/README.md), each shown both ways.

Every example is a few triples added to the real project (ontology, shapes and all of data/),
once in a conforming form and once breaking exactly one convention; both engines (pyshacl and
the SPARQL checks of graph.validation) must find nothing on the conforming examples and the
expected violation on the broken ones. The examples of each kind are validated together, one
project per kind, since each example has its own focus node.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
import rdflib

from tests.paths import ROOT
from tests.validation.violation_keys import Key, both_engines

PREFIXES = """
@prefix ag: <https://w3id.org/alliance-graph/ontology#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix org: <http://www.w3.org/ns/org#> .
@prefix prov: <http://www.w3.org/ns/prov#> .
@prefix schema: <https://schema.org/> .
@prefix foaf: <http://xmlns.com/foaf/0.1/> .
@prefix time: <http://www.w3.org/2006/time#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix ex: <https://w3id.org/alliance-graph/id/test/> .
@prefix organization: <https://w3id.org/alliance-graph/id/organization/> .
@prefix project: <https://w3id.org/alliance-graph/id/project/> .
@prefix passage: <https://w3id.org/alliance-graph/id/passage/> .
@prefix country: <https://w3id.org/alliance-graph/id/country/> .
@prefix person: <https://w3id.org/alliance-graph/id/person/> .
@prefix post: <https://w3id.org/alliance-graph/id/post/> .
@prefix place: <https://w3id.org/alliance-graph/id/place/> .
@prefix concept: <https://w3id.org/alliance-graph/id/concept/> .
@prefix source: <https://w3id.org/alliance-graph/id/source/> .
@prefix derivation: <https://w3id.org/alliance-graph/id/derivation/> .
"""
EX = "https://w3id.org/alliance-graph/id/test/"
AG = "https://w3id.org/alliance-graph/ontology#"
UK_LINE_15 = "passage:gov-uk-2017-honduras-weprotect-line-15"
IBCR_LINE_18 = "passage:ibcr-honduras-accbp-project-line-18"


@dataclass(frozen=True)
class Example:
    """A convention shown twice: ``good`` conforms, ``bad`` breaks it on ``focus``."""

    name: str
    good: str
    bad: str
    focus: str
    path: str
    component: str
    #: Other shapes the broken example breaks as well, as (path, component) on the same focus.
    also: tuple[tuple[str, str], ...] = ()


EXAMPLES = [
    Example(
        "funding-is-a-grant",
        f"""ex:funding-good a ag:Grant ; rdfs:label "a grant"@en ;
            schema:funder organization:end-violence-partnership ;
            ag:fundsInitiative project:ibcr-honduras-trafficking-project ;
            prov:wasDerivedFrom {UK_LINE_15} .""",
        f"""ex:funding-bad a ag:Commitment ; rdfs:label "not a grant"@en ;
            schema:funder organization:end-violence-partnership ;
            prov:wasDerivedFrom {UK_LINE_15} .""",
        EX + "funding-bad",
        "",
        "ClassConstraintComponent",
    ),
    Example(
        "no-bare-funded-by",
        f"""ex:funded-good a ag:Project ; skos:prefLabel "a project"@en ;
            ag:implementedBy organization:icmec ; prov:wasDerivedFrom {UK_LINE_15} .""",
        f"""ex:funded-bad a ag:Project ; skos:prefLabel "a project"@en ;
            ag:implementedBy organization:icmec ;
            ag:fundedBy organization:end-violence-partnership ;
            prov:wasDerivedFrom {UK_LINE_15} .""",
        EX + "funded-bad",
        AG + "fundedBy",
        "MaxCountConstraintComponent",
        also=(("", "ClassConstraintComponent"),),  # and it is no grant
    ),
    Example(
        "every-node-has-provenance",
        f"""ex:sourced a time:Instant ; time:inXSDgYear "2019"^^xsd:gYear ;
            prov:wasDerivedFrom {UK_LINE_15} .
            ex:sourced-thing a schema:Thing ; skos:prefLabel "a thing"@en ;
            prov:wasDerivedFrom {UK_LINE_15} .""",
        """ex:unsourced a schema:Thing ; skos:prefLabel "a thing"@en .""",
        EX + "unsourced",
        "",
        "OrConstraintComponent",
    ),
    Example(
        "instants-have-provenance",
        f"""ex:instant-good a time:Instant ; time:inXSDgYear "2019"^^xsd:gYear ;
            prov:wasDerivedFrom {UK_LINE_15} .""",
        """ex:instant-bad a time:Instant ; time:inXSDgYear "2019"^^xsd:gYear .""",
        EX + "instant-bad",
        "http://www.w3.org/ns/prov#wasDerivedFrom",
        "MinCountConstraintComponent",
        also=(("", "OrConstraintComponent"),),  # and the shape every node has
    ),
    Example(
        "names-in-a-language-of-their-source",
        f"""ex:spanish-caption a ag:Organization ; skos:prefLabel "Oficina de prueba"@es ;
            prov:wasDerivedFrom {IBCR_LINE_18} .
            ex:spanish-reference a ag:Organization ; skos:prefLabel "Oficina de prueba"@es ;
            prov:wasDerivedFrom source:iso-3166-1 .""",
        f"""ex:spanish-unsourced a ag:Organization ; skos:prefLabel "Oficina de prueba"@es ;
            prov:wasDerivedFrom {UK_LINE_15} .""",
        EX + "spanish-unsourced",
        "",
        "OrConstraintComponent",
    ),
    Example(
        "spanish-passages-license-spanish-only",
        f"""ex:english-caption a ag:Organization ; skos:prefLabel "Test office"@en ;
            prov:wasDerivedFrom {IBCR_LINE_18} .""",
        f"""ex:french-caption a ag:Organization ; skos:prefLabel "Bureau d'essai"@fr ;
            prov:wasDerivedFrom {IBCR_LINE_18} .""",
        EX + "french-caption",
        "",
        "OrConstraintComponent",
    ),
    Example(
        "government-body-has-its-country",
        f"""ex:body-good a ag:GovernmentBody ; skos:prefLabel "a ministry"@en ;
            ag:ofCountry country:honduras ; prov:wasDerivedFrom {UK_LINE_15} .""",
        f"""ex:body-bad a ag:GovernmentBody ; skos:prefLabel "a ministry"@en ;
            prov:wasDerivedFrom {UK_LINE_15} .""",
        EX + "body-bad",
        AG + "ofCountry",
        "MinCountConstraintComponent",
    ),
    Example(
        "committed-party-is-a-state-or-organisation",
        f"""ex:commitment-good a ag:Commitment ; rdfs:label "a commitment"@en ;
            ag:committedParty country:honduras , organization:icmec ;
            ag:confirmedBy person:david-cameron ; prov:wasDerivedFrom {UK_LINE_15} .""",
        f"""ex:commitment-bad a ag:Commitment ; rdfs:label "a commitment"@en ;
            ag:committedParty person:david-cameron ; prov:wasDerivedFrom {UK_LINE_15} .""",
        EX + "commitment-bad",
        AG + "committedParty",
        "OrConstraintComponent",
    ),
    Example(
        "participants-are-agents-posts-apart",
        f"""ex:meeting-good a ag:Meeting ; skos:prefLabel "a meeting"@en ;
            ag:participant organization:ibcr , person:rosa-corea ;
            ag:participantPost post:dnep-vice-rector ; prov:wasDerivedFrom {UK_LINE_15} .""",
        f"""ex:meeting-bad a ag:Meeting ; skos:prefLabel "a meeting"@en ;
            ag:participant post:dnep-vice-rector ; prov:wasDerivedFrom {UK_LINE_15} .""",
        EX + "meeting-bad",
        AG + "participant",
        "OrConstraintComponent",
    ),
    Example(
        "area-is-a-country-not-a-venue",
        f"""ex:figure-good a ag:Statistic ; rdfs:label "a figure"@en ;
            ag:measure concept:governments-represented ; ag:value 3.0 ;
            ag:valueQualifier concept:exactly ; ag:unit concept:government ;
            ag:area country:honduras ; prov:wasDerivedFrom {UK_LINE_15} .""",
        f"""ex:figure-bad a ag:Statistic ; rdfs:label "a figure"@en ;
            ag:measure concept:governments-represented ; ag:value 3.0 ;
            ag:valueQualifier concept:exactly ; ag:unit concept:government ;
            ag:area place:abu-dhabi ; prov:wasDerivedFrom {UK_LINE_15} .""",
        EX + "figure-bad",
        AG + "area",
        "ClassConstraintComponent",
    ),
    Example(
        "an-organisation-of-an-alliance-is-a-sub-organisation",
        f"""ex:board-good a ag:Committee ; skos:prefLabel "a board"@en ;
            org:subOrganizationOf organization:weprotect-global-alliance ;
            prov:wasDerivedFrom {UK_LINE_15} .""",
        f"""ex:board-bad a ag:Committee ; skos:prefLabel "a board"@en ;
            ag:ofAlliance organization:weprotect-global-alliance ;
            prov:wasDerivedFrom {UK_LINE_15} .""",
        EX + "board-bad",
        AG + "ofAlliance",
        "MaxCountConstraintComponent",
    ),
    Example(
        "a-date-without-a-stated-year-is-derived",
        f"""ex:dated-good a ag:Meeting ; skos:prefLabel "a meeting"@en ;
            ag:statedMonthDay "--08-23"^^xsd:gMonthDay ; schema:startDate "2019-08-23"^^xsd:date ;
            ag:derivation derivation:ibcr-honduras-visit-year ;
            prov:wasDerivedFrom {UK_LINE_15} .""",
        f"""ex:dated-bad a ag:Meeting ; skos:prefLabel "a meeting"@en ;
            ag:statedMonthDay "--08-23"^^xsd:gMonthDay ; schema:startDate "2019-08-23"^^xsd:date ;
            prov:wasDerivedFrom {UK_LINE_15} .""",
        EX + "dated-bad",
        AG + "derivation",
        "MinCountConstraintComponent",
    ),
    Example(
        "an-initiative-is-not-an-organisation",
        f"""ex:programme-good a ag:Programme ; skos:prefLabel "a programme"@en ;
            prov:wasDerivedFrom {UK_LINE_15} .""",
        f"""ex:programme-bad a ag:Programme , ag:Organization ; skos:prefLabel "a programme"@en ;
            prov:wasDerivedFrom {UK_LINE_15} .""",
        EX + "programme-bad",
        "",
        "NotConstraintComponent",
    ),
]


def project(tmp_path: Path, name: str, turtle: str) -> Path:
    """The real project with one more source file holding ``turtle``."""
    folder = tmp_path / name
    for part in ("ontology", "shapes", "data"):
        shutil.copytree(ROOT / part, folder / part)
    (folder / "data" / "sources" / "example.ttl").write_text(PREFIXES + turtle, encoding="utf-8")
    return folder


def on_examples(found: set[Key]) -> set[Key]:
    return {key for key in found if key[0].startswith(EX)}


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.name for e in EXAMPLES])
def test_convention_holds_then_breaks(tmp_path: Path, example: Example) -> None:
    by_pyshacl, by_sparql = both_engines(project(tmp_path, "good", example.good))
    assert on_examples(by_pyshacl) == on_examples(by_sparql) == set()
    by_pyshacl, by_sparql = both_engines(project(tmp_path, "bad", example.bad))
    expected = {(example.focus, example.path, example.component)}
    expected |= {(example.focus, path, component) for path, component in example.also}
    assert on_examples(by_pyshacl) == on_examples(by_sparql) == expected


def test_spanish_is_the_only_other_language_the_passages_use() -> None:
    """The name-language shape has one alternative per passage language besides English."""
    data = rdflib.Graph()
    for path in sorted((ROOT / "data").glob("*/*.ttl")):
        data.parse(path)
    language = rdflib.URIRef("http://purl.org/dc/terms/language")
    passage = rdflib.URIRef(AG + "Passage")
    used = {
        str(tag)
        for node in data.subjects(rdflib.RDF.type, passage)
        for tag in data.objects(node, language)
    }
    shapes = (ROOT / "shapes" / "alliance-shapes.ttl").read_text(encoding="utf-8")
    assert used == {"es"}
    assert 'sh:hasValue "es"' in shapes
