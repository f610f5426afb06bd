"""The requests of the attack campaign (tests/reliability/test_campaign.py): issue 11's payloads.

Every payload here is one an outsider sent, or a generated variant of one; each is a
:class:`Probe` that says which statuses count as handled. ``listener`` is the URL of a
127.0.0.1 listener that must receive nothing.
"""

# The payload tables read best one probe per line, however long.
# ruff: noqa: E501

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlencode

from hypothesis import strategies as st
from tests.reliability.serving import AUTH

FORM = "application/x-www-form-urlencoded"
QUERY = "application/sparql-query"
UPDATE = "application/sparql-update"
#: Refused with a status that names the client's fault, or failing in a sandboxed worker (400).
REFUSED = frozenset({400, 403})
#: SERVICE SILENT: the engine's empty answer (200) where the sandbox makes the call fail.
SILENT = REFUSED | {200}
#: Terms of the flat repetitions of issue 11, item 1.
FLAT = 20_000
#: BINDs and OPTIONALs of issue 11, item 1.
MANY = 3_000
#: Doublings of a 1 kB string by CONCAT (issue 11, item 4: 400-750 MB in about a second).
DOUBLINGS = 18
#: Largest count of terms in a generated flat shape (twice the issue's), and of BINDs/OPTIONALs.
VARIANT_FLAT = 2 * FLAT
VARIANT_MANY = 2 * MANY
#: The allow-list entry of the server that has one (the other runs sandboxed).
ALLOWED = "http://allowed.example/"


@dataclass(frozen=True)
class Probe:
    """One request of the campaign; ``expect`` empty means any answer that is not a 5xx."""

    name: str
    method: str
    target: str
    body: bytes | None = None
    headers: tuple[tuple[str, str], ...] = ()
    expect: frozenset[int] = frozenset()


def query(name: str, text: str, expect: frozenset[int] = frozenset()) -> Probe:
    """A query POSTed as ``application/sparql-query`` (no URL length limit in the way)."""
    return Probe(name, "POST", "/sparql", text.encode(), (("Content-Type", QUERY),), expect)


def update(name: str, text: str, expect: frozenset[int] = frozenset()) -> Probe:
    """An update with the token (writable server only)."""
    headers = (("Content-Type", UPDATE), *AUTH.items())
    return Probe(name, "POST", "/sparql", text.encode(), headers, expect)


def flat_shapes(n: int) -> dict[str, str]:
    """Issue 11, item 1: flat repetition that made the engine recurse until SIGSEGV."""
    return {
        "1+1+…+1": "ASK { FILTER(" + "+".join(["1"] * n) + " > 0) }",
        "&& chain": "ASK { FILTER(" + " && ".join(["true"] * n) + ") }",
        "|| chain": "ASK { FILTER(" + " || ".join(["false"] * n) + ") }",
        "UNIONs": "SELECT * WHERE { " + " UNION ".join(["{ ?s ?p ?o }"] * n) + " }",
        "FILTERs": "ASK { " + "FILTER(true) " * n + "}",
        "property path": "ASK { ?s " + "|".join(["<urn:p>"] * n) + " ?o }",
        "sequence path": "ASK { ?s " + "/".join(["<urn:p>"] * n) + " ?o }",
        "nested brackets": "ASK { " + "{ " * n + "}" * n + " }",
        "nested parentheses": "ASK { FILTER(" + "(" * n + "1" + ")" * n + ") }",
    }


def many_shapes(n: int) -> dict[str, str]:
    return {
        "BINDs": "SELECT * WHERE { " + " ".join(f"BIND({i} AS ?v{i})" for i in range(n)) + " }",
        "OPTIONALs": "SELECT * WHERE { ?s ?p ?o " + "OPTIONAL { ?s ?p ?o } " * n + "}",
    }


def memory_bomb(doublings: int = DOUBLINGS) -> str:
    """A 1 kB query whose string doubles ``doublings`` times (2^18 kB = 256 MB, and more held)."""
    binds = " ".join(f"BIND(CONCAT(?x{i}, ?x{i}) AS ?x{i + 1})" for i in range(doublings))
    seed = "x" * 1000
    return f'SELECT (STRLEN(?x{doublings}) AS ?n) WHERE {{ BIND("{seed}" AS ?x0) {binds} }}'


