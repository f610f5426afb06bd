"""Tests of the SHACL shapes and of the shipped content against them.

Constraint tests are generated from the shapes file itself, so that EVERY
constraint is covered: for each (node shape, property path, constraint
component) we take a focus node of the shape's target class from the shipped
data, cut out a minimal graph around it (its own triples plus the types of
the nodes it links to), check that this graph satisfies the constraint, then
apply the mutation that breaks exactly that kind of constraint (drop the
values, add a value, give a wrong datatype, link to an untyped node, ...)
and check that pyshacl reports that component for that focus node.
"""

from dataclasses import dataclass

import pyshacl
import pytest
import rdflib
from rdflib import RDF, RDFS, XSD, BNode, Literal, Namespace, URIRef
from rdflib.collection import Collection

from tests.conftest import ONTOLOGY, REFERENCE_FILES, SHAPES, SOURCE_FILES

SH = Namespace("http://www.w3.org/ns/shacl#")
AG = Namespace("https://w3id.org/alliance-graph/ontology#")
PROV = Namespace("http://www.w3.org/ns/prov#")
OWL = rdflib.OWL

ONT = rdflib.Graph().parse(ONTOLOGY)
SHAPES_G = rdflib.Graph().parse(SHAPES)
DATA = rdflib.Graph()
for _path in [*REFERENCE_FILES, *SOURCE_FILES]:
    DATA.parse(_path)
ALL = DATA + ONT

COMPONENTS = {
    SH.minCount: SH.MinCountConstraintComponent,
    SH.maxCount: SH.MaxCountConstraintComponent,
    SH.datatype: SH.DatatypeConstraintComponent,
    SH["class"]: SH.ClassConstraintComponent,
    SH.nodeKind: SH.NodeKindConstraintComponent,
    SH.pattern: SH.PatternConstraintComponent,
    SH["in"]: SH.InConstraintComponent,
    SH["or"]: SH.OrConstraintComponent,
    SH.minExclusive: SH.MinExclusiveConstraintComponent,
    SH.minInclusive: SH.MinInclusiveConstraintComponent,
    SH.uniqueLang: SH.UniqueLangConstraintComponent,
}
UNTYPED = URIRef("https://w3id.org/alliance-graph/id/test/untyped-node")


@dataclass(frozen=True)
class Case:
    shape: URIRef
    target: URIRef
    path: URIRef
    parameter: URIRef
    value: object

    @property
    def id(self) -> str:
        path = ALL.namespace_manager.normalizeUri(self.path)
        return f"{self.shape.split('#')[-1]}-{path}-{self.parameter.split('#')[-1]}"


def constraint_cases() -> list[Case]:
    """The property constraints of the class-targeted shapes (the shapes that target subjects
    of a predicate, and those they use, have their own examples in test_convention_shapes)."""
    cases = []
    for shape in sorted(SHAPES_G.subjects(RDF.type, SH.NodeShape)):
        target = SHAPES_G.value(shape, SH.targetClass)
        if target is None:
            continue
        for prop in SHAPES_G.objects(shape, SH.property):
            path = SHAPES_G.value(prop, SH.path)
            for parameter in COMPONENTS:
                value = SHAPES_G.value(prop, parameter)
                if value is not None:
                    cases.append(Case(shape, target, path, parameter, value))
    return cases


CASES = constraint_cases()


def instances(cls: URIRef) -> list[URIRef]:
    subclasses = set(ALL.transitive_subjects(RDFS.subClassOf, cls))
    return sorted({s for c in subclasses for s in DATA.subjects(RDF.type, c)})


def pick_focus(case: Case) -> URIRef:
    """A shipped instance of the target class; one that has a value for the path if possible."""
    nodes = instances(case.target)
    assert nodes, f"no shipped instance of {case.target} to build a fixture from"
    with_value = [n for n in nodes if (n, case.path, None) in DATA]
    return (with_value or nodes)[0]


def minimal_graph(focus: URIRef) -> rdflib.Graph:
    graph = rdflib.Graph()
    for p, o in DATA.predicate_objects(focus):
        graph.add((focus, p, o))
        if isinstance(o, URIRef):
            for t in DATA.objects(o, RDF.type):
                graph.add((o, RDF.type, t))
    return graph


