"""Reading a SPARQL Protocol request (graph.http.protocol): the shortcut for plain requests
reads them as the protocol's rules do."""

from __future__ import annotations

import io
import urllib.parse
from typing import Any

import pytest
from werkzeug.wrappers import Request

from graph.core.errors import BadRequest, GraphError
from graph.http.protocol import (
    FORM,
    QUERY_BODY,
    UPDATE_BODY,
    Operation,
    plain_query,
    read_environ,
    read_operation,
)

ASK = "ASK { ?s ?p ?o }"
ENCODED = urllib.parse.urlencode({"query": ASK})


def environ(method: str, query_string: str = "", content_type: str = "", body: bytes = b"") -> Any:
    return {
        "REQUEST_METHOD": method,
        "PATH_INFO": "/sparql",
        "QUERY_STRING": query_string,
        "CONTENT_TYPE": content_type,
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
    }


REQUESTS = [
    ("GET", ENCODED, "", b""),
    ("GET", ENCODED + "&format=csv", "", b""),
    ("GET", "format=tsv&" + ENCODED, "", b""),
    ("GET", ENCODED + "&" + ENCODED, "", b""),  # repeated: refused by the rules
    ("GET", ENCODED + "&default-graph-uri=http%3A%2F%2Fe.org%2Fg", "", b""),
    ("GET", "query=", "", b""),
    ("GET", "format=csv", "", b""),  # no query: a service description
    ("GET", ENCODED + "&update=x", "", b""),
    ("POST", "", FORM, ENCODED.encode()),
    ("POST", "", FORM, (ENCODED + "&format=json").encode()),
    ("POST", "", FORM, b"update=INSERT+DATA+%7B%7D"),
    ("POST", "", FORM + "; charset=utf-8", ENCODED.encode()),
    ("POST", "format=xml", FORM, ENCODED.encode()),
    ("POST", "", FORM, ("query=" + urllib.parse.quote("ASK { ?s ?p 'é' }")).encode()),
    ("POST", "", QUERY_BODY, ASK.encode()),
    ("POST", "", QUERY_BODY, "ASK { ?s ?p 'é' }".encode()),
    ("POST", "", QUERY_BODY, b"ASK { ?s ?p '\xff' }"),  # not UTF-8: refused by the rules
    ("POST", "", QUERY_BODY, b"\xef\xbb\xbf" + ASK.encode()),  # a byte order mark first
    ("POST", "", UPDATE_BODY, b"\xef\xbb\xbfINSERT DATA {}"),
    ("POST", "format=csv", QUERY_BODY, ASK.encode()),
    ("POST", "", QUERY_BODY + "; charset=latin-1", "ASK { ?s ?p 'é' }".encode("latin-1")),
    ("POST", "", "text/plain", ASK.encode()),
    # Not UTF-8 once decoded: refused by the rules, whichever path reads them (brief h12o).
    ("GET", "query=ASK+%7B+%3Fs+%3Fp+%27%E9%27+%7D", "", b""),
    ("GET", "query=ASK+%7B+%3Fs+%3Fp+%27%E9%27+%7D&format=json", "", b""),
    ("POST", "", FORM, b"query=ASK+%7B+%3Fs+%3Fp+%27%E9%27+%7D"),
    ("POST", "", FORM + "; charset=iso-8859-1", b"query=ASK+%7B+%3Fs+%3Fp+%27%E9%27+%7D"),
    # Raw UTF-8 bytes in the URL (a WSGI string holds one character per byte): "é".
    ("GET", "query=ASK+%7B+%3Fs+%3Fp+%27\xc3\xa9%27+%7D", "", b""),
    ("GET", "query=ASK+%7B+%3Fs+%3Fp+%27\xc3\xa9%27+%7D&format=json", "", b""),
]


def by_rules(env: Any) -> tuple[Operation, str | None] | GraphError:
    """The operation and ``format`` by the protocol's rules alone (no shortcut), or the error."""
    request = Request(env)
    try:
        return read_operation(request), request.values.get("format")
    except GraphError as error:
        return error


@pytest.mark.parametrize(("method", "query_string", "content_type", "body"), REQUESTS)
def test_the_shortcut_reads_a_request_as_the_protocol_rules_do(
    method: str, query_string: str, content_type: str, body: bytes
) -> None:
    """Where the shortcut gives an answer it is the rules' answer; else the rules decide, and
    read_environ gives what they give."""
    shortcut = plain_query(method, query_string, content_type, body)
    rules = by_rules(environ(method, query_string, content_type, body))
    if shortcut is not None:
        assert shortcut == rules
    try:
        read: tuple[Operation, str | None] | GraphError = read_environ(
            environ(method, query_string, content_type, body)
        )
    except GraphError as error:
        read = error
    if isinstance(rules, GraphError):
        assert type(read) is type(rules) and str(read) == str(rules)
    else:
        assert read == rules


@pytest.mark.parametrize("extra", ["", "&format=json", "&default-graph-uri=urn%3Ax%3Ag"])
def test_raw_utf8_bytes_in_the_url_are_read_as_utf8_by_every_path(extra: str) -> None:
    """granian's shortcut read them as latin-1 ("cafÃ©"), Werkzeug's rules as UTF-8 ("café")."""
    operation, _ = read_environ(environ("GET", "query=ASK+%7B%27caf\xc3\xa9%27%7D" + extra))
    assert operation.text == "ASK {'café'}"