def service_bypasses(listener: str) -> dict[str, str]:
    """Issue 11, item 2: texts a regex guard read differently from the engine."""
    port = listener.rstrip("/").rsplit(":", 1)[1]
    return {
        "comment ended by CR": f"SELECT * WHERE {{ # x\r SERVICE <{listener}> {{ ?s ?p ?o }} }}",
        "comment ended by CR LF": f"SELECT * WHERE {{ # x\r\n SERVICE <{listener}> {{ ?s ?p ?o }} }}",
        "escaped # in a name": f"PREFIX ex: <urn:x:> SELECT * WHERE {{ BIND(ex:a\\# AS ?x) SERVICE <{listener}> {{ ?s ?p ?o }} }}",
        "escaped ' in a name": f"PREFIX ex: <urn:x:> SELECT * WHERE {{ BIND(ex:a\\' AS ?x) SERVICE <{listener}> {{ ?s ?p ?o }} FILTER(?x != 'x') }}",
        "user-info before the host": f"SELECT * WHERE {{ SERVICE <http://allowed.example@127.0.0.1:{port}/> {{ ?s ?p ?o }} }}",
        "allowed prefix, other host": f"SELECT * WHERE {{ SERVICE <{ALLOWED.rstrip('/')}.127.0.0.1.nip.io:{port}/> {{ ?s ?p ?o }} }}",
        "prefixed SERVICE target": f"PREFIX l: <{listener}> SELECT * WHERE {{ SERVICE l:x {{ ?s ?p ?o }} }}",
        "lower-case service": f"select * where {{ service <{listener}> {{ ?s ?p ?o }} }}",
        "SERVICE SILENT": f"SELECT * WHERE {{ SERVICE SILENT <{listener}> {{ ?s ?p ?o }} }}",
        "SERVICE ?var": f"SELECT * WHERE {{ BIND(<{listener}> AS ?u) SERVICE ?u {{ ?s ?p ?o }} }}",
    }


def as_construct(text: str) -> str:
    """The same pattern as a CONSTRUCT, for the explorer and the exports."""
    return text.replace("SELECT *", "CONSTRUCT { ?s ?p ?o }").replace(
        "select *", "construct { ?s ?p ?o }"
    )


def routes_for(text: str, expect: frozenset[int]) -> list[Probe]:
    """A SERVICE text on every route that evaluates SPARQL."""
    construct = as_construct(text)
    return [
        query("/sparql", text, expect),
        Probe("/sparql GET", "GET", "/sparql?" + urlencode({"query": text}), expect=expect),
        Probe(
            "explorer",
            "GET",
            "/explore/elements.json?" + urlencode({"query": construct}),
            expect=expect,
        ),
        Probe("explorer page", "GET", "/explore?" + urlencode({"query": construct})),
        Probe(
            "GraphML export",
            "GET",
            "/export/graphml?" + urlencode({"query": construct}),
            expect=expect,
        ),
        Probe(
            "N-Quads export",
            "GET",
            "/export/nquads?" + urlencode({"query": construct}),
            expect=expect,
        ),
    ]


def bypass_probes(listener: str, writable: bool) -> list[Probe]:
    probes = []
    for name, text in service_bypasses(listener).items():
        probes += [
            Probe(f"{name} on {p.name}", p.method, p.target, p.body, p.headers, p.expect)
            for p in routes_for(text, SILENT if "SILENT" in text else REFUSED)
        ]
    if writable:
        for name, text in {
            "LOAD": f"LOAD <{listener}data.ttl>",
            "LOAD after a CR comment": f"# x\rLOAD <{listener}data.ttl>",
            "LOAD with user-info": f"LOAD <http://allowed.example@{listener[len('http://') :]}data.ttl>",
            "SERVICE in an update": f"INSERT {{ ?s ?p ?o }} WHERE {{ # x\r SERVICE <{listener}> {{ ?s ?p ?o }} }}",
        }.items():
            probes.append(update(name, text, REFUSED))
    return probes


