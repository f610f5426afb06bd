"""The /sparql fast path: its shortcut for plain requests reads them as the protocol rules do,
and under a server that offers a responder it evaluates in place, watched."""

from __future__ import annotations

import io
import threading
import urllib.parse
from collections.abc import Iterable
from typing import Any

import pytest
from flask import Flask

from graph.answering import deadline, stack
from graph.http.fastpath import _any_query, _plain_query
from graph.http.protocol import FORM, QUERY_BODY

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
    ("POST", "format=csv", QUERY_BODY, ASK.encode()),
    ("POST", "", QUERY_BODY + "; charset=latin-1", "ASK { ?s ?p 'é' }".encode("latin-1")),
    ("POST", "", "text/plain", ASK.encode()),
]


@pytest.mark.parametrize(("method", "query_string", "content_type", "body"), REQUESTS)
def test_the_shortcut_reads_a_request_as_the_protocol_rules_do(
    method: str, query_string: str, content_type: str, body: bytes
) -> None:
    """Where the shortcut gives an answer it is the rules' answer; else the rules decide."""
    shortcut = _plain_query(environ(method, query_string, content_type, body), body)
    by_rules = _any_query(environ(method, query_string, content_type, body), body)
    if shortcut is not None:
        assert shortcut == by_rules


def test_the_shortcut_takes_the_usual_requests() -> None:
    assert _plain_query(environ("GET", ENCODED), b"") is not None
    body = ENCODED.encode()
    assert _plain_query(environ("POST", "", FORM, body), body) is not None
    assert _plain_query(environ("POST", "", QUERY_BODY, ASK.encode()), ASK.encode()) is not None


def _call(app: Flask, extra: dict[str, Any]) -> tuple[list[str], bytes]:
    statuses: list[str] = []
    env = environ("GET", ENCODED) | {
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "wsgi.url_scheme": "http",
        "HTTP_ACCEPT": "application/sparql-results+json",
    }
    env.update(extra)

    def start_response(status: str, headers: list[tuple[str, str]], *_: Any) -> Any:
        statuses.append(status)

    body: Iterable[bytes] = app.wsgi_app(env, start_response)
    return statuses, b"".join(body)


def test_with_a_responder_the_query_runs_in_place(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[int] = []
    original = deadline.run_watched

    def spy(work: Any, seconds: float, overrun: Any, **limits: int) -> Any:
        seen.append(threading.get_ident())
        return original(work, seconds, overrun, **limits)

    monkeypatch.setattr(deadline, "run_watched", spy)
    statuses, body = _call(app, {deadline.RESPONDER: lambda *answer: None})
    assert statuses == ["200 OK"] and b'"boolean":true' in body
    assert seen == [threading.get_ident()]
    seen.clear()
    statuses, _ = _call(app, {})
    assert statuses == ["200 OK"] and seen == []  # no responder: helper threads


def test_the_responder_answers_a_runaway_with_a_503(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "QUERY_TIMEOUT", 0.3)  # the query below runs about 1 s
    monkeypatch.setattr(deadline, "runaway_hook", lambda: None)
    runaway = (
        "SELECT (COUNT(*) AS ?n) WHERE { "
        + " ".join(f"VALUES ?v{i} {{ {' '.join(map(str, range(60)))} }}" for i in range(4))
        + " }"
    )
    answers: list[tuple[int, list[tuple[str, str]], bytes]] = []
    environ = {
        "QUERY_STRING": urllib.parse.urlencode({"query": runaway}),
        deadline.RESPONDER: lambda *answer: answers.append(answer),
    }
    # On a thread with stack enough for the query (graph.answering.stack), as granian's are under kg
    # serve: the main thread's 8 MiB would make it hand the query to a helper thread.
    calls: list[tuple[list[str], bytes]] = []
    thread = threading.Thread(target=lambda: calls.append(_call(app, environ)))
    stack.start_thread(thread, stack.stack_for(len(runaway)))
    thread.join()
    [(_, body)] = calls
    [(status, headers, text)] = answers
    assert status == 503 and b"time limit of 0.3 s" in text
    assert ("Content-Type", "text/plain; charset=utf-8") in headers
    # The request thread's own late answer is nothing the server would send.
    assert body == b""
