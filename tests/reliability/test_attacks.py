"""Attacks on a real writable ``kg serve``: each refused with the right status, nothing changed.

Requests are sent byte for byte (http.client, no normalisation of ``..`` or escapes). An attack
is *let through* when its status is not one of the expected ones, when a 127.0.0.1 listener
it points at receives any connection, when the response carries an injected header, leaks a
file, or returns markup unescaped, or when the dataset (sorted N-Quads of the dump) changed.
"""

# The attack tables read best one attack per line, however long.
# ruff: noqa: E501

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import quote, urlencode

import pytest
import requests
from tests.listener import Listener
from tests.reliability.conftest import Figures, add, make_project
from tests.reliability.serving import (
    AUTH,
    TOKEN,
    KgServer,
    RawResponse,
    dump_digest,
    raw_request,
    running_server,
)

from graph.build.embedded import build
from graph.core.namespaces import CANONICAL_BASE
from graph.store import MAX_QUERY_NESTING

MAX_BODY = 64 * 1024
NEWS = CANONICAL_BASE + "graph/alliance-news"
ORG = CANONICAL_BASE + "id/organization/"
NT = "application/n-triples"
TRIPLE = b"<urn:attack:s> <urn:attack:p> <urn:attack:o> .\n"
FORM = "application/x-www-form-urlencoded"
MARKUP = ("<script>alert(1)</script>", '"><img src=x onerror=alert(1)>')
#: Text of files a traversal must never return.
LEAKS = (b"root:x:0:0", b"from __future__ import annotations")


@dataclass(frozen=True)
class Attack:
    name: str
    method: str
    target: str
    body: bytes | None = None
    headers: tuple[tuple[str, str], ...] = ()
    expect: frozenset[int] = frozenset({401})
    chunked: bool = False

    def send(self, port: int) -> RawResponse:
        return raw_request(
            port, self.method, self.target, self.body, dict(self.headers), chunked=self.chunked
        )


def form(**fields: str) -> bytes:
    return urlencode(fields).encode()


def multipart(content: bytes, media_type: str = NT) -> tuple[bytes, str]:
    boundary = "kgboundary7"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.nt"\r\n'
            f"Content-Type: {media_type}\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


UPDATE = "INSERT DATA { GRAPH <urn:attack:g> { <urn:attack:s> <urn:attack:p> <urn:attack:o> } }"
#: Authorization headers that must not open writes.
BAD_AUTH: list[tuple[tuple[str, str], ...]] = [
    (),
    (("Authorization", "Bearer wrong-token"),),
    (("Authorization", f"Bearer {TOKEN}x"),),
    (("Authorization", f"Basic {TOKEN}"),),
    (("Authorization", "Bearer "),),
    (("Authorization", f"Bearer{TOKEN}"),),
]


def unauthorised_writes() -> list[Attack]:
    graph = "/store?graph=" + quote(NEWS, safe="")
    parts, parts_type = multipart(TRIPLE)
    attacks = []
    for auth in BAD_AUTH:
        attacks += [
            Attack("update form", "POST", "/sparql", form(update=UPDATE), (("Content-Type", FORM), *auth)),
            Attack("update direct", "POST", "/sparql", UPDATE.encode(), (("Content-Type", "application/sparql-update"), *auth)),
            Attack("update via GET", "GET", "/sparql?" + urlencode({"update": UPDATE}), None, auth, frozenset({400, 401, 405})),
            Attack("GSP PUT", "PUT", graph, TRIPLE, (("Content-Type", NT), *auth)),
            Attack("GSP POST", "POST", graph, TRIPLE, (("Content-Type", NT), *auth)),
            Attack("GSP POST new graph", "POST", "/store", TRIPLE, (("Content-Type", NT), *auth)),
            Attack("GSP DELETE", "DELETE", graph, None, auth),
            Attack("GSP direct PUT", "PUT", "/graph/alliance-news", TRIPLE, (("Content-Type", NT), *auth)),
            Attack("GSP direct DELETE", "DELETE", "/graph/alliance-news", None, auth),
            Attack("GSP multipart", "POST", graph, parts, (("Content-Type", parts_type), *auth)),
        ]  # fmt: skip
    return attacks


