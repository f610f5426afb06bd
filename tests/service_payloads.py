"""SERVICE and LOAD payloads aimed at a listener: the reported bypasses and generated variants.

Each payload is a query (or update) Oxigraph accepts, whose SERVICE reaches ``url`` when it
is evaluated; the generated ones hide the SERVICE behind what once fooled the guard (a comment
ended by a carriage return, ``\\#`` and ``\\'`` in prefixed names, escapes, case) and nest it
in the shapes a query can take.
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st

PREFIXES = "PREFIX ex: <http://example.org/> "


@dataclass(frozen=True)
class Payload:
    """A query or update, and whether its SERVICE is SILENT (a failure then answers 200)."""

    text: str
    silent: bool = False
    update: bool = False


def reported(url: str) -> list[Payload]:
    """The bypasses of issue 11, item 2, exactly as reported (SELECT and CONSTRUCT forms)."""
    service = f"SERVICE <{url}> {{ ?s ?p ?o }}"
    return [
        Payload(f"SELECT * WHERE {{ # x\r {service} }}"),
        Payload(f"{PREFIXES}SELECT * WHERE {{ BIND(ex:a\\# AS ?h) {service} }}"),
        Payload(f"{PREFIXES}SELECT * WHERE {{ BIND(ex:a\\' AS ?h) {service} }}"),
        Payload(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ # x\r {service} }}"),
        Payload(f"{PREFIXES}CONSTRUCT {{ ?s ?p ?o }} WHERE {{ BIND(ex:a\\# AS ?h) {service} }}"),
        Payload(f"SELECT * WHERE {{ {service} }}"),
    ]


def reported_updates(url: str) -> list[Payload]:
    """LOAD and SERVICE in updates (with the token)."""
    return [
        Payload(f"LOAD <{url}data.ttl>", update=True),
        Payload(f"# x\r LOAD <{url}data.ttl>", update=True),
        Payload(
            f"INSERT {{ ?s ?p ?o }} WHERE {{ # x\r SERVICE <{url}> {{ ?s ?p ?o }} }}", update=True
        ),
    ]


def _any_case(word: str) -> st.SearchStrategy[str]:
    flags = st.lists(st.booleans(), min_size=len(word), max_size=len(word))
    return flags.map(lambda up: "".join(c.upper() if u else c for c, u in zip(word, up)))  # noqa: B905


def _escaped(url: str) -> str:
    return url.replace("h", "\\u0068", 1).replace("/", "\\u002F", 1)


def _target(url: str) -> st.SearchStrategy[tuple[str, str]]:
    """(prologue, endpoint) pairs that all name ``url`` (or a path under it)."""
    return st.sampled_from(
        [
            ("", f"<{url}>"),
            ("", f"<{_escaped(url)}>"),
            (f"PREFIX t: <{url}> ", "t:sparql"),
            (f"PREFIX T: <{url}> ", "T:"),
            (f"BASE <{url}> ", "<sparql>"),
            (f"BASE <{url}> PREFIX t: <> ", "t:x"),
            ("", "?endpoint"),
        ]
    )


HIDERS = [
    "",
    "# x\r ",
    "# x\n ",
    "# x\r\n ",
    "#\r",
    "BIND(ex:a\\# AS ?h) ",
    "BIND(ex:a\\' AS ?h) ",
    'BIND("#" AS ?h) ',
    "BIND(<http://example.org/#> AS ?h) ",
]
WRAPPERS = [
    "{}",
    "OPTIONAL {{ {} }}",
    "GRAPH ?g {{ {} }}",
    "{{ SELECT * WHERE {{ {} }} }}",
    "{{ BIND(1 AS ?one) }} UNION {{ {} }}",
    "FILTER EXISTS {{ {} }}",
    "OPTIONAL {{ OPTIONAL {{ {} }} }}",
]


@st.composite
def variants(draw: st.DrawFn, url: str) -> Payload:
    """A generated query whose SERVICE names ``url``, hidden and nested in some way."""
    prologue, endpoint = draw(_target(url))
    keyword = draw(_any_case("service"))
    silent = draw(st.booleans())
    if silent:
        keyword += " " + draw(_any_case("silent"))
    service = f"{keyword} {endpoint} {{ ?s ?p ?o }}"
    if endpoint == "?endpoint":
        service = f"VALUES ?endpoint {{ <{url}> }} {service}"
    body = draw(st.sampled_from(WRAPPERS)).format(draw(st.sampled_from(HIDERS)) + service)
    form = draw(st.sampled_from(["SELECT * WHERE", "ASK", "CONSTRUCT { ?s ?p ?o } WHERE"]))
    return Payload(f"{prologue}{PREFIXES}{form} {{ {body} }}", silent=silent)
