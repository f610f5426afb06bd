"""graph.http.formdata: a form-encoded value (a WSGI string, one character per byte) decodes to
the UTF-8 text its bytes spell, the fast way or urllib's, and bytes that are not UTF-8 are
refused, never replaced (brief h12o, item 5)."""

from __future__ import annotations

import urllib.parse

import pytest
from hypothesis import given
from hypothesis import strategies as st

from graph.core.errors import BadRequest
from graph.http.formdata import form_pairs, form_params, form_value

#: Pieces that exercise every branch: escapes well formed or not, bytes that are or are not
#: UTF-8, backslashes and Python escape look-alikes, "+", raw bytes (as WSGI gives them).
PIECES = [
    "%", "+", "\\", "x", "A", "f", "0", "9", "G", " ", "\n", "\xc3", "\xa9", "\xe9", "%C3",
    "%A9", "%c3%a9", "%E2%82%AC", "%ZZ", "%4", "%5C", "%25", "%2B", "\\x41", "\\u0041",
    "\\N{DASH}", "\\0", "%00", "%FF", "%ED%A0%80", "%C0%AF", "\x7f", "'", '"', "query=", "&",
]  # fmt: skip

#: One character per byte, as a WSGI server hands over a query string or a latin-1 body.
WSGI_TEXT = st.text(alphabet=st.characters(max_codepoint=255))


def reference(text: str) -> str | None:
    """The UTF-8 text of the value's bytes, None when they are not UTF-8."""
    raw = urllib.parse.unquote_to_bytes(text.encode("latin-1").replace(b"+", b" "))
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


def decoded(text: str) -> str | None:
    try:
        return form_value(text)
    except UnicodeDecodeError:
        return None


@given(st.lists(st.sampled_from(PIECES), max_size=12).map("".join))
def test_same_as_the_bytes_on_tricky_text(text: str) -> None:
    assert decoded(text) == reference(text)


@given(WSGI_TEXT)
def test_same_as_the_bytes_on_any_text(text: str) -> None:
    assert decoded(text) == reference(text)


@given(st.lists(st.sampled_from([*PIECES, "=", "&", ";"]), max_size=16).map("".join))
def test_pairs_are_the_pairs_of_the_bytes(text: str) -> None:
    """Split as urllib splits, each name and value the UTF-8 of its bytes, or refused."""
    pairs = urllib.parse.parse_qsl(text, keep_blank_values=True, encoding="latin-1")
    expected: list[tuple[str, str]] | None
    try:
        expected = [(n.encode("latin-1").decode(), v.encode("latin-1").decode()) for n, v in pairs]
    except UnicodeDecodeError:
        expected = None
    try:
        found: list[tuple[str, str]] | None = form_pairs(text)
    except UnicodeDecodeError:
        found = None
    assert found == expected


@given(st.text(alphabet=st.characters(exclude_categories=["Cs"])))
def test_decodes_what_urllib_encodes(text: str) -> None:
    assert form_value(urllib.parse.quote_plus(text)) == text


@pytest.mark.parametrize(
    ("encoded", "expected"),
    [
        ("SELECT+*+%7B%3Fs+%3Fp+%3Fo%7D", "SELECT * {?s ?p ?o}"),
        ("%22caf%C3%A9%22", '"café"'),
        ('"caf\xc3\xa9"', '"café"'),  # raw UTF-8 bytes in the URL, not escaped
        ("a%5Cx41", "a\\x41"),  # an escaped backslash stays a backslash
        ("50%25+off", "50% off"),
        ("%", "%"),
        ("%%41", "%A"),
    ],
)
def test_examples(encoded: str, expected: str) -> None:
    assert form_value(encoded) == expected


@pytest.mark.parametrize(
    "value", ["caf%E9", "%FF%FE", "%C0%AF", "%ED%A0%80", "caf\xe9", "%C3"]
)  # latin-1, bytes never in UTF-8, an overlong "/", a surrogate, a raw latin-1 byte, cut short
def test_a_value_that_is_not_utf8_is_refused_by_name(value: str) -> None:
    with pytest.raises(BadRequest, match=r"the 'query' parameter is not UTF-8 once its"):
        form_params("format=json&query=" + value)


def test_a_name_that_is_not_utf8_is_shown_with_a_replacement_character() -> None:
    with pytest.raises(BadRequest, match="the 'caf\ufffd' parameter is not UTF-8"):
        form_params("caf%E9=1")
