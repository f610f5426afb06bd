"""What the conformance of a focus node reads, worked out from the shapes graph (issue 12).

Walking the shapes from every targeted shape, a node shape applies at some depth (0: the focus
node; k: a node k forward path steps away from it) and each constraint reads statements of the
node it applies at: ``sh:class`` its ``rdf:type``, ``sh:closed`` all of them, ``sh:equals`` and
the like one predicate, a property shape the predicates of each step of its path (one step per
predicate or alternative, a sequence one step per member), its values then being one step
deeper; ``sh:node``, ``sh:not``, ``sh:and``, ``sh:or``, ``sh:xone`` apply their shapes at the same
node. Other constraints (``sh:datatype``, ``sh:languageIn``, counts, ...) read the terms only.
The focus node's own statements are all read (its targets are among them). Anything that reads
the nodes pointing at a node (``sh:inversePath``, ``sh:targetObjectsOf``), has no bound on the
depth (``sh:zeroOrMorePath`` and the like, recursive shapes) or is not listed here (SPARQL-based
constraints, ``sh:qualifiedValueShape``, any unknown ``sh:`` term) gives no :class:`Reach`: such
shapes are validated on the whole store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from rdflib import RDF, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.term import Node

from graph.core.namespaces import SH
from graph.validation.compile import words

#: Deepest node the walk follows (a bound on the work per change, not a SHACL limit).
MAX_DEPTH = 4
#: Constraints on the value terms alone, and terms that describe a shape (section 2, 4).
TERMS_ONLY = frozenset(words(
    "datatype nodeKind minExclusive minInclusive maxExclusive maxInclusive minLength maxLength "
    "pattern flags languageIn uniqueLang in hasValue minCount maxCount ignoredProperties "
    "message severity deactivated name description order group defaultValue path "
    "targetClass targetNode targetSubjectsOf NodeShape PropertyShape Shape"
))
#: Constraints comparing the values with another predicate of the node the shape applies at.
PAIRS = frozenset(words("equals disjoint lessThan lessThanOrEquals"))
#: Constraints applying shapes at the same node: one shape, or a list of them.
ONE_SHAPE = frozenset({"node", "not"})
SHAPE_LISTS = frozenset({"and", "or", "xone"})
RDF_TYPE = str(RDF.type)


class Outside(Exception):
    """The shapes read more than a bounded forward neighbourhood; the message says what."""


@dataclass(frozen=True)
class Reach:
    """What a focus node's conformance reads beyond its own statements.

    ``steps[k]``: the predicates followed from the nodes at depth k to those at depth k + 1;
    ``reads[k]``: the predicates read of the nodes at depth k (k >= 1); ``everything``: the
    depths at which every statement of a node is read (``sh:closed``).
    """

    steps: dict[int, frozenset[str]] = field(default_factory=dict)
    reads: dict[int, frozenset[str]] = field(default_factory=dict)
    everything: frozenset[int] = frozenset()

    @property
    def depth(self) -> int:
        """The deepest depth at which something is read (0: the focus node's statements only)."""
        return max([0, *self.reads, *self.everything])

    def read_at(self, depth: int, predicate: str) -> bool:
        """Whether a statement of ``predicate`` about a node at ``depth`` can be read."""
        return depth in self.everything or predicate in self.reads.get(depth, frozenset())


@lru_cache(maxsize=8)
def reach(shapes: Graph) -> Reach | None:
    """What the shapes read beyond each focus node's statements, or None if it is unbounded."""
    walk = _Walk(shapes)
    try:
        if any(True for _ in shapes.subjects(URIRef(SH + "targetObjectsOf"), None)):
            raise Outside("sh:targetObjectsOf reads the nodes pointing at the focus node")
        for shape in _targeted(shapes):
            walk.shape(shape, 0, ())
    except Outside:
        return None
    return walk.result()


def _targeted(shapes: Graph) -> set[Node]:
    """Shapes with a target, and shapes that are classes (implicit class targets, 2.1.3.3)."""
    found: set[Node] = set()
    for predicate in ("targetClass", "targetNode", "targetSubjectsOf"):
        found.update(shapes.subjects(URIRef(SH + predicate), None))
    for cls in (URIRef("http://www.w3.org/2000/01/rdf-schema#Class"),
                URIRef("http://www.w3.org/2002/07/owl#Class")):  # fmt: skip
        found.update(shapes.subjects(RDF.type, cls))
    return found


class _Walk:
    """Collects the steps and reads of every shape reachable from the targeted ones."""

    def __init__(self, shapes: Graph) -> None:
        self.g = shapes
        self.steps: dict[int, set[str]] = {}
        self.reads: dict[int, set[str]] = {}
        self.everything: set[int] = set()
        #: How many reads beyond the focus node were recorded (to tell whether a path's values
        #: are read: a step whose values nothing reads need not be followed).
        self.marks = 0

    def result(self) -> Reach:
        return Reach(
            {k: frozenset(v) for k, v in self.steps.items()},
            {k: frozenset(v) for k, v in self.reads.items() if k > 0 and v},
            frozenset(k for k in self.everything if k > 0),
        )

    def read(self, depth: int, predicates: set[str], everything: bool = False) -> None:
        if depth > MAX_DEPTH:
            raise Outside(f"the shapes read nodes deeper than {MAX_DEPTH} steps")
        self.reads.setdefault(depth, set()).update(predicates)
        if everything:
            self.everything.add(depth)
        self.marks += depth > 0

    def shape(self, shape: Node, depth: int, stack: tuple[Node, ...]) -> None:
        """Record what ``shape`` reads when it applies at a node at ``depth``: a property
        shape reads its path's steps, its constraints then apply at its values."""
        if shape in stack:
            raise Outside(f"recursive shape {shape}")
        stack = (*stack, shape)
        path = self.g.value(shape, URIRef(SH + "path"))
        hops = [] if path is None else self.hops(path)
        marks = self.marks
        for predicate, value in self.g.predicate_objects(shape):
            if str(predicate).startswith(SH):
                name = str(predicate)[len(SH) :]
                self.constraint(shape, name, value, depth, depth + len(hops), stack)
        deeper = self.marks > marks
        for i, predicates in enumerate(hops):
            self.read(depth + i, predicates)
            if deeper or i < len(hops) - 1:
                self.steps.setdefault(depth + i, set()).update(predicates)

    def constraint(
        self, shape: Node, name: str, value: Node, depth: int, at: int, stack: tuple[Node, ...]
    ) -> None:
        """Record what constraint ``sh:name value`` of ``shape`` reads: of the node at
        ``depth`` (sh:equals and the like), or of the values, at ``at``."""
        if name in TERMS_ONLY:
            return
        if name in PAIRS and isinstance(value, URIRef):
            self.read(depth, {str(value)})
        elif name == "class":
            self.read(at, {RDF_TYPE})
        elif name == "closed":
            if value == Literal(True):  # where pySHACL applies it on a property shape: both
                self.read(depth, set(), everything=True)
                self.read(at, set(), everything=True)
        elif name in ONE_SHAPE or name == "property":
            self.shape(value, at, stack)
        elif name in SHAPE_LISTS:
            for member in Collection(self.g, value):
                self.shape(member, at, stack)
        else:
            raise Outside(f"sh:{name} on {shape} is not in the per-change subset")

    def hops(self, path: Node) -> list[set[str]]:
        """The predicates of each step of ``path`` (section 2.3.1), forward paths only."""
        if isinstance(path, URIRef):
            return [{str(path)}]
        if (path, RDF.first, None) in self.g:  # sequence path
            return [hop for member in Collection(self.g, path) for hop in self.hops(member)]
        alternatives = self.g.value(path, URIRef(SH + "alternativePath"))
        if alternatives is None:
            raise Outside(f"path {path} is inverse, unbounded or not a SHACL path")
        merged: set[str] = set()
        for member in Collection(self.g, alternatives):
            hops = self.hops(member)
            if len(hops) != 1:
                raise Outside(f"alternative path {path} has a member of more than one step")
            merged |= hops[0]
        return [merged]
