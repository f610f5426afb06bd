"""``kg query --store URL`` over an external store whose answer breaks off or holds a row
that does not parse: the domain's message and a failing exit, never a traceback (brief h13r,
item 1; the fake store is tests/fake_sparql_store.py)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from graph.cli import cli
from tests.fake_sparql_store import BROKEN_LATER, CUTS, rows, running_fake_store


@pytest.mark.parametrize("broken", ["bad-row", *CUTS])
@pytest.mark.parametrize("fmt", ["table", "csv"])
def test_kg_query_over_a_broken_answer_fails_with_the_stores_message(broken: str, fmt: str) -> None:
    with running_fake_store() as fake:
        if broken == "bad-row":
            fake.answer_all(*BROKEN_LATER["json"])
        else:
            fake.answer_all("application/sparql-results+json", rows("urn:x:a"), broken)
        arguments = ["--format", fmt, "--store", fake.url, "--store-kind", "oxigraph"]
        result = CliRunner().invoke(cli, ["query", "SELECT * { ?s ?p ?o }", *arguments])
    assert result.exit_code != 0
    assert "the external store" in result.output and "cannot be read" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