def sample_literal(datatype) -> Literal:
    return {
        XSD.date: Literal("2017-11-14", datatype=XSD.date),
        XSD.gYear: Literal("2015", datatype=XSD.gYear),
        XSD.decimal: Literal("1.0", datatype=XSD.decimal),
        XSD.integer: Literal(5),
        XSD.boolean: Literal(True),
        XSD.gMonthDay: Literal("--08-23", datatype=XSD.gMonthDay),
        XSD.gMonth: Literal("--08", datatype=XSD.gMonth),
        RDF.langString: Literal("another value", lang="en"),
    }.get(datatype, Literal("another value"))


def mutate(graph: rdflib.Graph, focus: URIRef, case: Case) -> None:
    """Break the constraint `case` on `focus` in place."""
    values = list(graph.objects(focus, case.path))
    param = case.parameter
    if param == SH.minCount:
        graph.remove((focus, case.path, None))
        return
    if param == SH.maxCount:
        for i in range(int(case.value) + 1 - len(values)):
            if values and isinstance(values[0], URIRef):
                extra = URIRef(f"{values[0]}-extra-{i}")
                for t in graph.objects(values[0], RDF.type):
                    graph.add((extra, RDF.type, t))
            elif values and isinstance(values[0], Literal) and values[0].language:
                extra = Literal(f"extra {i}", lang="fr")
            elif values and values[0].datatype == XSD.boolean:
                extra = Literal(not values[0].toPython())
            elif values and values[0].datatype == XSD.decimal:
                extra = Literal(f"{i + 2}.5", datatype=XSD.decimal)
            elif values:
                extra = Literal(f"{values[0]}{i}", datatype=values[0].datatype)
            else:
                extra = Literal(f"extra {i}")
            graph.add((focus, case.path, extra))
        return
    graph.remove((focus, case.path, None))
    if param == SH.datatype:
        bad = Literal(5) if case.value == XSD.string else Literal("not the right datatype")
    elif param in (SH["class"], SH["or"]):
        bad = UNTYPED
    elif param == SH.nodeKind:
        bad = Literal("a literal, not a link")
    elif param == SH.pattern:
        bad = Literal("not a valid code!")
    elif param == SH["in"]:
        allowed = list(Collection(SHAPES_G, case.value))
        bad = Literal("ZZZ") if isinstance(allowed[0], Literal) else UNTYPED
    elif param in (SH.minExclusive, SH.minInclusive):
        # minInclusive n -> n - 1; minExclusive n -> n itself (as a decimal)
        bad = (
            Literal(int(case.value) - 1)
            if param == SH.minInclusive
            else Literal(str(case.value), datatype=XSD.decimal)
        )
    elif param == SH.uniqueLang:
        bad = values[0]
        graph.add((focus, case.path, Literal(f"{bad} (duplicate)", lang=bad.language)))
    else:  # pragma: no cover
        raise AssertionError(param)
    graph.add((focus, case.path, bad))


def results_for(graph: rdflib.Graph, focus: URIRef, case: Case):
    """The results of the case's own property shape(s) for ``focus`` and its component.

    Only the case's shape is run (on every node it targets): the results kept are that shape's
    own, so the other shapes' runs over the whole ontology only cost time (~5x).
    """
    _, report, _ = pyshacl.validate(
        graph, shacl_graph=SHAPES_G, ont_graph=ONT, inference="none", use_shapes=[case.shape]
    )
    component = COMPONENTS[case.parameter]
    properties = SHAPES_G.objects(case.shape, SH.property)
    own = {p for p in properties if SHAPES_G.value(p, SH.path) == case.path}
    return [
        r
        for r in report.subjects(RDF.type, SH.ValidationResult)
        if report.value(r, SH.focusNode) == focus
        and report.value(r, SH.sourceConstraintComponent) == component
        and report.value(r, SH.sourceShape) in own
    ]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_constraint_satisfied_then_violated(case: Case):
    focus = pick_focus(case)
    graph = minimal_graph(focus)
    forbidden = case.parameter == SH.maxCount and int(case.value) == 0
    if case.parameter != SH.minCount and not forbidden and (focus, case.path, None) not in graph:
        value = satisfying_value(case)
        graph.add((focus, case.path, value))
        for t in DATA.objects(value, RDF.type) if isinstance(value, URIRef) else ():
            graph.add((value, RDF.type, t))
    assert not results_for(graph, focus, case), "the minimal satisfying graph must conform"
    mutate(graph, focus, case)
    assert results_for(graph, focus, case), f"expected {COMPONENTS[case.parameter]} on {focus}"


