"""Every option the README's settings table promises exists on the commands it names (issue 14)."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from graph.cli import cli
from graph.core.settings import BY_NAME, SETTINGS
from tests.readme import README


def settings_rows() -> list[tuple[str, str, list[str]]]:
    """(option, environment variable, commands) for each row of the README's settings table."""
    table = README.split("<!-- settings-table -->\n", 1)[1].split("\n\n", 1)[0]
    rows = []
    for line in table.splitlines()[2:]:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        option, env, commands = cells[0].strip("`"), cells[1].strip("`"), cells[3]
        rows.append((option, env, [c.strip() for c in commands.split(",") if c.strip()]))
    return rows


ROWS = settings_rows()
PAIRS = [(option, command) for option, _, commands in ROWS for command in commands]


def test_the_table_lists_every_setting_with_commands() -> None:
    assert [row[1] for row in ROWS] == [setting.env for setting in SETTINGS]
    assert all(commands for _, _, commands in ROWS), "a setting no command takes"


@pytest.mark.parametrize(("option", "command"), PAIRS)
def test_each_command_has_the_options_the_readme_lists(option: str, command: str) -> None:
    result = CliRunner().invoke(cli, [command, "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert re.search(rf"(^|[\s/,]){re.escape(option)}[\s=/,]", result.output), (
        f"`kg {command} --help` has no {option}"
    )


def test_no_command_takes_a_setting_the_table_does_not_give_it() -> None:
    assert isinstance(cli, click.Group)
    for name, command in cli.commands.items():
        for param in command.params:
            setting = BY_NAME.get(param.name or "")
            if setting is not None:
                assert name in setting.commands, f"kg {name} takes {setting.option}"


def test_secrets_are_never_command_line_values(tmp_path: Path) -> None:
    """`kg serve --write-token x` would show the token in `ps`: only a file names it."""
    result = CliRunner().invoke(cli, ["serve", "--write-token", "x"])
    assert result.exit_code == 2 and "--write-token-file" in result.output
    token = tmp_path / "token"
    token.write_text("s3cret\n", encoding="utf-8")
    command = cli.commands["serve"]
    context = command.make_context("serve", ["--write-token-file", str(token)])
    assert context.params["write_token"] == "s3cret"
    assert command.make_context("serve", []).params["write_token"] is None


def test_an_option_reaches_the_server_configuration(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`kg serve --query-timeout 2.5 --service-allowlist URL` configures the app it serves."""
    # kg serve sets it for its workers; monkeypatch takes it away again after the test.
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    seen: dict[str, object] = {}

    def fake_serve(config: dict[str, object], *, access_log: bool) -> None:
        seen.update(config, ACCESS_LOG=access_log)

    monkeypatch.setattr("graph.serving.server.serve", fake_serve)
    monkeypatch.setattr("graph.serving.server.port_taken", lambda host, port: "")
    result = CliRunner().invoke(
        cli,
        [
            "serve",
            "--allocator", "system",
            "--query-timeout", "2.5",
            "--max-results", "7",
            "--cors-origins", "",
            "--service-allowlist", "https://query.wikidata.org/sparql",
            "--io-threads", "3",
            "--base-iri", "http://localhost:5000/",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert seen["QUERY_TIMEOUT"] == 2.5 and seen["MAX_RESULTS"] == 7
    assert seen["CORS_ORIGINS"] == "" and seen["IO_THREADS"] == 3
    assert seen["SERVICE_ALLOWLIST"] == ("https://query.wikidata.org/sparql",)
    assert seen["BASE_IRI"] == "http://localhost:5000/"
    assert seen["ACCESS_LOG"] is True  # not a terminal


def test_an_occupied_port_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(
            cli, ["serve", "--allocator", "system", "--port", str(port), "--store", str(tmp_path)]
        )
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"error: port {port} on 127.0.0.1 is in use by another program; choose another with"
        f" --port (e.g. --port {port + 1})"
    ]