def remote_fetches(listener: str) -> list[Attack]:
    """Authorised or not, nothing may make the server connect to ``listener``."""
    service = f"SELECT * WHERE {{ SERVICE <{listener}sparql> {{ ?s ?p ?o }} }}"
    construct = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ SERVICE <{listener}> {{ ?s ?p ?o }} }}"
    auth = tuple(AUTH.items())
    # Refused by the allow-list check (403) or, in a sandboxed worker, failing there (400).
    forbidden = frozenset({400, 403})
    jsonld = f'{{"@context": "{listener}context.jsonld", "@id": "urn:a", "urn:p": "x"}}'
    xxe = (
        f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY e SYSTEM "{listener}entity">]>'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="urn:a"><rdf:value>&e;</rdf:value></rdf:Description>'
        "</rdf:RDF>"
    )
    graph = "/store?graph=" + quote(listener + "x", safe="")
    return [
        Attack("SERVICE GET", "GET", "/sparql?" + urlencode({"query": service}), expect=forbidden),
        Attack("SERVICE POST", "POST", "/sparql", form(query=service), (("Content-Type", FORM),), forbidden),
        Attack("SERVICE in update", "POST", "/sparql", form(update=f"INSERT {{ ?s ?p ?o }} WHERE {{ SERVICE <{listener}> {{ ?s ?p ?o }} }}"), (("Content-Type", FORM), *auth), forbidden),
        Attack("LOAD", "POST", "/sparql", form(update=f"LOAD <{listener}data.ttl>"), (("Content-Type", FORM), *auth), forbidden),
        Attack("LOAD INTO GRAPH", "POST", "/sparql", form(update=f"LOAD SILENT <{listener}data.ttl> INTO GRAPH <urn:attack:g>"), (("Content-Type", FORM), *auth), forbidden | {204}),  # SILENT: the sandbox's failure is ignored
        Attack("SERVICE in explorer", "GET", "/explore/elements.json?" + urlencode({"query": construct}), expect=forbidden),
        Attack("SERVICE in export", "GET", "/export/graphml?" + urlencode({"query": construct}), expect=forbidden),
        Attack("SERVICE in RDF export", "GET", "/export/nquads?" + urlencode({"query": construct}), expect=forbidden),
        Attack("FROM a URL", "GET", "/sparql?" + urlencode({"query": f"SELECT * FROM <{listener}x> WHERE {{ ?s ?p ?o }}"}), expect=frozenset({200})),
        Attack("default-graph-uri a URL", "GET", "/sparql?" + urlencode({"query": "ASK { ?s ?p ?o }", "default-graph-uri": listener}), expect=frozenset({200})),
        Attack("using-graph-uri a URL", "POST", "/sparql?" + urlencode({"using-graph-uri": listener}), b"DELETE { ?s ?p ?o } WHERE { ?s <urn:none> ?o }", (("Content-Type", "application/sparql-update"), *auth), frozenset({204})),
        Attack("GSP GET of a URL graph", "GET", graph, expect=frozenset({404})),
        Attack("JSON-LD remote context", "PUT", "/store?graph=urn:attack:g", jsonld.encode(), (("Content-Type", "application/ld+json"), *auth), frozenset({400})),
        Attack("RDF/XML external entity", "PUT", "/store?graph=urn:attack:g", xxe.encode(), (("Content-Type", "application/rdf+xml"), *auth), frozenset({400})),
    ]  # fmt: skip


def header_injections() -> list[Attack]:
    crlf = "%0d%0aX-Injected:%20yes"
    bare = "%0aX-Injected:%20yes"
    ok = frozenset({200, 303, 400, 404, 406})
    return [
        Attack("CRLF in query", "GET", f"/sparql?query=ASK%20%7B%7D{crlf}", expect=ok),
        Attack("CRLF in format", "GET", f"/sparql?query=ASK%20%7B%7D&format=json{crlf}", expect=ok),
        Attack("LF in format", "GET", f"/dataset?format=ttl{bare}", expect=ok),
        Attack("CRLF in graph IRI", "GET", f"/store?graph=urn:a{crlf}", expect=ok),
        Attack("CRLF in resource path", "GET", f"/id/organization/weprotect{crlf}", expect=ok),
        Attack("CRLF in resource format", "GET", f"/id/organization/weprotect?format=ttl{crlf}", expect=ok),
        Attack("CRLF in doc path", "GET", f"/doc/organization/weprotect{crlf}.ttl", expect=ok),
        Attack("CRLF in export name", "GET", f"/export/gexf{crlf}", expect=ok),
        Attack("CRLF in a created graph", "PUT", f"/store?graph=urn:a{crlf}", TRIPLE, (("Content-Type", NT), *AUTH.items()), frozenset({400})),
        Attack("CRLF in direct graph name", "PUT", f"/graph/x{crlf}", TRIPLE, (("Content-Type", NT), *AUTH.items()), frozenset({400, 404})),
    ]  # fmt: skip