def satisfying_value(case: Case):
    """A conforming value for a path the picked focus node does not use."""
    prop = next(
        p
        for p in SHAPES_G.objects(case.shape, SH.property)
        if SHAPES_G.value(p, SH.path) == case.path
    )
    datatype = SHAPES_G.value(prop, SH.datatype)
    if datatype is not None:
        return sample_literal(datatype)
    if SHAPES_G.value(prop, SH["or"]) is not None and SHAPES_G.value(prop, SH.nodeKind) is None:
        return Literal("2015", datatype=XSD.gYear)
    return pick_linked(prop)


def pick_linked(prop):
    cls = SHAPES_G.value(prop, SH["class"])
    if cls is None and SHAPES_G.value(prop, SH["or"]) is not None:
        cls = SHAPES_G.value(SHAPES_G.value(SHAPES_G.value(prop, SH["or"]), RDF.first), SH["class"])
    return (
        instances(cls)[0]
        if cls is not None
        else URIRef("https://w3id.org/alliance-graph/id/test/any")
    )


# --- whole-content checks -------------------------------------------------


def test_shipped_content_conforms_without_any_result(data_graph, ontology_graph, shapes_graph):
    conforms, report, text = pyshacl.validate(
        data_graph, shacl_graph=shapes_graph, ont_graph=ontology_graph, inference="none"
    )
    assert conforms, text
    assert not list(report.subjects(RDF.type, SH.ValidationResult)), text


def test_every_shape_constraint_has_a_message(shapes_graph):
    for prop in shapes_graph.objects(None, SH.property):
        assert shapes_graph.value(prop, SH.message) is not None, prop


def test_every_ag_class_has_a_shape(ontology_graph, shapes_graph):
    targets = set(shapes_graph.objects(None, SH.targetClass))
    for cls in ontology_graph.subjects(RDF.type, OWL.Class):
        if str(cls).startswith(str(AG)):
            assert cls in targets, cls


FACT_CLASSES = [
    AG.Commitment,
    AG.Agreement,
    AG.Grant,
    AG.Event,
    AG.Statistic,
    AG.Initiative,
    AG.Framework,
    AG.AllianceConvergence,
    AG.Organization,
    AG.Country,
    AG.Place,
    AG.Funder,
    AG.Derivation,
    URIRef("http://www.w3.org/ns/org#Membership"),
    URIRef("http://www.w3.org/ns/org#Post"),
    URIRef("http://xmlns.com/foaf/0.1/Person"),
    URIRef("https://schema.org/MonetaryAmount"),
]


def test_every_fact_node_reaches_a_source_document():
    documents = set(instances(AG.SourceDocument)) | set(instances(AG.ReferenceSource))
    nodes = {n for cls in FACT_CLASSES for n in instances(cls)}
    assert len(nodes) > 80
    for node in sorted(nodes):
        links = PROV.wasDerivedFrom if (node, PROV.wasDerivedFrom, None) in DATA else PROV.used
        sources = set()
        for origin in DATA.objects(node, links):
            sources.add(origin)
            sources.update(DATA.objects(origin, URIRef("http://purl.org/dc/terms/isPartOf")))
        assert sources & documents, f"{node} does not reach a source document"


def test_every_ontology_term_has_english_label_and_comment(ontology_graph):
    terms = {
        s
        for t in (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty)
        for s in ontology_graph.subjects(RDF.type, t)
        if isinstance(s, URIRef) and str(s).startswith(str(AG))
    }
    assert len(terms) > 80
    for term in terms:
        assert "en" in {o.language for o in ontology_graph.objects(term, RDFS.label)}, term
        assert "en" in {o.language for o in ontology_graph.objects(term, RDFS.comment)}, term


def test_blank_nodes_are_not_used_in_data():
    assert not [s for s in DATA.subjects() if isinstance(s, BNode)]


def test_every_derivation_flags_a_value_its_node_states():
    """A derivation names a property the node pointing to it has, and some node points to it."""
    derivations = set(instances(AG.Derivation))
    used = set()
    for node, derivation in DATA.subject_objects(AG.derivation):
        used.add(derivation)
        prop = DATA.value(derivation, AG.derivedProperty)
        assert (node, prop, None) in DATA, f"{node} has no {prop} for {derivation} to flag"
    assert derivations and used == derivations
