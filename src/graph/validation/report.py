"""SHACL validation of the project's files, with each violation traced to its file and line."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pyshacl
from rdflib import RDF, BNode, Graph, Literal, Namespace, URIRef
from rdflib.term import Node

from graph.core.namespaces import SH as SH_IRI
from graph.sources.files import ParsedFile
from graph.store import NamedNode, RdfFormat, serialize_quads
from graph.validation.naming import shape_name

SH = Namespace(SH_IRI)


@dataclass(frozen=True)
class Violation:
    """One SHACL validation result, located in the file that describes its focus node."""

    file: str
    line: int | None
    focus: str
    path: str
    value: str
    message: str
    severity: str
    constraint: str
    shape: str

    def location(self) -> str:
        """``file:line`` where the focus node is first described."""
        return f"{self.file}:{self.line}" if self.line else self.file


@dataclass
class Report:
    """The outcome of validating a set of files."""

    violations: list[Violation] = field(default_factory=list)
    results: Graph = field(default_factory=Graph)

    @property
    def conforms(self) -> bool:
        """True when there is no result at all (warnings count too)."""
        return not self.violations

    def to_text(self) -> str:
        """One block per violation: where, focus node, path, value, message."""
        lines = []
        for v in self.violations:
            lines.append(f"{v.location()}: {v.severity}: {v.message}")
            lines.append(f"    focus node: {v.focus}")
            if v.path:
                lines.append(f"    path:       {v.path}")
            if v.value:
                lines.append(f"    value:      {v.value}")
            lines.append(f"    constraint: {v.constraint} (shape {v.shape})")
        count = len(self.violations)
        lines.append("Conforms." if self.conforms else f"{count} violation(s).")
        return "\n".join(lines)

    def to_json(self) -> str:
        """The violations as a JSON object; a field with nothing known (no file for a write
        over HTTP, no path for a node constraint) is left out rather than sent empty."""
        violations = [
            {k: v for k, v in asdict(one).items() if v not in ("", None)} for one in self.violations
        ]
        payload = {"conforms": self.conforms, "violations": violations}
        return json.dumps(payload, indent=2, ensure_ascii=False)

    def to_turtle(self) -> str:
        """The SHACL validation report graph in Turtle."""
        return self.results.serialize(format="turtle")


def to_rdflib(files: Iterable[ParsedFile]) -> Graph:
    """Merge the triples of ``files`` into one rdflib graph (via N-Triples, the fastest path)."""
    graph = Graph()
    for parsed in files:
        graph.parse(data=serialize_quads(parsed.quads, RdfFormat.N_TRIPLES), format="nt")
    return graph


def validate(
    data: Sequence[ParsedFile],
    shapes: Sequence[ParsedFile],
    ontology: Sequence[ParsedFile],
    *,
    context: Sequence[ParsedFile] = (),
) -> Report:
    """Validate ``data`` (plus ``context``, e.g. reference data) against ``shapes``.

    The ontology is mixed into the data graph so that ``rdfs:subClassOf`` counts for targets and
    ``sh:class``, as SHACL 1.0 section 2.1.3.1 expects of the data graph.
    """
    data_graph = to_rdflib([*data, *context])
    return validate_graph(data_graph, to_rdflib(shapes), to_rdflib(ontology), Locator(data))


def validate_graph(data: Graph, shapes: Graph, ontology: Graph, locator: Locator) -> Report:
    """Validate an rdflib graph against ``shapes``, the ontology mixed in (see :func:`validate`).

    The ontology is mixed into a copy of ``data``; ``data`` itself is left as it was.
    """
    _, results, _ = pyshacl.validate(
        data,
        shacl_graph=shapes,
        ont_graph=ontology,
        inference="none",
        abort_on_first=False,
        allow_warnings=False,
        advanced=False,
    )
    violations = [
        locator.violation(results, r, shapes)
        for r in results.subjects(RDF.type, SH.ValidationResult)
    ]
    violations.sort(key=lambda v: (v.file, v.line or 0, v.focus, v.path, v.constraint))
    return Report(violations, results)


class Locator:
    """Finds the file and line that describe a node, for error messages."""

    def __init__(self, files: Sequence[ParsedFile]) -> None:
        self._files = files
        self._subject_file: dict[str, ParsedFile] = {}
        for parsed in files:
            for quad in parsed.quads:
                if isinstance(quad.subject, NamedNode):
                    self._subject_file.setdefault(quad.subject.value, parsed)
        self._texts: dict[Path, list[str]] = {}

    def violation(self, results: Graph, result: Node, shapes: Graph | None = None) -> Violation:
        """Turn one ``sh:ValidationResult`` node into a located :class:`Violation`; its shape
        is named from ``shapes`` when given (graph.validation.naming)."""
        shape = results.value(result, SH.sourceShape)
        focus = results.value(result, SH.focusNode)
        parsed = self._subject_file.get(str(focus)) if isinstance(focus, URIRef) else None
        return Violation(
            file=str(parsed.source.path) if parsed else "",
            line=self.line_of(parsed, str(focus)) if parsed else None,
            focus=_show(focus),
            path=_show(results.value(result, SH.resultPath)),
            value=_show(results.value(result, SH.value)),
            message=str(results.value(result, SH.resultMessage) or "does not conform"),
            severity=_local(results.value(result, SH.resultSeverity)),
            constraint=_local(results.value(result, SH.sourceConstraintComponent)),
            shape=shape_name(shapes, shape) if shapes is not None else _show(shape),
        )

    def line_of(self, parsed: ParsedFile, iri: str) -> int | None:
        """First line of ``parsed``'s file that names ``iri``, in full or with a prefix."""
        spellings = [f"<{iri}>"]
        for prefix, namespace in parsed.prefixes.items():
            if iri.startswith(namespace) and len(iri) > len(namespace):
                spellings.append(f"{prefix}:{iri[len(namespace) :]}")
        path = parsed.source.path
        if path not in self._texts:
            self._texts[path] = path.read_text(encoding="utf-8", errors="replace").splitlines()
        for number, text in enumerate(self._texts[path], start=1):
            if any(_names(text, spelling) for spelling in spellings):
                return number
        return None


def _names(line: str, spelling: str) -> bool:
    """True if ``spelling`` occurs in ``line`` as a whole term."""
    start = line.find(spelling)
    while start != -1:
        end = start + len(spelling)
        before_ok = start == 0 or line[start - 1] in " \t;,[(<"
        after_ok = end == len(line) or line[end] in " \t;,.)]"
        if before_ok and after_ok:
            return True
        start = line.find(spelling, start + 1)
    return False


def _show(node: Node | None) -> str:
    if node is None:
        return ""
    if isinstance(node, BNode):
        return f"_:{node}"
    if isinstance(node, Literal):
        return node.n3()
    return str(node)


def _local(node: Node | None) -> str:
    text = str(node or "")
    return text.rsplit("#", 1)[-1]
