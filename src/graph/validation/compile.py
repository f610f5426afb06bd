"""SHACL Core compiled to SPARQL: each constraint becomes one query that returns its violations.

The shapes graph (small) is read with rdflib; the data graph is whatever store the queries run
on, with the default graph the union of the named graphs and the ontology loaded beside the
data, so ``rdfs:subClassOf`` counts for targets and ``sh:class`` (SHACL 1.0 section 3.2, "SHACL
instance"). The sections of https://www.w3.org/TR/shacl/ are followed one by one below.

Anything outside the supported subset (SPARQL-based constraints, property pairs, sh:closed,
recursive shapes, unknown sh: terms) raises :class:`UnsupportedShape`, so the caller falls back
to pyshacl rather than silently checking less.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Set
from itertools import count

from rdflib import RDF, RDFS, BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.term import Node

from graph.core.namespaces import OWL
from graph.core.namespaces import SH as SH_NS
from graph.validation.checks import Check
from graph.validation.naming import shape_name

RDF_TYPE = str(RDF.type)
SUBCLASS = str(RDFS.subClassOf)
XSD = "http://www.w3.org/2001/XMLSchema#"


def words(text: str) -> list[str]:
    """The blank-separated words of ``text``."""
    return text.split()


#: Datatypes Oxigraph can cast to, so an ill-formed lexical form is caught (section 4.1.2).
CASTABLE = frozenset(
    XSD + name
    for name in words(
        "string boolean decimal integer float double date dateTime time gYear gYearMonth gMonth "
        "gDay gMonthDay duration "
        "dayTimeDuration yearMonthDuration"
    )
)


#: Oxigraph stores literals of these types as xsd:integer, so the store cannot tell them apart.
INTEGER_SUBTYPES = frozenset(
    XSD + name
    for name in words(
        "long int short byte nonNegativeInteger positiveInteger nonPositiveInteger "
        "negativeInteger unsignedLong unsignedInt unsignedShort unsignedByte"
    )
)


def well_formed(datatype: str, v: str) -> str:
    """An expression true when the lexical form of literal ``v`` is valid for ``datatype``."""
    if datatype in INTEGER_SUBTYPES:
        raise UnsupportedShape(
            f"sh:datatype <{datatype}>: Oxigraph stores it as xsd:integer, so the store cannot "
            "check it (use xsd:integer with sh:minInclusive/sh:maxInclusive)"
        )
    if datatype in CASTABLE:
        return f"COALESCE(isLiteral(<{datatype}>(STR({v}))), false)"
    return "true"


def sh(name: str) -> URIRef:
    """The IRI of a term of the SHACL vocabulary."""
    return URIRef(SH_NS + name)


#: Shape-describing sh: terms that are not constraints (section 2).
SHAPE_TERMS = frozenset(
    sh(n)
    for n in words(
        "targetClass targetNode targetSubjectsOf targetObjectsOf path property message "
        "severity deactivated name description order group defaultValue NodeShape "
        "PropertyShape Shape"
    )
)
#: Constraint parameters compiled here (section 4); any other sh: predicate is unsupported.
SUPPORTED = frozenset(
    sh(n)
    for n in words(
        "class datatype nodeKind minExclusive minInclusive maxExclusive maxInclusive "
        "minLength maxLength pattern flags languageIn uniqueLang in hasValue minCount maxCount "
        "node not and or xone"
    )
)
COMPONENT = {
    "class": "ClassConstraintComponent",
    "datatype": "DatatypeConstraintComponent",
    "nodeKind": "NodeKindConstraintComponent",
    "minExclusive": "MinExclusiveConstraintComponent",
    "minInclusive": "MinInclusiveConstraintComponent",
    "maxExclusive": "MaxExclusiveConstraintComponent",
    "maxInclusive": "MaxInclusiveConstraintComponent",
    "minLength": "MinLengthConstraintComponent",
    "maxLength": "MaxLengthConstraintComponent",
    "pattern": "PatternConstraintComponent",
    "languageIn": "LanguageInConstraintComponent",
    "uniqueLang": "UniqueLangConstraintComponent",
    "in": "InConstraintComponent",
    "hasValue": "HasValueConstraintComponent",
    "minCount": "MinCountConstraintComponent",
    "maxCount": "MaxCountConstraintComponent",
    "node": "NodeConstraintComponent",
    "not": "NotConstraintComponent",
    "and": "AndConstraintComponent",
    "or": "OrConstraintComponent",
    "xone": "XoneConstraintComponent",
}
#: Components checked once per focus node rather than once per value node.
FOCUS_LEVEL = frozenset({"minCount", "maxCount", "hasValue", "uniqueLang"})


#: Components decided by counting values (see :attr:`Check.counted`).
COUNTED = frozenset({"minCount", "maxCount", "uniqueLang"})


def count_violation(name: str, parameter: Node) -> str:
    """The condition on the counts that breaks minCount, maxCount or uniqueLang."""
    if name == "uniqueLang":
        return "?tagged > ?languages" if parameter == Literal(True) else "false"
    return f"?count {'<' if name == 'minCount' else '>'} {int(str(parameter))}"


class UnsupportedShape(Exception):
    """The shapes use SHACL this compiler does not translate; validate with pyshacl instead."""


def term(node: Node) -> str:
    """A node of the shapes graph written as a SPARQL term."""
    if isinstance(node, URIRef):
        return f"<{node}>"
    if isinstance(node, Literal):
        return node.n3()
    raise UnsupportedShape(f"blank node {node} where a constant is expected")


def show(node: Node) -> str:
    return f"_:{node}" if isinstance(node, BNode) else str(node)


#: Every class IRI mapped to the classes it includes (itself and its subclasses, transitively).
Subclasses = Mapping[str, Set[str]]


class Compiler:
    """Compiles the shapes of one shapes graph into :class:`Check` queries.

    With ``subclasses`` (the closure of ``rdfs:subClassOf`` in the data, read once), a SHACL
    instance test becomes a lookup of ``rdf:type`` among known classes instead of a
    ``rdf:type/rdfs:subClassOf*`` path that every check would evaluate again for every node.
    """

    def __init__(self, shapes: Graph, subclasses: Subclasses | None = None) -> None:
        self.g = shapes
        self.subclasses = subclasses
        self._fresh = count()
        self._stack: list[Node] = []

    def instance_of(self, node: str, cls: Node) -> str:
        """A pattern matching when ``node`` is a SHACL instance of ``cls`` (section 1.5)."""
        if self.subclasses is None or not isinstance(cls, URIRef):
            return f"{node} <{RDF_TYPE}>/<{SUBCLASS}>* {term(cls)}"
        included = sorted(self.subclasses.get(str(cls), set()) | {str(cls)})
        if len(included) == 1:
            return f"{node} <{RDF_TYPE}> <{included[0]}>"
        variable = self.fresh()
        values = " ".join(f"<{c}>" for c in included)
        return f"VALUES {variable} {{ {values} }} {node} <{RDF_TYPE}> {variable}"

    def checks(self) -> list[Check]:
        """Every check of every shape that has a target (section 2.1.3)."""
        found: list[Check] = []
        for shape in sorted(self.targeted(), key=str):
            if self.g.value(shape, sh("deactivated")) == Literal(True):
                continue
            found.extend(self.shape_checks(shape, self.targets(shape), None))
        return found

    def targeted(self) -> set[Node]:
        shapes: set[Node] = set()
        for predicate in ("targetClass", "targetNode", "targetSubjectsOf", "targetObjectsOf"):
            shapes.update(self.g.subjects(sh(predicate), None))
        for cls in (RDFS.Class, URIRef(OWL + "Class")):  # implicit class targets, 2.1.3.3
            shapes.update(s for s in self.g.subjects(RDF.type, cls) if self.is_shape(s))
        return shapes

    def is_shape(self, node: Node) -> bool:
        types = set(self.g.objects(node, RDF.type))
        return bool(types & {sh("NodeShape"), sh("PropertyShape")}) or any(
            True for _ in self.g.objects(node, sh("property"))
        )

    def targets(self, shape: Node) -> str:
        """A group pattern binding ``?focus`` to the shape's focus nodes (section 2.1.3)."""
        classes = list(self.g.objects(shape, sh("targetClass")))
        if {RDFS.Class, URIRef(OWL + "Class")} & set(self.g.objects(shape, RDF.type)):
            classes.append(shape)
        parts = [f"{{ {self.instance_of('?focus', c)} }}" for c in classes]
        nodes = " ".join(term(n) for n in self.g.objects(shape, sh("targetNode")))
        if nodes:
            parts.append(f"{{ VALUES ?focus {{ {nodes} }} }}")
        for p in self.g.objects(shape, sh("targetSubjectsOf")):
            parts.append(f"{{ ?focus {term(p)} ?target_object }}")
        for p in self.g.objects(shape, sh("targetObjectsOf")):
            parts.append(f"{{ ?target_subject {term(p)} ?focus }}")
        return " UNION ".join(parts)

    def shape_checks(self, shape: Node, targets: str, parent: Node | None) -> Iterator[Check]:
        """Checks of ``shape`` and of its property shapes (section 2.3)."""
        self.ensure_supported(shape)
        path_node = self.g.value(shape, sh("path"))
        path = self.path(path_node) if path_node is not None else None
        severity = str(self.g.value(shape, sh("severity")) or sh("Violation")).rsplit("#")[-1]
        messages = sorted(str(m) for m in self.g.objects(shape, sh("message")))
        for name, parameter in self.parameters(shape):
            pattern, condition = self.violation(shape, name, parameter, path)
            counted = path if name in COUNTED and path is not None else ""
            lookup = ""
            if counted:
                pattern, lookup = "", condition
                condition = count_violation(name, parameter)
            yield Check(
                shape=shape_name(self.g, shape),
                path=path or "",
                component=COMPONENT[name],
                severity=severity,
                message=messages[0] if messages else default_message(name, parameter, path),
                targets=targets,
                pattern=pattern,
                condition=condition,
                counted=counted,
                lookup=lookup,
            )
        for prop in self.g.objects(shape, sh("property")):
            if self.g.value(prop, sh("deactivated")) != Literal(True):
                yield from self.shape_checks(prop, targets, shape)

    def ensure_supported(self, shape: Node) -> None:
        for predicate in set(self.g.predicates(shape, None)):
            if str(predicate).startswith(SH_NS) and predicate not in SUPPORTED | SHAPE_TERMS:
                raise UnsupportedShape(
                    f"shape {show(shape)} uses {predicate}, which the SPARQL engine does not "
                    "compile"
                )

    def parameters(self, shape: Node) -> Iterator[tuple[str, Node]]:
        for predicate, value in sorted(self.g.predicate_objects(shape), key=str):
            name = str(predicate)[len(SH_NS) :] if str(predicate).startswith(SH_NS) else ""
            if name in COMPONENT:
                yield name, value

    # Paths, section 2.3.1 -------------------------------------------------------------------

    def path(self, node: Node) -> str:
        """A SHACL property path as a SPARQL property path."""
        if isinstance(node, URIRef):
            return f"<{node}>"
        if (node, RDF.first, None) in self.g:  # sequence path, 2.3.1.2
            return "(" + "/".join(self.path(p) for p in Collection(self.g, node)) + ")"
        for name, template in (
            ("inversePath", "^{}"),
            ("zeroOrMorePath", "{}*"),
            ("oneOrMorePath", "{}+"),
            ("zeroOrOnePath", "{}?"),
        ):
            inner = self.g.value(node, sh(name))
            if inner is not None:
                return "(" + template.format(self.path(inner)) + ")"
        alternatives = self.g.value(node, sh("alternativePath"))
        if alternatives is not None:
            return "(" + "|".join(self.path(p) for p in Collection(self.g, alternatives)) + ")"
        raise UnsupportedShape(f"path {show(node)} is not a SHACL property path")

    # Queries ----------------------------------------------------------------------------------

    def violation(
        self, shape: Node, name: str, parameter: Node, path: str | None
    ) -> tuple[str, str]:
        """The value pattern and the violation condition of one constraint."""
        if name in FOCUS_LEVEL and path is not None:
            return "", self.focus_violation(name, parameter, "?focus", path)
        if name in FOCUS_LEVEL and name != "hasValue":
            raise UnsupportedShape(f"sh:{name} on node shape {show(shape)}")
        violation = self.value_violation(name, parameter, "?value")
        if path is None:  # a node shape's value node is its focus node (section 2.1.5)
            return "BIND(?focus AS ?value)", violation
        return f"?focus {path} ?value .", violation

    def fresh(self) -> str:
        return f"?v{next(self._fresh)}"

    def focus_violation(self, name: str, parameter: Node, focus: str, path: str) -> str:
        """An expression true when ``focus`` breaks a count-like constraint (4.2, 4.5, 4.8)."""
        if name == "minCount":
            values = [self.fresh() for _ in range(int(str(parameter)))]
            if not values:
                return "false"
            return f"NOT EXISTS {{ {distinct_values(focus, path, values)} }}"
        if name == "maxCount":
            values = [self.fresh() for _ in range(int(str(parameter)) + 1)]
            return f"EXISTS {{ {distinct_values(focus, path, values)} }}"
        if name == "hasValue":
            return f"NOT EXISTS {{ {focus} {path} {term(parameter)} }}"
        if name == "uniqueLang" and parameter == Literal(True):
            a, b = self.fresh(), self.fresh()
            same_lang = f'!sameTerm({a}, {b}) && lang({a}) != "" && lang({a}) = lang({b})'
            return f"EXISTS {{ {focus} {path} {a} . {focus} {path} {b} . FILTER({same_lang}) }}"
        if name == "uniqueLang":
            return "false"
        raise UnsupportedShape(f"sh:{name}")

    def value_violation(self, name: str, p: Node, v: str) -> str:
        """A SPARQL expression true when value node ``v`` breaks a constraint (section 4)."""
        if name == "hasValue":  # on a node shape (section 4.8.3)
            return f"!sameTerm({v}, {term(p)})"
        if name == "class":
            return f"NOT EXISTS {{ {self.instance_of(v, p)} }}"
        if name == "datatype":
            return f"!(isLiteral({v}) && datatype({v}) = {term(p)} && {well_formed(str(p), v)})"
        if name == "nodeKind":
            return f"!({node_kind_test(str(p), v)})"
        comparisons = {
            "minExclusive": ">",
            "minInclusive": ">=",
            "maxExclusive": "<",
            "maxInclusive": "<=",
        }
        if name in comparisons:
            return f"!COALESCE({v} {comparisons[name]} {term(p)}, false)"
        if name in ("minLength", "maxLength"):
            op = ">=" if name == "minLength" else "<="
            return f"(isBlank({v}) || !COALESCE(STRLEN(STR({v})) {op} {int(str(p))}, false))"
        if name == "pattern":
            return f"(isBlank({v}) || !regex(STR({v}), {term(p)}{self.flags(p)}))"
        if name == "languageIn":
            tags = [str(t) for t in Collection(self.g, p)]
            tests = " || ".join(f'langMatches(lang({v}), "{t}")' for t in tags) or "false"
            return f'!(isLiteral({v}) && lang({v}) != "" && ({tests}))'
        if name == "in":
            members = [term(m) for m in Collection(self.g, p)]
            return "!(" + (" || ".join(f"sameTerm({v}, {m})" for m in members) or "false") + ")"
        if name in ("node", "not"):
            conforms = self.conforms(p, v)
            return f"!({conforms})" if name == "node" else conforms
        if name in ("and", "or", "xone"):
            parts = [self.conforms(s, v) for s in Collection(self.g, p)]
            if name == "and":
                return "!(" + (" && ".join(parts) or "true") + ")"
            if name == "or":
                return "!(" + (" || ".join(parts) or "false") + ")"
            ones = " + ".join(f"IF({part}, 1, 0)" for part in parts) or "0"
            return f"({ones}) != 1"
        raise UnsupportedShape(f"sh:{name}")

    def flags(self, pattern: Node) -> str:
        for subject in self.g.subjects(sh("pattern"), pattern):
            flags = self.g.value(subject, sh("flags"))
            if flags is not None:
                return f", {term(flags)}"
        return ""

    def conforms(self, shape: Node, v: str) -> str:
        """An expression true when ``v`` conforms to ``shape`` (for sh:node, not, and, or, xone)."""
        if shape in self._stack:
            raise UnsupportedShape(f"recursive shape {show(shape)}")
        self.ensure_supported(shape)
        self._stack.append(shape)
        try:
            path_node = self.g.value(shape, sh("path"))
            if path_node is not None:
                return self.property_conforms(shape, v)
            tests = []
            for name, parameter in self.parameters(shape):
                if name in FOCUS_LEVEL and name != "hasValue":
                    raise UnsupportedShape(f"sh:{name} on node shape {show(shape)}")
                tests.append(f"!({self.value_violation(name, parameter, v)})")
            tests.extend(
                self.property_conforms(p, v) for p in self.g.objects(shape, sh("property"))
            )
            return "(" + (" && ".join(tests) or "true") + ")"
        finally:
            self._stack.pop()

    def property_conforms(self, prop: Node, v: str) -> str:
        """An expression true when ``v`` conforms to the property shape ``prop``."""
        self.ensure_supported(prop)
        path_node = self.g.value(prop, sh("path"))
        if path_node is None:
            raise UnsupportedShape(f"property shape {show(prop)} has no sh:path")
        path = self.path(path_node)
        tests = []
        for name, parameter in self.parameters(prop):
            if name in FOCUS_LEVEL:
                tests.append(f"!({self.focus_violation(name, parameter, v, path)})")
            else:
                value = self.fresh()
                violation = self.value_violation(name, parameter, value)
                tests.append(f"NOT EXISTS {{ {v} {path} {value} . FILTER({violation}) }}")
        if any(True for _ in self.g.objects(prop, sh("property"))):
            raise UnsupportedShape(f"nested sh:property under property shape {show(prop)}")
        return "(" + (" && ".join(tests) or "true") + ")"


