"""The kg command line: exit statuses and output of build, validate, query and stats."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from graph.cli import cli
from tests.conftest import MINI


def test_build_then_stats_and_query(runner: CliRunner, tmp_path: Path) -> None:
    store = str(tmp_path / "store")
    result = runner.invoke(cli, ["build", "--project-dir", str(MINI), "--store", store])
    assert result.exit_code == 0, result.output
    stats = runner.invoke(cli, ["stats", "--json", "--store", store])
    figures = json.loads(stats.output)
    files = len([p for p in MINI.rglob("*.ttl")])
    assert re.fullmatch(
        rf"Built {figures['triples']} triples in 3 named graphs from {files} files"
        rf" \(validated against 1 shape file\) into {re.escape(store)} in \d+\.\d s\n",
        result.output,
    ), result.output
    assert figures["graphs"] == 3
    assert figures["classes"]["https://w3id.org/alliance-graph/ontology#Alliance"] == 1
    query = (
        "SELECT ?code WHERE { ?c <https://w3id.org/alliance-graph/ontology#iso3166Alpha2> ?code }"
    )
    # CSV lines end in CRLF as RFC 4180 says; TSV writes RDF terms (SPARQL 1.1 TSV results).
    for fmt, expected in [("csv", b"code\r\nHN\r\n"), ("tsv", b'?code\n"HN"\n')]:
        result = runner.invoke(cli, ["query", query, "--format", fmt, "--store", store])
        assert result.stdout_bytes == expected
    result = runner.invoke(cli, ["query", query, "--format", "json", "--store", store])
    assert json.loads(result.output)["results"]["bindings"][0]["code"]["value"] == "HN"


def test_query_from_file_and_table(runner: CliRunner, tmp_path: Path) -> None:
    store = str(tmp_path / "store")
    runner.invoke(cli, ["build", "--project-dir", str(MINI), "--store", store])
    rq = tmp_path / "labels.rq"
    rq.write_text(
        "# labels\nSELECT ?label WHERE { ?s <http://www.w3.org/2000/01/rdf-schema#label> ?label }"
    )
    result = runner.invoke(cli, ["query", str(rq), "--store", store])
    assert result.exit_code == 0
    assert "WePROTECT Global Alliance" in result.output


def test_query_syntax_error_is_located(runner: CliRunner, tmp_path: Path) -> None:
    store = str(tmp_path / "store")
    runner.invoke(cli, ["build", "--project-dir", str(MINI), "--store", store])
    result = runner.invoke(cli, ["query", "SELECT ?s WHERE { ?s ?p }", "--store", store])
    assert result.exit_code == 1
    assert "line 1, column 25: a triple pattern needs an object after ?p" in result.output
    assert "Traceback" not in result.output


def test_query_as_xml_refuses_what_xml_cannot_hold(runner: CliRunner, tmp_path: Path) -> None:
    store = str(tmp_path / "store")
    runner.invoke(cli, ["build", "--project-dir", str(MINI), "--store", store])
    query = 'SELECT ?x WHERE { BIND(CONCAT("a", "\\u0000") AS ?x) }'
    result = runner.invoke(cli, ["query", query, "--format", "xml", "--store", store])
    assert result.exit_code == 1
    assert "U+0000, which XML 1.0 cannot hold" in result.output
    assert "<sparql" not in result.output  # nothing half-written before the error
    result = runner.invoke(cli, ["query", query, "--format", "json", "--store", store])
    assert json.loads(result.output)["results"]["bindings"][0]["x"]["value"] == "a\x00"


def test_missing_store_is_a_clear_error(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["stats", "--store", str(tmp_path / "nowhere")])
    assert result.exit_code == 1
    assert "kg build" in result.output


def test_validate_exit_status_and_formats(runner: CliRunner, tmp_path: Path) -> None:
    assert runner.invoke(cli, ["validate", "--project-dir", str(MINI)]).exit_code == 0
    project = tmp_path / "project"
    shutil.copytree(MINI, project)
    bad = project / "data" / "reference" / "countries.ttl"
    bad.write_text(bad.read_text().replace('"HN"', '"hn"'))
    result = runner.invoke(cli, ["validate", "--project-dir", str(project), "--format", "json"])
    assert result.exit_code == 1
    [violation] = json.loads(result.output)["violations"]
    assert violation["file"].endswith("countries.ttl")
    assert violation["value"] == '"hn"'


def test_validate_named_files_against_project_context(runner: CliRunner, tmp_path: Path) -> None:
    extra = tmp_path / "new-source.ttl"
    extra.write_text(
        "@prefix ag: <https://w3id.org/alliance-graph/ontology#> .\n"
        "<https://w3id.org/alliance-graph/id/organization/x> a ag:Alliance ;\n"
        "    ag:member <https://w3id.org/alliance-graph/id/country/honduras> .\n"
    )
    result = runner.invoke(cli, ["validate", str(extra), "--project-dir", str(MINI)])
    assert result.exit_code == 1
    # Honduras is described in the project's reference data, so only the label is missing.
    assert "new-source.ttl:2: Violation: An alliance needs a label." in result.output
    assert "1 violation(s)." in result.output


def test_turtle_syntax_error_in_validate(runner: CliRunner, tmp_path: Path) -> None:
    extra = tmp_path / "broken.ttl"
    extra.write_text(
        '@prefix ag: <https://w3id.org/alliance-graph/ontology#> .\nag:x ag:y "open .\n'
    )
    result = runner.invoke(cli, ["validate", str(extra), "--project-dir", str(MINI)])
    assert result.exit_code == 1
    assert f"{extra}:2:" in result.output
    assert "syntax error" in result.output


def test_python_dash_m_graph_is_kg() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "graph", "--help"], capture_output=True, text=True, check=True
    )
    assert "build" in done.stdout and "validate" in done.stdout


def run_on_terminal(command: list[str]) -> bytes:
    """Run ``command`` with stdout and stderr on a pseudo-terminal; return what it drew."""
    import os
    import pty

    leader, follower = pty.openpty()
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "100"}
    env.pop("NO_COLOR", None)
    process = subprocess.Popen(command, stdout=follower, stderr=follower, env=env)
    os.close(follower)
    drawn = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closes when the command exits (EIO on Linux)
            break
        if not chunk:
            break
        drawn += chunk
    process.wait(timeout=120)
    os.close(leader)
    return drawn


def test_progress_is_drawn_on_a_terminal_and_quiet_otherwise(tmp_path: Path) -> None:
    command = [
        sys.executable,
        "-m",
        "graph",
        "build",
        "--engine",
        "sparql",
        "--project-dir",
        str(MINI),
        "--store",
    ]
    drawn = run_on_terminal([*command, str(tmp_path / "on-terminal")])
    assert b"Loading" in drawn and b"Validating" in drawn, drawn[-2000:]
    piped = subprocess.run(
        [*command, str(tmp_path / "piped")], capture_output=True, check=True, timeout=120
    )
    assert b"Validating" not in piped.stderr and b"\x1b[" not in piped.stderr
    assert b"\x1b[" not in piped.stdout


def test_tables_show_compact_iris_and_stats_per_graph(runner: CliRunner, tmp_path: Path) -> None:
    """Issue 14: `id:country/honduras`, never a cut IRI; the project's prefixes need no PREFIX."""
    store = str(tmp_path / "store")
    runner.invoke(cli, ["build", "--project-dir", str(MINI), "--store", store])
    query = "SELECT ?c ?code WHERE { ?c ag:iso3166Alpha2 ?code }"
    result = runner.invoke(cli, ["query", query, "--store", store], terminal_width=40)
    assert result.exit_code == 0, result.output
    assert "id:country/honduras" in result.output and "…" not in result.output
    stats = runner.invoke(cli, ["stats", "--store", store], terminal_width=200)
    assert "ag:Alliance" in stats.output and "https://w3id.org/alliance-graph/ontology#" not in (
        stats.output
    )
    figures = json.loads(runner.invoke(cli, ["stats", "--json", "--store", store]).output)
    for graph, count in figures["graph_triples"].items():
        name = graph.removeprefix("https://w3id.org/alliance-graph/")
        assert re.search(rf"{re.escape(name)}\s+│\s+{count}\b", stats.output), name


