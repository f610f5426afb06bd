"""A check of RDF/XML payloads before Oxigraph reads them: entity expansion and nesting bounded.

Oxigraph's RDF/XML parser expands internal entities without a bound, so a 1 kB body whose
entities nest ("billion laughs") becomes a literal of 100 MB or more (issue 12). Expat reads
the body first, in C, expanding entities as XML 1.0 says, and counts the characters the
expansion produces; past a multiple of the body's size, or past a nesting depth, the body is
refused before Oxigraph sees it. Expat stops at the first error, so a body expat cannot read
is refused too: it is not well-formed XML, and a lenient parser behind a strict one must not
see what the strict one did not check.
"""

from __future__ import annotations

from xml.parsers import expat

#: Characters of text and attribute values a body may expand to, per byte of the body.
EXPANSION_FACTOR = 16
#: Expansion allowed on top, so that small bodies using a few entities pass.
EXPANSION_SLACK = 64 * 1024
#: Deepest element nesting read (RDF/XML nests a description per level; Oxigraph's parser slows
#: down badly on deep nesting: 17 s for 1.8 MB, issue 12).
MAX_XML_DEPTH = 200


class _Refused(Exception):
    """Raised from expat's handlers to stop it."""


def check_xml(data: bytes) -> None:
    """Raise SyntaxError for XML whose entities expand too far, nested too deep, or malformed.

    >>> check_xml(b'<!DOCTYPE r [<!ENTITY e "ok">]><r a="&e;">&e;</r>')
    >>> bomb = b'<!DOCTYPE r [<!ENTITY a "' + b"x" * 1000 + b'">'
    >>> bomb += b'<!ENTITY b "' + b"&a;" * 1000 + b'">]><r>&b;</r>'
    >>> check_xml(bomb)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    SyntaxError: the XML entities expand to over ... characters (limit ...)
    """
    limit = EXPANSION_FACTOR * len(data) + EXPANSION_SLACK
    parser = expat.ParserCreate()
    state = {"size": 0, "depth": 0}

    def grow(size: int) -> None:
        state["size"] += size
        if state["size"] > limit:
            raise _Refused(
                f"the XML entities expand to over {state['size']} characters (limit {limit}: "
                f"{EXPANSION_FACTOR} per byte of the body)"
            )

    def start(name: str, attributes: dict[str, str]) -> None:
        state["depth"] += 1
        if state["depth"] > MAX_XML_DEPTH:
            raise _Refused(f"elements nested deeper than {MAX_XML_DEPTH} levels")
        grow(len(name) + sum(len(k) + len(v) for k, v in attributes.items()))

    def end(name: str) -> None:
        state["depth"] -= 1

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = lambda text: grow(len(text))
    try:
        parser.Parse(data, True)
    except _Refused as refused:
        error = SyntaxError(str(refused))
        error.lineno, error.offset = parser.CurrentLineNumber, parser.CurrentColumnNumber + 1
        raise error from None
    except expat.ExpatError as malformed:
        error = SyntaxError(f"not well-formed XML: {expat.errors.messages[malformed.code]}")
        error.lineno, error.offset = malformed.lineno, malformed.offset + 1
        raise error from None
