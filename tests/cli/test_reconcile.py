"""`kg reconcile FILE.csv --column NAME [--type CLASS]` (issue 15)."""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

from click.testing import CliRunner

from graph.cli import cli
from tests.cli.test_cli import run_on_terminal

NAMES = (
    'organisation,city\n"Barahona, José Isaías",x\nI.O.M.,Geneva\nRed Cross,\nHondura,\n,empty\n'
)


def test_adds_id_label_score_and_match(
    runner: CliRunner, project_store: Path, tmp_path: Path
) -> None:
    source = tmp_path / "names.csv"
    source.write_text(NAMES, encoding="utf-8")
    done = runner.invoke(
        cli, ["reconcile", str(source), "--column", "organisation", "--store", str(project_store)]
    )
    assert done.exit_code == 0, done.output
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert list(rows[0]) == ["organisation", "city", "id", "label", "score", "match"]
    assert rows[0]["id"] == "https://w3id.org/alliance-graph/id/person/jose-isaias-barahona"
    assert rows[0]["match"] == "true" and rows[0]["city"] == "x"
    assert rows[1]["label"] == "International Organization for Migration"
    assert rows[2]["match"] == "false"
    assert rows[3]["id"].endswith("/country/honduras")
    assert rows[4] == {
        "organisation": "",
        "city": "empty",
        "id": "",
        "label": "",
        "score": "",
        "match": "false",
    }


def test_type_and_output_file(runner: CliRunner, project_store: Path, tmp_path: Path) -> None:
    source = tmp_path / "names.csv"
    source.write_text("name,id\nHondura\nIOM\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    args = ["reconcile", str(source), "--column", "name", "--type", "Country", "-o", str(out)]
    done = runner.invoke(cli, [*args, "--store", str(project_store)])
    assert done.exit_code == 0, done.output
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    # The file has an id column already: the added one is reconciled_id.
    assert rows[0]["reconciled_id"].endswith("/country/honduras") and rows[1]["reconciled_id"] == ""


def test_clear_errors(runner: CliRunner, project_store: Path, tmp_path: Path) -> None:
    source = tmp_path / "names.csv"
    source.write_text("name\nHonduras\n", encoding="utf-8")
    done = runner.invoke(
        cli, ["reconcile", str(source), "--column", "nom", "--store", str(project_store)]
    )
    assert done.exit_code == 1 and "no column 'nom'; the columns are name" in done.output
    done = runner.invoke(
        cli,
        [
            "reconcile",
            str(source),
            "--column",
            "name",
            "--type",
            "Planet",
            "--store",
            str(project_store),
        ],
    )
    assert done.exit_code == 1 and "no instances" in done.output
    done = runner.invoke(
        cli, ["reconcile", str(source), "--column", "name", "--store", str(tmp_path / "none")]
    )
    assert done.exit_code == 1 and "cannot be opened" in done.output


def test_progress_bar_on_a_terminal(project_store: Path, tmp_path: Path) -> None:
    source = tmp_path / "many.csv"
    source.write_text("name\n" + "Honduras\n" * 3000, encoding="utf-8")
    command = [sys.executable, "-m", "graph", "reconcile", str(source), "--column", "name"]
    drawn = run_on_terminal(
        [*command, "--store", str(project_store), "-o", str(tmp_path / "out.csv")]
    )
    assert b"Reconciling" in drawn, drawn[-2000:]
    assert len((tmp_path / "out.csv").read_text().splitlines()) == 3001