def distinct_values(focus: str, path: str, values: list[str]) -> str:
    """A pattern matching ``len(values)`` pairwise distinct values of ``path`` from ``focus``."""
    triples = " ".join(f"{focus} {path} {value} ." for value in values)
    different = [f"!sameTerm({a}, {b})" for i, a in enumerate(values) for b in values[i + 1 :]]
    return triples + (f" FILTER({' && '.join(different)})" if different else "")


def node_kind_test(kind: str, v: str) -> str:
    tests = {
        "IRI": f"isIRI({v})",
        "BlankNode": f"isBlank({v})",
        "Literal": f"isLiteral({v})",
        "BlankNodeOrIRI": f"(isBlank({v}) || isIRI({v}))",
        "BlankNodeOrLiteral": f"(isBlank({v}) || isLiteral({v}))",
        "IRIOrLiteral": f"(isIRI({v}) || isLiteral({v}))",
    }
    return tests[kind.rsplit("#", 1)[-1]]


def default_message(name: str, parameter: Node, path: str | None) -> str:
    where = f" of {path}" if path else ""
    shown = "" if isinstance(parameter, BNode) else f" {show(parameter)}"
    return f"value{where} breaks sh:{name}{shown}"


def compile_shapes(shapes: Graph, subclasses: Subclasses | None = None) -> list[Check]:
    """Compile every targeted shape of ``shapes`` (see :class:`Compiler` for ``subclasses``).

    :raises UnsupportedShape: naming the first shape or term that cannot be compiled.
    """
    return Compiler(shapes, subclasses).checks()
