"""Decode ``application/x-www-form-urlencoded`` values as urllib does, in C for the usual case.

A SPARQL query sent by a form or in a URL is mostly %-escapes (a point lookup has about fifty),
and :func:`urllib.parse.unquote_plus` decodes them in a Python loop: several microseconds per
query, a tenth of what Oxigraph takes to answer one. :func:`unquote_plus` turns each ``%XX``
into the Python escape ``\\xXX`` and lets the standard ``unicode_escape`` codec decode them all
at once; input that is not plain ASCII with well-formed escapes spelling UTF-8 goes to urllib,
so the result is always exactly urllib's.
"""

from __future__ import annotations

import urllib.parse


def unquote_plus(text: str) -> str:
    """``urllib.parse.unquote_plus(text)``, computed faster when ``text`` is well formed.

    >>> unquote_plus("SELECT+%3Fs+WHERE+%7B%3Fs+%3Fp+%22caf%C3%A9%22%7D")
    'SELECT ?s WHERE {?s ?p "café"}'
    >>> unquote_plus("a\\\\x41%5Cx41")  # backslashes are text, never escapes
    'a\\\\x41\\\\x41'

    Malformed input is decoded by urllib's lenient rules:

    >>> unquote_plus("100%"), unquote_plus("%zz"), unquote_plus("%C3%28")
    ('100%', '%zz', '\\ufffd(')
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
    return urllib.parse.unquote_plus(text)