def test_a_refused_build_reports_long_lines_whole_and_names_shapes(tmp_path: Path) -> None:
    """Not on a terminal the report is not hard-wrapped, and a property shape (a blank node)
    is named by its node shape and path, the same on every run."""
    project = tmp_path / "project"
    shutil.copytree(MINI, project)
    bad = project / "data" / "reference" / "countries.ttl"
    bad.write_text(bad.read_text().replace('"HN"', '"hn"'))
    command = [sys.executable, "-m", "graph", "build", "--project-dir", str(project)]
    runs = [
        subprocess.run(
            [*command, "--store", str(tmp_path / "store"), "--engine", engine],
            capture_output=True,
            text=True,
            env={**os.environ, "COLUMNS": "60"},
            check=False,
        )
        for engine in ("pyshacl", "sparql")
    ]
    for run in runs:
        assert run.returncode == 1
        [shape_line] = [line for line in run.stderr.splitlines() if "constraint:" in line]
        assert len(shape_line) > 60 and "_:" not in shape_line
        assert "focus node: https://w3id.org/alliance-graph/id/country/honduras" in run.stderr
    assert runs[0].stderr.count("(shape ") == 1
    shapes = [re.findall(r"\(shape (.+)\)", run.stderr) for run in runs]
    assert shapes[0] == shapes[1]
