"""The access log and metrics count streamed answers as they are sent (issue 11, item 8)."""

from __future__ import annotations

import json
import logging

import pytest
from flask.testing import FlaskClient


def access_entries(caplog: pytest.LogCaptureFixture) -> list[dict[str, object]]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == "kg.access"]


def test_a_streamed_dump_is_logged_with_its_bytes_once_sent(
    web_client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="kg.access")
    response = web_client.get("/dumps/alliance-graph.nq")
    # Still streaming: nothing read it whole to measure it, nothing logged yet.
    assert response.is_streamed
    assert access_entries(caplog) == []
    body = response.get_data()
    response.close()
    [entry] = access_entries(caplog)
    assert entry["status"] == 200 and entry["path"] == "/dumps/alliance-graph.nq"
    assert entry["bytes"] == len(body) > 1000


def test_a_buffered_answer_is_logged_with_its_bytes(
    web_client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="kg.access")
    response = web_client.get("/explore")
    [entry] = access_entries(caplog)
    assert entry["bytes"] == len(response.data)