def bad_input_probes(writable: bool) -> list[Probe]:
    """Issue 11, items 5 and 9: script IRIs, non-IRI datasets, control characters."""
    js = 'PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> CONSTRUCT { <javascript:alert(1)> rdfs:label "x" . <urn:a> rdfs:seeAlso <javascript:alert(2)> } WHERE {}'
    control = 'CONSTRUCT { <urn:a> <urn:b> "nul \\u0000 bell \\u0007 esc \\u001b" } WHERE {}'
    probes = [
        Probe(
            "javascript: IRI in the explorer",
            "GET",
            "/explore?" + urlencode({"query": js}),
            headers=(("Accept", "text/html"),),
            expect=frozenset({200}),
        ),
        Probe(
            "javascript: IRI in explorer data",
            "GET",
            "/explore/elements.json?" + urlencode({"query": js}),
            expect=frozenset({200}),
        ),
        Probe(
            "javascript: IRI as a resource",
            "GET",
            "/id/" + quote("javascript:alert(1)", safe=""),
            expect=frozenset({400, 404}),
        ),
        Probe(
            "control characters in GEXF",
            "GET",
            "/export/gexf?" + urlencode({"query": control}),
            expect=frozenset({200}),
        ),
        Probe(
            "control characters in GraphML",
            "GET",
            "/export/graphml?" + urlencode({"query": control}),
            expect=frozenset({200}),
        ),
        Probe(
            "control characters in a query",
            "POST",
            "/sparql",
            b"ASK { \x00\x01\x1b }",
            (("Content-Type", QUERY),),
            frozenset({400}),
        ),
    ]
    probes += rdf12_results_probes()
    for value in ("", " ", "not an iri", "<urn:a>", "urn:a b", "\x00", "http://a/\x7f"):
        for parameter in ("default-graph-uri", "named-graph-uri"):
            params = urlencode({"query": "ASK { ?s ?p ?o }", parameter: value})
            probes.append(
                Probe(f"{parameter}={value!r}", "GET", "/sparql?" + params, expect=frozenset({400}))
            )
    if writable:
        probes += [
            update(
                "control characters stored",
                'INSERT DATA { GRAPH <urn:campaign:c> { <urn:campaign:a> <urn:campaign:b> "nul \\u0000 esc \\u001b" } }',
                frozenset({204}),
            ),
            Probe("GEXF export after a stored NUL", "GET", "/export/gexf", expect=frozenset({200})),
            Probe(
                "GraphML export after a stored NUL",
                "GET",
                "/export/graphml",
                expect=frozenset({200}),
            ),
            update(
                "RDF 1.2 triple term",
                "INSERT DATA { <urn:a> <urn:b> <<( <urn:a> <urn:b> <urn:c> )>> }",
                frozenset({400}),
            ),
            update(
                "directional language tag",
                'INSERT DATA { <urn:a> <urn:b> "x"@en--ltr }',
                frozenset({400}),
            ),
            Probe(
                "RDF 1.2 upload",
                "PUT",
                "/store?graph=urn:campaign:g",
                b"<urn:a> <urn:b> <<( <urn:a> <urn:b> <urn:c> )>> .",
                (("Content-Type", "text/turtle"), *AUTH.items()),
                frozenset({400}),
            ),
        ]
    return probes


def rdf12_results_probes() -> list[Probe]:
    """RDF 1.2 terms a CONSTRUCT makes from nothing stored (a triple term, a directional
    literal), on every route that writes a graph: the graph exports were a 500 and JSON-LD a
    503. A format that cannot hold a triple term (JSON-LD) is a 406, the others answer."""
    terms = {
        "triple term": "<<( <urn:a> <urn:b> <urn:c> )>>",
        "directional literal": '"x"@en--ltr',
    }
    compacted = 'application/ld+json;profile="http://www.w3.org/ns/json-ld#compacted"'
    probes = []
    for name, term in terms.items():
        text = f"CONSTRUCT {{ <urn:a> <urn:b> {term} }} WHERE {{}}"
        json_ld = frozenset({406} if name == "triple term" else {200})
        for export in ("gexf", "graphml", "cytoscape", "dot", "nquads", "trig", "jsonld"):
            expect = json_ld if export == "jsonld" else frozenset({200})
            target = f"/export/{export}?" + urlencode({"query": text})
            probes.append(Probe(f"{name} in the {export} export", "GET", target, expect=expect))
        for accept in ("text/turtle", "application/rdf+xml", "application/ld+json", compacted):
            expect = json_ld if "json" in accept else frozenset({200})
            target = "/sparql?" + urlencode({"query": text})
            headers = (("Accept", accept),)
            probes.append(Probe(f"{name} as {accept}", "GET", target, None, headers, expect))
        target = "/explore/elements.json?" + urlencode({"query": text})
        probes.append(Probe(f"{name} in the explorer", "GET", target, expect=frozenset({200})))
    return probes


def outside_probes() -> list[Probe]:
    """Found probing a served store from outside (h11o): a blank reconciliation name was a
    500, XML answers of values XML cannot hold were a malformed 200, and a form of many dataset
    IRIs grew a worker by hundreds of MiB (each now 200, 406 and 400)."""
    nul = 'SELECT ?x WHERE { BIND("a\\u0000b" AS ?x) }'
    no_local_name = "CONSTRUCT { <urn:s> <http://e.org/> <urn:o> } WHERE {}"
    graphs = "&".join(f"default-graph-uri=urn:campaign:g{n}" for n in range(4000))
    return [
        Probe("blank reconciliation name", "GET", "/reconcile?query=", expect=frozenset({200})),
        Probe(
            "NUL as SPARQL XML",
            "GET",
            "/sparql?" + urlencode({"query": nul}),
            headers=(("Accept", "application/sparql-results+xml"),),
            expect=frozenset({406}),
        ),
        Probe(
            "predicate without a local name as RDF/XML",
            "GET",
            "/sparql?" + urlencode({"query": no_local_name}),
            headers=(("Accept", "application/rdf+xml"),),
            expect=frozenset({406}),
        ),
        Probe(
            "4000 dataset IRIs",
            "POST",
            "/sparql",
            ("query=ASK%7B%7D&" + graphs).encode(),
            (("Content-Type", FORM),),
            frozenset({400}),
        ),
        *outside_round3_probes(),
    ]


