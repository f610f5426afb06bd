"""What the XML formats (RDF/XML, SPARQL Query Results XML) can hold, checked before an answer
is sent: Oxigraph's writers (pyoxigraph 0.5.13) write what they are given, and a 200 whose
XML does not parse is as broken as a 500 (found probing a served store from outside, h11o).

- XML 1.0 cannot hold C0 control characters but tab, LF and CR, nor U+FFFE and U+FFFF, not even
  as character references (XML 1.0 section 2.2); ``CONCAT("a\\u0000")`` makes one.
- RDF/XML writes a predicate as an element name: its IRI must end with an XML name (NCName,
  XML 1.0 5th edition section 2.3) to be split into a namespace and a local name. Oxigraph
  writes ``<oxprefix: ...>`` for ``http://a/``, ``http://a/1`` or ``urn:x#``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from pyoxigraph import BlankNode, DefaultGraph, Literal, NamedNode, Quad, Triple

from graph.core.errors import NotAcceptable

#: Characters XML 1.0 cannot hold (lone surrogates cannot occur in the engine's strings).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
#: The same in UTF-8: C0 bytes never occur inside a multi-byte sequence.
_NOT_XML_BYTES = re.compile(b"[\x00-\x08\x0b\x0c\x0e-\x1f]|\xef\xbf[\xbe\xbf]")
_NAME_START = (
    "A-Z_a-z\xc0-\xd6\xd8-\xf6\xf8-\u02ff\u0370-\u037d\u037f-\u1fff\u200c\u200d"
    "\u2070-\u218f\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd\U00010000-\U000effff"
)
#: A run of XML name characters (matched on the reversed IRI: linear, no backtracking).
_NAME_CHARS = re.compile(f"[{_NAME_START}\\-.0-9\xb7\u0300-\u036f\u203f\u2040]*")
_NAME_START_CHAR = re.compile(f"[{_NAME_START}]")


def has_local_name(iri: str) -> bool:
    """Whether RDF/XML can write ``iri`` as a predicate: it ends with an XML name.

    >>> [has_local_name(i) for i in ("http://a/name", "http://a/-x", "urn:x", "http://a/")]
    [True, True, True, False]
    >>> [has_local_name(i) for i in ("http://a/1", "urn:x#", "http://a/x?y=1")]
    [False, False, False]
    """
    tail = _NAME_CHARS.match(iri[::-1])
    return tail is not None and _NAME_START_CHAR.search(tail.group()) is not None


def check_rdf_xml(statements: Iterable[Triple | Quad]) -> None:
    """Refuse statements RDF/XML cannot write.

    >>> a, p = NamedNode("http://e.org/a"), NamedNode("http://e.org/p")
    >>> check_rdf_xml([Triple(a, p, Literal("fine"))])
    >>> check_rdf_xml([Triple(a, NamedNode("http://e.org/"), a)])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    graph.core.errors.NotAcceptable: the predicate <http://e.org/> cannot be written in RDF/XML ...

    :raises NotAcceptable: naming the predicate or the character, and the formats that can.
    """
    for statement in statements:
        if not has_local_name(statement.predicate.value):
            raise NotAcceptable(
                f"the predicate <{statement.predicate.value[:200]}> cannot be written in"
                " RDF/XML (its IRI does not end with an XML name): ask for Turtle, N-Triples"
                " or JSON-LD"
            )
        _check_term(statement.object)
        _check_term(statement.subject)


def _check_term(term: NamedNode | BlankNode | Literal | Triple | DefaultGraph) -> None:
    if isinstance(term, Triple):
        check_rdf_xml([term])
    elif isinstance(term, Literal) and (found := _NOT_XML.search(term.value)):
        raise NotAcceptable(_message(found.group(), "RDF/XML", "Turtle, N-Triples or JSON-LD"))


def check_results_xml(body: bytes) -> None:
    """Refuse a SPARQL XML answer holding a character XML 1.0 cannot hold.

    >>> check_results_xml(b"<sparql><literal>fine</literal></sparql>")
    >>> check_results_xml("<literal>a\\ufffe</literal>".encode())  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    graph.core.errors.NotAcceptable: a value of the result holds U+FFFE, which XML 1.0 ...

    :raises NotAcceptable: naming the character and the formats that can.
    """
    found = _NOT_XML_BYTES.search(body)
    if found:
        character = found.group().decode()
        raise NotAcceptable(_message(character, "SPARQL XML", "JSON, CSV or TSV"))


def _message(character: str, fmt: str, others: str) -> str:
    return (
        f"a value of the result holds U+{ord(character):04X}, which XML 1.0 cannot hold, so"
        f" {fmt} cannot write it: ask for {others}"
    )
