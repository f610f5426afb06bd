"""The README documents every setting, command and route, and its CI command is the real one."""

from __future__ import annotations

import re

import click
from flask import Flask

from graph.cli import cli
from graph.core.settings import SETTINGS, markdown_table
from tests.paths import ROOT
from tests.readme import README, quickstart_command


def test_settings_table_is_generated_from_the_settings() -> None:
    table = README.split("<!-- settings-table -->\n", 1)[1].split("\n\n", 1)[0]
    assert table == markdown_table(), "regenerate it with: python -m graph.core.settings"
    for setting in SETTINGS:
        assert f"`{setting.option}`" in table and f"`{setting.env}`" in table


def test_every_command_is_documented() -> None:
    assert isinstance(cli, click.Group)
    for name in cli.commands:
        assert f"`kg {name}" in README, f"README does not document `kg {name}`"


def test_every_route_is_documented(app: Flask) -> None:
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.rule.startswith("/static"):
            continue
        documented = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        assert f"`{documented}`" in README, f"README does not document the route {documented}"


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "quickstart:test" in ci
    assert "KG_REQUIRE_ALL=1" in ci
    assert quickstart_command("test").endswith("pytest")


def test_the_readme_lists_the_prefixes_every_query_gets() -> None:
    from graph.core.namespaces import PREFIXES

    listed = README.split("- Prefixes declared for every query", 1)[1].split("\n- ", 1)[0]
    assert re.findall(r"`(\w+):`", listed) == list(PREFIXES)


def test_every_kg_option_the_docs_show_exists() -> None:
    """`kg serve --write-token x` was documented and answered "No such option" (issue 14)."""
    assert isinstance(cli, click.Group)
    docs = [ROOT / "README.md", ROOT / "data" / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    shown = 0
    for path in docs:
        for match in re.finditer(r"\bkg ([a-z][a-z-]+)([^`\n|]*)", path.read_text("utf-8")):
            command = cli.commands.get(match.group(1))
            if command is None:
                continue
            known = {o for p in command.params for o in (*p.opts, *p.secondary_opts)}
            for option in re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", match.group(2)):
                shown += 1
                assert option in known | {"--help"}, f"{path.name}: kg {match[1]} {option}"
    assert shown > 10