def traversals() -> list[Attack]:
    four = frozenset({400, 404, 405})
    return [
        Attack("dot segments in /id", "GET", "/id/../../etc/passwd", expect=four),
        Attack("encoded dot segments in /id", "GET", "/id/%2e%2e%2f%2e%2e%2fetc%2fpasswd", expect=four),
        Attack("encoded dots in /doc", "GET", "/doc/..%2f..%2f..%2fetc%2fpasswd.ttl", expect=four),
        Attack("dot segments in /static", "GET", "/static/../../../../etc/passwd", expect=four),
        Attack("encoded dots in /static", "GET", "/static/..%2f..%2fapp.py", expect=four),
        Attack("double-encoded dots in /static", "GET", "/static/%252e%252e%252fapp.py", expect=four),
        Attack("dot segments in /graph", "GET", "/graph/..%2f..%2f..%2fetc%2fpasswd", expect=four),
        Attack("file IRI graph", "GET", "/store?graph=" + quote("file:///etc/passwd", safe=""), expect=four),
        Attack("file IRI graph PUT", "PUT", "/store?graph=" + quote("file:///etc/passwd", safe=""), b"", (("Content-Type", NT),), frozenset({401})),
        Attack("relative graph IRI", "GET", "/store?graph=../../etc/passwd", expect=four),
        Attack("dot segments in dump", "GET", "/dumps/..%2f..%2fetc%2fpasswd", expect=four),
        Attack("dot segments in export", "GET", "/export/..%2f..%2fetc%2fpasswd", expect=four),
        Attack("file URL FROM", "GET", "/sparql?" + urlencode({"query": "SELECT * FROM <file:///etc/passwd> { ?s ?p ?o }"}), expect=frozenset({200})),
        Attack("LOAD a file URL", "POST", "/sparql", form(update="LOAD <file:///etc/passwd>"), (("Content-Type", FORM), *AUTH.items()), frozenset({400, 403})),
    ]  # fmt: skip


def oversize_and_nesting() -> list[Attack]:
    big = b"#" * (MAX_BODY + 1024)
    deep = MAX_QUERY_NESTING * 5
    nested_query = "ASK {" + "{" * deep + "}" * deep + "}"
    nested_update = "INSERT DATA {" + "{" * deep + "}" * deep + "}"
    turtle = b"<urn:a> <urn:b> " + b"[ <urn:b> " * 3000 + b"]" * 3000 + b" ."
    jsonld = b'{"@id": "urn:a", "urn:b": ' + b'{"urn:b": ' * 4000 + b'"x"' + b"}" * 4001
    parts, parts_type = multipart(big)
    auth = tuple(AUTH.items())
    too_big, bad = frozenset({413}), frozenset({400})
    return [
        Attack("oversize query", "POST", "/sparql", big, (("Content-Type", "application/sparql-query"),), too_big),
        Attack("oversize form", "POST", "/sparql", form(query=big.decode()), (("Content-Type", FORM),), too_big),
        Attack("oversize update", "POST", "/sparql", big, (("Content-Type", "application/sparql-update"), *auth), too_big),
        Attack("oversize PUT", "PUT", "/store?graph=urn:attack:g", big, (("Content-Type", NT), *auth), too_big),
        Attack("oversize chunked PUT", "PUT", "/store?graph=urn:attack:g", big, (("Content-Type", NT), *auth), too_big, chunked=True),
        Attack("oversize chunked query", "POST", "/sparql", big, (("Content-Type", "application/sparql-query"),), too_big, chunked=True),
        Attack("oversize multipart", "POST", "/store?graph=urn:attack:g", parts, (("Content-Type", parts_type), *auth), too_big),
        Attack("nested query", "POST", "/sparql", nested_query.encode(), (("Content-Type", "application/sparql-query"),), bad),
        Attack("nested query GET", "GET", "/sparql?" + urlencode({"query": "ASK {" + "{" * 300 + "}" * 300 + "}"}), expect=bad),
        Attack("nested update", "POST", "/sparql", nested_update.encode(), (("Content-Type", "application/sparql-update"), *auth), bad),
        Attack("nested explorer query", "GET", "/explore/elements.json?" + urlencode({"query": "CONSTRUCT WHERE {" + "{" * 300 + "}" * 300 + "}"}), expect=bad),
        Attack("nested Turtle body", "PUT", "/store?graph=urn:attack:g", turtle, (("Content-Type", "text/turtle"), *auth), bad),
        Attack("nested JSON-LD body", "PUT", "/store?graph=urn:attack:g", jsonld, (("Content-Type", "application/ld+json"), *auth), bad),
    ]  # fmt: skip


#: Every attack group, by name (the doc test counts them from here).
GROUPS = {
    "unauthorised_writes": unauthorised_writes,
    "header_injections": header_injections,
    "path_traversals": traversals,
    "oversize_and_nested": oversize_and_nesting,
}


