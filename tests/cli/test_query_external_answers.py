"""``kg query --store URL`` over an external store whose answer breaks off or holds a row
that does not parse: the domain's message and a failing exit, never a traceback (brief h13r,
item 1; the fake store is tests/fake_sparql_store.py)."""

from __future__ import annotations

import json

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


#: Values a store may hold that a terminal or rich would act on: rich markup, an emoji code in
#: an IRI, an escape sequence that clears the screen and a carriage return.
ODD_VALUES = ("[bold red]hi[/]", "urn:x:smile:", "a\x1b[2Jb", "c\rd")


def literals(*values: str) -> bytes:
    """SPARQL JSON results binding ``?o`` to each of ``values``, a literal."""
    bindings = [{"o": {"type": "literal", "value": value}} for value in values]
    return json.dumps({"head": {"vars": ["o"]}, "results": {"bindings": bindings}}).encode()


def test_values_are_printed_as_they_are_never_as_markup_or_escapes() -> None:
    """The table showed "[bold red]hi[/]" as "hi", "urn:x:smile:" with an emoji, and passed
    ESC through to the terminal (brief h12o, item 7)."""
    with running_fake_store() as fake:
        fake.answer_all("application/sparql-results+json", literals(*ODD_VALUES))
        arguments = ["--store", fake.url, "--store-kind", "oxigraph"]
        result = CliRunner().invoke(cli, ["query", "SELECT ?o { ?s ?p ?o }", *arguments])
    assert result.exit_code == 0, result.output
    for value in ("[bold red]hi[/]", "urn:x:smile:", "a\\x1b[2Jb", "c\\rd"):
        assert value in result.output
    assert "\x1b" not in result.output and "\r" not in result.output


def test_an_error_holding_markup_is_printed_not_a_traceback() -> None:
    """A store's error text (or a path) with "[/x]" raised rich's MarkupError, a traceback."""
    with running_fake_store() as fake:
        fake.status = 500
        fake.answer_all("text/plain", b"engine failure [/x] \x1b]0;pwned\x07")
        arguments = ["--store", fake.url, "--store-kind", "oxigraph"]
        result = CliRunner().invoke(cli, ["query", "SELECT * { ?s ?p ?o }", *arguments])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert "engine failure [/x] \\x1b]0;pwned\\x07" in result.output