@pytest.mark.parametrize("extra", ["", "&format=json", "&default-graph-uri=urn%3Ax%3Ag"])
def test_escaped_bytes_that_are_not_utf8_are_refused_by_every_path(extra: str) -> None:
    """The shortcut ran U+FFFD in their place, the rules the text "%E9"."""
    with pytest.raises(BadRequest, match="the 'query' parameter is not UTF-8"):
        read_environ(environ("GET", "query=ASK+%7B%27caf%E9%27%7D" + extra))


def test_the_shortcut_takes_the_usual_requests() -> None:
    assert plain_query("GET", ENCODED, "", b"") is not None
    body = ENCODED.encode()
    assert plain_query("POST", "", FORM, body) is not None
    assert plain_query("POST", "", QUERY_BODY, ASK.encode()) is not None


def test_a_byte_order_mark_before_a_direct_query_or_update_is_not_part_of_it() -> None:
    bom = b"\xef\xbb\xbf"
    assert read_environ(environ("POST", "", QUERY_BODY, bom + ASK.encode())) == (
        Operation("query", ASK),
        None,
    )
    update, _ = read_environ(environ("POST", "", UPDATE_BODY, bom + b"INSERT DATA {}"))
    assert update == Operation("update", "INSERT DATA {}")
    # Only the first: one inside the text is the text's own.
    inner, _ = read_environ(environ("POST", "", QUERY_BODY, bom + bom + ASK.encode()))
    assert inner.text == "\ufeff" + ASK


def test_a_head_request_is_read_as_its_get() -> None:
    assert read_environ(environ("HEAD", ENCODED)) == read_environ(environ("GET", ENCODED))
    graphs = ENCODED + "&default-graph-uri=http%3A%2F%2Fe.org%2Fg"
    assert read_environ(environ("HEAD", graphs)) == read_environ(environ("GET", graphs))
    assert read_environ(environ("HEAD", ""))[0].kind == "description"


def test_a_large_form_is_read_whole_by_the_rules() -> None:
    """Its size is bounded before (max_body, graph.http.bodylimit) and its text after
    (max_query_bytes); nothing in between cuts it short or answers for the rules."""
    query = "ASK {}" + " " * 600_000
    body = urllib.parse.urlencode({"query": query, "named-graph-uri": "http://e.org/g"}).encode()
    operation, _ = read_environ(environ("POST", "", FORM, body))
    assert operation.text == query and operation.named_graphs == ("http://e.org/g",)


G = urllib.parse.quote("http://e.org/g", safe="")
UPDATE = urllib.parse.urlencode({"update": "INSERT DATA {}"})


@pytest.mark.parametrize(
    ("query_string", "content_type", "body", "expected"),
    [
        ("", FORM, f"{ENCODED}&default-graph-uri={G}&named-graph-uri={G}".encode(), "query"),
        (f"default-graph-uri={G}", QUERY_BODY, ASK.encode(), "query"),
        ("", FORM, f"{UPDATE}&using-graph-uri={G}&using-named-graph-uri={G}".encode(), "update"),
        (f"using-named-graph-uri={G}", UPDATE_BODY, b"INSERT DATA {}", "update"),
    ],
)
def test_each_operation_reads_its_own_dataset_parameters(
    query_string: str, content_type: str, body: bytes, expected: str
) -> None:
    operation = read_operation(Request(environ("POST", query_string, content_type, body)))
    assert operation.kind == expected
    given = urllib.parse.parse_qs(query_string + "&" + body.decode(errors="replace"))
    own = ("default", "named") if expected == "query" else ("using", "using-named")
    assert operation.default_graphs == tuple(given.get(f"{own[0]}-graph-uri", ()))
    assert operation.named_graphs == tuple(given.get(f"{own[1]}-graph-uri", ()))


@pytest.mark.parametrize(
    ("query_string", "content_type", "body", "message"),
    [
        (
            f"using-graph-uri={G}",
            QUERY_BODY,
            ASK.encode(),
            "'using-graph-uri' belongs to updates; a query takes default-graph-uri",
        ),
        (
            "",
            FORM,
            f"{ENCODED}&using-named-graph-uri={G}".encode(),
            "'using-named-graph-uri' belongs to updates; a query takes default-graph-uri",
        ),
        (
            f"named-graph-uri={G}",
            UPDATE_BODY,
            b"INSERT DATA {}",
            "'named-graph-uri' belongs to queries; an update takes using-graph-uri",
        ),
        (
            "",
            FORM,
            f"{UPDATE}&default-graph-uri={G}".encode(),
            "'default-graph-uri' belongs to queries; an update takes using-graph-uri",
        ),
    ],
)
def test_the_other_operations_dataset_parameters_are_refused(
    query_string: str, content_type: str, body: bytes, message: str
) -> None:
    with pytest.raises(BadRequest) as refused:
        read_operation(Request(environ("POST", query_string, content_type, body)))
    assert str(refused.value) == message
