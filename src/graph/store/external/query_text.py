"""Query text for an external store: what pyoxigraph's query options become on the wire.

pyoxigraph takes ``prefixes`` and ``substitutions`` (SEP-0007 variable bindings) as options; an
external store only takes text. Prefixes become ``PREFIX`` declarations; a substitution
becomes a ``VALUES`` block opening the query's outermost WHERE group
(https://www.w3.org/TR/sparql11-query/#inline-data), joined first with everything else in
the group, so a FILTER or OPTIONAL of the group sees the variable bound, and the variable
stays in the results as a substitution leaves it. The request never pastes a term into the
query where the query text itself is: terms are written as N-Triples terms by pyoxigraph.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence

from pyoxigraph import BlankNode, Literal, NamedNode, Quad

from graph.core.sparql_text import NOISE
from graph.store.rdfio import sparql_data_block

Term = NamedNode | BlankNode | Literal

_FORM = re.compile(
    r"^(?:\s|#[^\n]*\n|BASE\s*<[^>]*>|PREFIX\s+[^\s:]*:\s*<[^>]*>)*(SELECT|ASK|CONSTRUCT|DESCRIBE)",
    re.IGNORECASE,
)
_CONSTRUCT_WHERE = re.compile(r"CONSTRUCT\s*WHERE\s*$", re.IGNORECASE)


def query_form(text: str) -> str | None:
    """The form of a query (SELECT, ASK, CONSTRUCT, DESCRIBE) after its prologue, if found.

    >>> query_form("PREFIX ag: <https://x/#>\\n# hi\\nconstruct { ?s ?p ?o } WHERE { }")
    'CONSTRUCT'
    """
    match = _FORM.match(text)
    return match.group(1).upper() if match else None


def with_prefixes(text: str, prefixes: Mapping[str, str]) -> str:
    """``text`` with a ``PREFIX`` declaration for each of ``prefixes`` in front, all on one
    line: the store's error positions are then one line below the user's, never 17. A
    declaration in ``text`` comes later and wins where the store lets a prefix be declared
    again (Oxigraph does).

    >>> with_prefixes("ASK {}", {"ex": "http://e.org/", "ag": "http://a.org/#"})
    'PREFIX ex: <http://e.org/> PREFIX ag: <http://a.org/#>\\nASK {}'
    """
    if not prefixes:
        return text
    declared = " ".join(f"PREFIX {name}: <{iri}>" for name, iri in prefixes.items())
    return declared + "\n" + text


def with_values(text: str, bindings: Mapping[str, Term]) -> str:
    """``text`` with ``bindings`` as a VALUES block opening its outermost WHERE group.

    >>> with_values("SELECT ?x ?y WHERE { ?x <http://e.org/p> ?y }",
    ...             {"x": NamedNode("http://e.org/a")})
    'SELECT ?x ?y WHERE { VALUES (?x) { (<http://e.org/a>) }\\n ?x <http://e.org/p> ?y }'
    >>> with_values('CONSTRUCT { ?x ?p "}" } WHERE { ?x ?p ?o }', {"x": Literal("1")})
    'CONSTRUCT { ?x ?p "}" } WHERE { VALUES (?x) { ("1") }\\n ?x ?p ?o }'

    :raises ValueError: if the query has no WHERE group of its own (``CONSTRUCT WHERE``).
    """
    if not bindings:
        return text
    names = " ".join(f"?{name}" for name in bindings)
    terms = " ".join(str(term) for term in bindings.values())
    block = f" VALUES ({names}) {{ ({terms}) }}\n"
    position = _where_brace(text)
    return text[: position + 1] + block + text[position + 1 :]


def _where_brace(text: str) -> int:
    """Index of the ``{`` opening the outermost WHERE group."""
    masked = NOISE.sub(lambda match: " " * len(match.group(0)), text)
    skip_template = query_form(text) == "CONSTRUCT"
    depth = 0
    for index, char in enumerate(masked):
        if char == "{":
            if depth == 0:
                if skip_template and _CONSTRUCT_WHERE.search(masked[:index]):
                    raise ValueError("CONSTRUCT WHERE has no separate template to keep")
                if not skip_template:
                    return index
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0 and skip_template:
                skip_template = False
    raise ValueError("the query has no WHERE group")


def bound_for(s: str, p: str, o: str) -> str:
    """BIND the fixed terms of a pattern to ?s ?p ?o so every solution names all three.

    >>> bound_for("?s", "<http://x/p>", "?o")
    'BIND(<http://x/p> AS ?p)'
    """
    terms = ((s, "s"), (p, "p"), (o, "o"))
    return " ".join(f"BIND({term} AS ?{name})" for term, name in terms if term[0] != "?")


def insert_data(quads: Sequence[Quad]) -> str:
    """An update adding ``quads``.

    Quads with blank nodes go in an ``INSERT {} WHERE {}`` template (one solution, so the blank
    nodes stay joined): Virtuoso 7 refuses blank nodes in INSERT DATA.
    """
    data = sparql_data_block(quads)
    if has_blank_node(quads):
        return f"INSERT {{\n{data}\n}} WHERE {{ }}"
    return f"INSERT DATA {{\n{data}\n}}"


def has_blank_node(quads: Sequence[Quad]) -> bool:
    """True if a quad has a blank node as subject or object."""
    return any(isinstance(q.subject, BlankNode) or isinstance(q.object, BlankNode) for q in quads)


XSD_BOOLEAN = "http://www.w3.org/2001/XMLSchema#boolean"
_CANONICAL = {"1": "true", "0": "false"}
_NUMERIC_BOOLEAN = re.compile(
    r'(?<!\\)"([01])"\^\^(<http://www\.w3\.org/2001/XMLSchema#boolean>|xsd:boolean)'
)


def canonical_booleans(data: bytes, media_type: str) -> bytes:
    """Virtuoso's answer with its stored booleans written canonically (``true``, ``false``).

    Virtuoso stores ``true``/``false`` as integers and hands them back as ``"1"^^xsd:boolean``
    (a valid but non-canonical form, https://www.w3.org/TR/xmlschema11-2/#boolean); Oxigraph
    keeps ``"true"``, so without this the same graph would answer differently.

    >>> canonical_booleans(b'<a> <b> "1"^^<http://www.w3.org/2001/XMLSchema#boolean> .',
    ...                    "application/n-triples")
    b'<a> <b> "true"^^<http://www.w3.org/2001/XMLSchema#boolean> .'
    """
    if media_type == "application/sparql-results+json":
        results = json.loads(data)
        for row in results.get("results", {}).get("bindings", []):
            for value in row.values():
                if value.get("datatype") == XSD_BOOLEAN and value.get("value") in _CANONICAL:
                    value["value"] = _CANONICAL[value["value"]]
        return json.dumps(results).encode()
    if media_type in ("application/n-triples", "text/turtle", "text/plain"):
        text = data.decode("utf-8")
        fixed = _NUMERIC_BOOLEAN.sub(lambda m: f'"{_CANONICAL[m.group(1)]}"^^{m.group(2)}', text)
        return fixed.encode("utf-8")
    return data
