"""The W3C SPARQL 1.1 Protocol and Graph Store Protocol cases, read from their manifests.

Each case (``mf:ProtocolTest``, ``mf:GraphStoreProtocolTest``) is a list of HTTP requests in
the W3C HTTP vocabulary (https://www.w3.org/TR/HTTP-in-RDF10/) with what each response must be:
a status (``mf:expectedStatus``), a results format and an ASK answer (``mf:expectedFormat``,
``mf:expectedBoolean``), a Content-Type and a graph (``ht:headers``, ``ht:body``), and a
Location kept for later requests (``mf:expectedLocation``). ``ut:graphData`` names the graphs a
case expects in the store before it starts. The manifests' comments explain the encoding.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from rdflib import RDF, Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.term import Node

HERE = Path(__file__).parent
MANIFESTS = (
    HERE / "protocol" / "manifest.ttl",
    HERE / "graph-store-protocol" / "manifest-direct.ttl",
    HERE / "graph-store-protocol" / "manifest-indirect.ttl",
)
MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
HT = Namespace("http://www.w3.org/2011/http#")
HTS = Namespace("http://www.w3.org/2011/http-statusCodes#")
CNT = Namespace("http://www.w3.org/2011/content#")
UT = Namespace("http://www.w3.org/2009/sparql/tests/test-update#")
RDFS = Namespace("http://www.w3.org/2000/01/rdf-schema#")

#: Status terms of the manifests, as ranges of codes.
STATUSES = {
    HTS.StatusCode2xx: range(200, 300),
    HTS.StatusCode3xx: range(300, 400),
    HTS.StatusCode4xx: range(400, 500),
    HTS.OK: range(200, 201),
    HTS.Created: range(201, 202),
    HTS.NoContent: range(204, 205),
    HTS.NotFound: range(404, 405),
}


@dataclass(frozen=True)
class Expected:
    """What a response must be."""

    statuses: tuple[range, ...]
    result_format: str | None = None  # "boolean", "tabular" or "RDF"
    boolean: bool | None = None
    content_type: str | None = None
    graph: str | None = None  # Turtle the body must be isomorphic to
    location: str | None = None  # template variable the Location header fills

    def allows(self, status: int) -> bool:
        """True if ``status`` is one of the expected ones."""
        return any(status in codes for codes in self.statuses)


@dataclass(frozen=True)
class Request:
    """One HTTP request of a case, with its path as the manifest gives it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes | None
    expected: Expected


@dataclass(frozen=True)
class Case:
    """One W3C case: its local name, the graphs it needs loaded, its requests in order."""

    name: str
    title: str
    graph_data: dict[str, Path] = field(default_factory=dict)
    requests: tuple[Request, ...] = ()


def load_cases() -> list[Case]:
    """Every case defined in the manifests, in the order of the files."""
    cases: list[Case] = []
    for path in MANIFESTS:
        graph = Graph().parse(path, format="turtle", publicID=path.as_uri())
        tests = [*graph.subjects(RDF.type, MF.ProtocolTest)]
        tests += [*graph.subjects(RDF.type, MF.GraphStoreProtocolTest)]
        cases += sorted((_case(graph, node, path.parent) for node in tests), key=_line(path))
    return cases


def _line(path: Path) -> object:
    text = path.read_text()
    return lambda case: text.find(f":{case.name} rdf:type")


def _case(graph: Graph, node: Node, folder: Path) -> Case:
    name = str(node).rsplit("#", 1)[1]
    graph_data = {}
    for data in graph.objects(node, UT.graphData):
        label = str(graph.value(data, RDFS.label))
        file = str(graph.value(data, UT.graph)).rsplit("/", 1)[1]
        graph_data[label] = folder / file
    action = graph.value(node, MF.action)
    requests = Collection(graph, graph.value(action, HT.requests))
    return Case(
        name,
        str(graph.value(node, MF.name)),
        graph_data,
        tuple(_request(graph, r) for r in requests),
    )


def _request(graph: Graph, node: Node) -> Request:
    response = graph.value(node, HT.resp)
    return Request(
        method=str(graph.value(node, HT.methodName)),
        path=str(graph.value(node, HT.absolutePath)),
        headers=_headers(graph, node),
        body=_body(graph, node),
        expected=_expected(graph, response),
    )


def _headers(graph: Graph, node: Node) -> dict[str, str]:
    listed = graph.value(node, HT.headers)
    if listed is None:
        return {}
    return {
        str(graph.value(h, HT.fieldName)).lower(): str(graph.value(h, HT.fieldValue))
        for h in Collection(graph, listed)
    }


def _body(graph: Graph, node: Node) -> bytes | None:
    body = graph.value(node, HT.body)
    if body is None:
        return None
    encoding = str(graph.value(body, CNT.characterEncoding) or "UTF-8")
    # Python's "UTF-16" writes a byte order mark, as a UTF-16 body on the wire starts with.
    return str(graph.value(body, CNT.chars)).encode(encoding)


def _expected(graph: Graph, response: Node) -> Expected:
    statuses = tuple(STATUSES[s] for s in graph.objects(response, MF.expectedStatus))  # type: ignore[index]
    boolean = graph.value(response, MF.expectedBoolean)
    location = graph.value(response, MF.expectedLocation)
    body = graph.value(response, HT.body)
    result_format = graph.value(response, MF.expectedFormat)
    return Expected(
        statuses,
        str(result_format) if result_format is not None else None,
        bool(boolean.toPython()) if isinstance(boolean, Literal) else None,
        _headers(graph, response).get("content-type"),
        str(graph.value(body, CNT.chars)) if body is not None else None,
        str(location) if location is not None else None,
    )


__all__ = ["Case", "Expected", "Request", "URIRef", "load_cases"]