def outside_round3_probes() -> list[Probe]:
    """Found probing from outside again (h12o): a reconciliation limit of 1e999 was a 500, and
    a query whose %-escapes are not UTF-8 ran with U+FFFD, or with the text "%E9", in their
    place (each now 400)."""
    latin1 = "ASK%7B%3Fs+%3Fp+%22caf%E9%22%7D"
    return [
        Probe(
            "reconciliation limit past a float",
            "GET",
            "/reconcile?" + urlencode({"queries": '{"q": {"query": "x", "limit": 1e999}}'}),
            expect=frozenset({400}),
        ),
        Probe("query not UTF-8", "GET", "/sparql?query=" + latin1, expect=frozenset({400})),
        Probe(
            "query not UTF-8, with a dataset",
            "GET",
            f"/sparql?query={latin1}&default-graph-uri=urn:campaign:g",
            expect=frozenset({400}),
        ),
        Probe(
            "form in ISO-8859-1",
            "POST",
            "/sparql",
            ("query=" + latin1).encode(),
            (("Content-Type", FORM + "; charset=ISO-8859-1"),),
            frozenset({400}),
        ),
    ]


def runaway(i: int) -> Probe:
    """A query that runs until the time limit (a four-way cross product, counted)."""
    text = f"SELECT (COUNT(*) AS ?n{i}) WHERE {{ ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }}"
    return query(f"runaway {i}", text)


def issue_probes(listener: str, writable: bool, runaways: int) -> list[Probe]:
    """Every payload of issue 11, as the issue gives it, plus runaways and memory bombs."""
    probes = [query(f"flat {name}", text) for name, text in flat_shapes(FLAT).items()]
    probes += [query(f"many {name}", text) for name, text in many_shapes(MANY).items()]
    # Stopped by the memory budget (413), or by the time limit (a documented 503).
    probes += [
        query("CONCAT doubling", memory_bomb(), frozenset({413})),
        query("CONCAT doubling again", memory_bomb(DOUBLINGS - 1), frozenset({413})),
    ]
    probes += [runaway(i) for i in range(runaways)]
    return (
        probes + bypass_probes(listener, writable) + bad_input_probes(writable) + outside_probes()
    )


#: Shapes a generated variant is built from: name -> text for a count of terms.
GENERATED = {
    **{name: (lambda n, name=name: flat_shapes(n)[name]) for name in flat_shapes(1)},
    **{name: (lambda n, name=name: many_shapes(n)[name]) for name in many_shapes(1)},
}


@st.composite
def variants(draw: st.DrawFn, listener: str) -> Probe:
    """A generated variant: a flat shape of another size, or a SERVICE bypass dressed otherwise."""
    if draw(st.booleans()):
        shape = draw(st.sampled_from(sorted(GENERATED)))
        top = VARIANT_MANY if shape in many_shapes(1) else VARIANT_FLAT
        size = draw(st.integers(min_value=top // 40, max_value=top))
        return query(f"generated {shape} x{size}", GENERATED[shape](size))
    ending = draw(st.sampled_from(["\r", "\n", "\r\n", "\x0c\r", "\u2028\r"]))
    keyword = draw(st.sampled_from(["SERVICE", "service", "SeRvIcE"]))
    silent = draw(st.sampled_from(["", "SILENT "]))
    # Terms a regex reads as the start of a comment or a string, bound so SERVICE is needed.
    term = draw(st.sampled_from(["ex:b", "ex:a\\#", "ex:a\\'", "'#'", '"\\""', '"""#\r"""']))
    text = f"PREFIX ex: <urn:x:> SELECT * WHERE {{ BIND({term} AS ?x) # c{ending} {keyword} {silent}<{listener}> {{ ?s ?p ?o }} FILTER(?x != 'x') }}"
    route = draw(st.sampled_from(routes_for(text, SILENT if silent else REFUSED)))
    return Probe(
        f"generated bypass on {route.name}",
        route.method,
        route.target,
        route.body,
        route.headers,
        route.expect,
    )