def planned_attacks() -> int:
    """Attacks one run tries (markup attacks counted per page and payload)."""
    listener = "http://127.0.0.1:9/"
    return (
        sum(len(make()) for make in GROUPS.values())
        + len(remote_fetches(listener))
        + URL_GRAPH_ATTACKS
        + len(MARKUP) * len(MARKUP_PAGES)
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KgServer]:
    root = tmp_path_factory.mktemp("attacks")
    project = make_project(root / "project")
    (project / "queries").mkdir()
    (project / "queries" / "markup.rq").write_text(
        f"# {MARKUP[0]} {MARKUP[1]}\nSELECT * WHERE {{ ?s ?p ?o }} LIMIT 1 # </script>\n"
    )
    build(project, root / "store", CANONICAL_BASE)
    settings = {"max_body": str(MAX_BODY), "query_timeout": "5"}
    with running_server(root / "store", project, root / "serve.log", **settings) as running:
        yield running


def judge(attack: Attack, response: RawResponse, figures: Figures) -> str | None:
    """Why the attack got through, or None if it was refused properly."""
    add(figures, "attacks_tried", 1)
    figures.setdefault("attacks_let_through", 0)
    problem = None
    names = {name.lower() for name, _ in response.headers}
    if response.status not in attack.expect:
        problem = f"status {response.status}: {response.body[:200]!r}"
    elif "x-injected" in names:
        problem = "an injected header came back"
    elif any(leak in response.body for leak in LEAKS):
        problem = "file content in the body"
    if problem:
        add(figures, "attacks_let_through", 1)
        return f"{attack.name} ({attack.method} {attack.target[:80]}): {problem}"
    return None


@pytest.mark.parametrize("group", sorted(GROUPS))
def test_attacks_are_refused_and_change_nothing(
    server: KgServer, figures: Figures, group: str
) -> None:
    before = dump_digest(server.url)
    problems = [
        problem
        for attack in GROUPS[group]()
        if (problem := judge(attack, attack.send(server.port), figures))
    ]
    assert problems == []
    assert dump_digest(server.url) == before, "an attack changed the dataset"
    assert requests.get(server.url + "/health", timeout=30).ok


def test_nothing_fetches_a_url_given_to_the_server(server: KgServer, figures: Figures) -> None:
    listener = Listener()
    try:
        before = dump_digest(server.url)
        attacks = remote_fetches(listener.url)
        problems = [p for a in attacks if (p := judge(a, a.send(server.port), figures))]
        assert dump_digest(server.url) == before
        # A graph named by a URL is only a name: stored and read back, never fetched.
        graph = listener.url + "x"
        put = requests.put(
            server.url + "/store",
            params={"graph": graph},
            data=TRIPLE,
            headers={**AUTH, "Content-Type": NT},
            timeout=30,
        )
        back = requests.get(server.url + "/store", params={"graph": graph, "format": "nt"})
        add(figures, "attacks_tried", URL_GRAPH_ATTACKS)
        if put.status_code != 201 or back.content.strip() != TRIPLE.strip():
            problems.append(f"URL graph: PUT {put.status_code}, GET {back.content[:200]!r}")
        if listener.connections:
            problems.append(f"the listener received {listener.connections} connection(s)")
        add(figures, "attacks_let_through", len(problems) - len([p for p in problems if not p]))
        assert problems == []
    finally:
        listener.sock.close()


#: The GSP PUT and GET of a graph named by a URL (counted as attacks).
URL_GRAPH_ATTACKS = 2
#: Pages where a label (or a query title) with markup shows up.
MARKUP_PAGES = (
    "/doc/organization/markup-test.html",
    "/explore?query={payload}",
    "/id/{payload}",
    "/",
)


def test_markup_in_labels_is_escaped_on_every_page(server: KgServer, figures: Figures) -> None:
    labels = " ".join(f'rdfs:label "{m}"@en ;' for m in (m.replace('"', '\\"') for m in MARKUP))
    update = (
        "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
        f"INSERT DATA {{ GRAPH <urn:attack:labels> {{ <{ORG}markup-test> {labels}"
        ' rdfs:comment "x" . } }'
    )
    written = requests.post(server.url + "/sparql", data={"update": update}, headers=AUTH)
    assert written.status_code == 204, written.text
    problems = []
    for payload in MARKUP:
        for page in MARKUP_PAGES:
            target = page.format(payload=quote(payload, safe=""))
            response = raw_request(server.port, "GET", target, headers={"Accept": "text/html"})
            add(figures, "attacks_tried", 1)
            body = response.body.decode("utf-8", "replace")
            if response.status >= 500 or payload in body:
                add(figures, "attacks_let_through", 1)
                problems.append(f"{target}: {response.status}, markup unescaped")
            elif "markup-test" in page and "&lt;script&gt;" not in body:
                problems.append(f"{target}: the label is not shown (escaped) at all")
    # The explorer's data is JSON, which a browser never renders as a page.
    elements = requests.get(server.url + "/explore/elements.json", timeout=30)
    assert elements.headers["Content-Type"].startswith("application/json")
    assert MARKUP[0] in elements.text  # the data itself is kept as written
    assert problems == []
