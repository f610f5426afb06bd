"""`kg reconcile`: a CSV's names matched to the graph, for analysts without OpenRefine."""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any, TextIO

import click

from graph.answering.reconcile.loading import load
from graph.answering.reconcile.service import Service
from graph.cli.common import err, fail, progress, setting_values, settings_options
from graph.core.errors import StoreUnavailable
from graph.store import open_store

#: The columns added to each row (``reconciled_`` in front of a name the file already uses).
ADDED = ("id", "label", "score", "match")
#: Rows matched per call of the service (the progress bar moves by as many).
BATCH = 100


@click.command("reconcile")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--column", required=True, help="The column holding the names to match.")
@click.option(
    "--type",
    "type_name",
    default=None,
    help="Keep candidates of this class only "
    "(an IRI, a prefixed name such as ag:Country, or a class name such as Country).",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the CSV here instead of to standard output.",
)
@settings_options("reconcile")
def reconcile_command(
    file: Path,
    column: str,
    type_name: str | None,
    output: Path | None,
    store: str,
    base_iri: str,
    **options: Any,
) -> None:
    """Match the names in COLUMN of FILE (CSV) to the graph; add id, label, score and match.

    ``match`` is true only where the name is unambiguous (the best candidate scores 90 or
    more out of 100 and the next one at least 8 less), as in the /reconcile service.
    """
    header, rows = _read(file, column)
    service = _service(store, setting_values(options), base_iri)
    if type_name and service.type_iri(type_name) not in service.catalogue.members:
        fail(f"--type {type_name}: the graph has no instances of such a class")
    added = [name if name not in header else f"reconciled_{name}" for name in ADDED]
    sink: TextIO = output.open("w", newline="", encoding="utf-8") if output else sys.stdout
    try:
        writer = csv.writer(sink)
        writer.writerow(header + added)
        for batch in progress(_batches(rows), "Reconciling", (len(rows) + BATCH - 1) // BATCH):
            for row, found in zip(batch, _matched(service, batch, column, type_name), strict=True):
                writer.writerow([row.get(name, "") for name in header] + found)
    finally:
        if output:
            sink.close()


def _read(file: Path, column: str) -> tuple[list[str], list[dict[str, str]]]:
    """The header and rows of ``file``; a clear error if it is not UTF-8 CSV with ``column``."""
    try:
        with file.open(newline="", encoding="utf-8-sig") as source:
            reader = csv.DictReader(source)
            header = list(reader.fieldnames or [])
            if column not in header:
                fail(f"{file}: no column {column!r}; the columns are {', '.join(header) or 'none'}")
            return header, list(reader)
    except (UnicodeDecodeError, csv.Error) as error:
        fail(f"{file}: not a UTF-8 CSV file: {error}")
        raise  # not reached: fail() exits


def _service(store: str, options: dict[str, Any], base_iri: str) -> Service:
    """The reconciliation service over ``store``, its names read once."""
    try:
        handle = open_store(store, read_only=True, options=options)
    except FileNotFoundError as error:
        fail(f"the store cannot be opened: {error}")
        raise  # not reached: fail() exits
    except StoreUnavailable as error:  # its text says the store cannot be opened, and why
        fail(str(error))
        raise
    # The names are read once (seconds on a million triples): a spinner meanwhile, on a terminal.
    reading: AbstractContextManager[object] = (
        err.status("Reading the graph's names") if err.is_terminal else nullcontext()
    )
    with reading:
        return Service(load(handle, base_iri), handle)


def _batches(rows: list[dict[str, str]]) -> Iterator[list[dict[str, str]]]:
    for start in range(0, len(rows), BATCH):
        yield rows[start : start + BATCH]


def _matched(
    service: Service, batch: list[dict[str, str]], column: str, type_name: str | None
) -> list[list[str]]:
    """The added cells of each row: the best candidate's IRI, name, score and match."""
    names = {str(number): (row.get(column) or "").strip() for number, row in enumerate(batch)}
    queries: dict[str, dict[str, Any]] = {
        key: {"query": name, "limit": 1} | ({"type": type_name} if type_name else {})
        for key, name in names.items()
        if name
    }
    answers = service.reconcile(queries)
    cells = []
    for key in names:
        best = answers.get(key, {}).get("result", [])
        if not best:
            cells.append(["", "", "", "false"])
            continue
        entity = service.find(best[0]["id"])
        iri = entity.iri if entity else best[0]["id"]
        cells.append([iri, best[0]["name"], str(best[0]["score"]), str(best[0]["match"]).lower()])
    return cells
