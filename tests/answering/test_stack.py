"""The query length limit and the stacks evaluations run on (graph.answering.stack), below a real
server.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from flask import Flask

from graph.answering import deadline, stack
from graph.store import memory_store, run_query

#: 60,000 ``!``: under the default limit, quick to evaluate, and it needs about 53 MiB of stack
#: (far past the 8 MiB of a main thread).
LONG_NOT = "ASK { FILTER(" + "!" * 60_000 + "true) }"


def on_thread(stack_size: int, work: Any) -> Any:
    """``work()`` on a fresh thread of ``stack_size`` bytes of stack; its result."""
    out: list[Any] = []
    thread = threading.Thread(target=lambda: out.append(work()))
    stack.start_thread(thread, stack_size)
    thread.join()
    return out[0]


def test_current_stack_size_is_the_threads() -> None:
    # glibc may reuse the stack of an ended thread: never smaller, at most 4x bigger.
    assert 4 << 20 <= on_thread(4 << 20, stack.current_stack_size) <= 16 << 20
    assert 32 << 20 <= on_thread(32 << 20, stack.current_stack_size) <= 128 << 20


def test_a_long_query_runs_on_a_helper_with_stack_enough() -> None:
    """On a 1 MiB thread the query would kill the process; with_deadline hands it to a helper
    thread whose stack holds what the query's length may need."""
    needed = stack.stack_for(stack.query_bytes(LONG_NOT))
    assert needed > 100 << 20

    def request() -> tuple[bool, bool, bool]:
        caller = threading.get_ident()

        def work() -> tuple[bool, int, int]:
            answer = bool(run_query(memory_store(), LONG_NOT))
            return answer, threading.get_ident(), stack.current_stack_size()

        answer, ran_on, size = deadline.with_deadline(work, 30, stack=needed)
        return answer, ran_on != caller, size >= needed

    assert on_thread(1 << 20, request) == (True, True, True)


@pytest.mark.parametrize(
    ("method", "route", "field"),
    [
        ("get", "/sparql", "query"),
        ("post", "/sparql", "query"),
        ("get", "/explore/elements.json", "query"),
        ("get", "/export/graphml", "query"),
    ],
)
def test_a_query_over_the_limit_is_a_400_naming_the_setting(
    app: Flask, method: str, route: str, field: str
) -> None:
    app.config["MAX_QUERY_BYTES"] = 1000
    query = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o " + "FILTER(true) " * 100 + "}"
    client = app.test_client()
    if method == "get":
        response = client.get(route, query_string={field: query})
    else:
        response = client.post(route, data={field: query})
    assert response.status_code == 400
    assert b"max_query_bytes" in response.data and b"over the limit of 1000 bytes" in response.data


def test_an_update_over_the_limit_is_a_400(write_app: Any) -> None:
    app = write_app(MAX_QUERY_BYTES=100)
    update = "INSERT DATA { <urn:a> <urn:b> " + '"x" , ' * 40 + '"y" }'
    response = app.test_client().post(
        "/sparql", data={"update": update}, headers={"Authorization": "Bearer t0ken"}
    )
    assert response.status_code == 400 and b"max_query_bytes" in response.data


def test_a_long_query_within_the_limit_is_answered(app: Flask) -> None:
    response = app.test_client().post(
        "/sparql", data=LONG_NOT, content_type="application/sparql-query"
    )
    assert response.status_code == 200 and b"true" in response.data
