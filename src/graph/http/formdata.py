"""Decode ``application/x-www-form-urlencoded`` values (a URL's query string, a form body) as
UTF-8, in C for the usual case, and refuse bytes that are not UTF-8.

A SPARQL query sent by a form or in a URL is mostly %-escapes (a point lookup has about fifty),
and :func:`urllib.parse.unquote_plus` decodes them in a Python loop: several microseconds per
query, a tenth of what Oxigraph takes to answer one. :func:`form_value` turns each ``%XX``
into the Python escape ``\\xXX`` and lets the standard ``unicode_escape`` codec decode them all
at once; other input (raw bytes, a stray ``%``) is decoded byte by byte by urllib.

The values are WSGI strings, one character per byte (PEP 3333), and the bytes they spell, after
their %-escapes, must be UTF-8 (the form encoding has no other: WHATWG URL, section 5.1; nor does
a SPARQL query, SPARQL 1.1 Protocol 2.1): a value that is not is refused, never turned into
U+FFFD or kept as ``%E9``, which would run a query the client did not send.
"""

from __future__ import annotations

import urllib.parse

from werkzeug.datastructures import MultiDict

from graph.core.errors import BadRequest


def form_value(text: str) -> str:
    """The UTF-8 text a form-encoded value spells (``text`` one character per byte).

    >>> form_value("SELECT+%3Fs+WHERE+%7B%3Fs+%3Fp+%22caf%C3%A9%22%7D")
    'SELECT ?s WHERE {?s ?p "café"}'
    >>> form_value("a\\\\x41%5Cx41")  # backslashes are text, never escapes
    'a\\\\x41\\\\x41'
    >>> form_value("100%"), form_value("%zz"), form_value("caf\\xc3\\xa9")  # raw UTF-8 bytes
    ('100%', '%zz', 'café')
    >>> form_value("caf%E9")
    Traceback (most recent call last):
    ...
    UnicodeDecodeError: 'utf-8' codec can't decode byte 0xe9 in position 3: unexpected end of data

    :raises UnicodeDecodeError: if the bytes are not UTF-8.
    """
    if text.isascii():
        # Backslashes are doubled first, so the only escapes the codec sees are the ones
        # made here; it decodes \\xXX to the code point XX, which latin-1 turns back into
        # the byte XX.
        escaped = text.encode("ascii").replace(b"\\", b"\\\\").replace(b"+", b" ")
        try:
            return escaped.replace(b"%", b"\\x").decode("unicode_escape").encode("latin-1").decode()
        except UnicodeDecodeError:
            pass  # "%" not followed by two hex digits, or bytes that are not UTF-8
    return urllib.parse.unquote_to_bytes(text.encode("latin-1").replace(b"+", b" ")).decode()


def form_pairs(encoded: str) -> list[tuple[str, str]]:
    """The (name, value) pairs of a form-encoded string (one character per byte), as UTF-8.

    >>> form_pairs("query=ASK+%7B%7D&format=&x")
    [('query', 'ASK {}'), ('format', ''), ('x', '')]

    :raises UnicodeDecodeError: if a name or value is not UTF-8.
    """
    if encoded.isascii():  # the usual case, decoded by urllib at once
        return urllib.parse.parse_qsl(encoded, keep_blank_values=True, errors="strict")
    return [(_utf8(name), _utf8(value)) for name, value in _latin1_pairs(encoded)]


def form_params(encoded: str) -> MultiDict[str, str]:
    """The parameters of a form-encoded string, as Werkzeug's ``request.args`` holds them.

    >>> form_params("format=csv&query=%E9")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    graph.core.errors.BadRequest: the 'query' parameter is not UTF-8 once its %-escapes ...

    :raises BadRequest: naming the first parameter that is not UTF-8.
    """
    params: MultiDict[str, str] = MultiDict()
    for name, value in _latin1_pairs(encoded):
        try:
            params.add(_utf8(name), _utf8(value))
        except UnicodeDecodeError as error:
            shown = name.encode("latin-1").decode(errors="replace")
            raise BadRequest(
                f"the {shown[:100]!r} parameter is not UTF-8 once its %-escapes are decoded"
                f" (byte 0x{error.object[error.start]:02X} at {error.start}: {error.reason})"
            ) from None
    return params


def _latin1_pairs(encoded: str) -> list[tuple[str, str]]:
    """The pairs with their %-escapes decoded, one character per byte still."""
    return urllib.parse.parse_qsl(encoded, keep_blank_values=True, encoding="latin-1")


def _utf8(text: str) -> str:
    return text.encode("latin-1").decode()
