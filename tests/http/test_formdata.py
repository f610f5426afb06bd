"""graph.http.formdata.unquote_plus must give exactly what urllib.parse.unquote_plus gives."""

from __future__ import annotations

import urllib.parse

import pytest
from hypothesis import given
from hypothesis import strategies as st

from graph.http.formdata import unquote_plus

#: Pieces that exercise every branch: escapes well formed or not, bytes that are or are not
#: UTF-8, backslashes and Python escape look-alikes, "+", non-ASCII and unpaired surrogates.
PIECES = [
    "%", "+", "\\", "x", "A", "f", "0", "9", "G", " ", "\n", "é", "€", "%C3", "%A9", "%c3%a9",
    "%E2%82%AC", "%ZZ", "%4", "%5C", "%25", "%2B", "\\x41", "\\u0041", "\\N{DASH}", "\\0",
    "%00", "%FF", "\x7f", "'", '"', "\udcff", "query=", "&",
]  # fmt: skip


@given(st.lists(st.sampled_from(PIECES), max_size=12).map("".join))
def test_same_as_urllib_on_tricky_text(text: str) -> None:
    assert unquote_plus(text) == urllib.parse.unquote_plus(text)


@given(st.text())
def test_same_as_urllib_on_any_text(text: str) -> None:
    assert unquote_plus(text) == urllib.parse.unquote_plus(text)


@given(st.text())
def test_decodes_what_urllib_encodes(text: str) -> None:
    encoded = urllib.parse.quote_plus(text, errors="surrogatepass")
    assert unquote_plus(encoded) == urllib.parse.unquote_plus(encoded)


@pytest.mark.parametrize(
    ("encoded", "decoded"),
    [
        ("SELECT+*+%7B%3Fs+%3Fp+%3Fo%7D", "SELECT * {?s ?p ?o}"),
        ("%22caf%C3%A9%22", '"café"'),
        ("a%5Cx41", "a\\x41"),  # an escaped backslash stays a backslash
        ("50%25+off", "50% off"),
        ("%", "%"),
        ("%%41", "%A"),
    ],
)
def test_examples(encoded: str, decoded: str) -> None:
    assert unquote_plus(encoded) == decoded
