"""`kg query`, `kg stats` and `kg export`: reading the graph from the command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.table import Column, Table

from graph.answering import queries
from graph.answering.export import FORMATS as EXPORT_FORMATS
from graph.answering.export import ExportError, export
from graph.answering.guard import check_remote_targets
from graph.core.errors import EvaluationFailed, GraphError
from graph.core.links import compact, prefixes
from graph.store import (
    BlankNode,
    NamedNode,
    QueryBoolean,
    QuerySolutions,
    QuerySyntaxError,
    QueryTriples,
    Store,
    evaluating,
    open_store,
    run_query,
    select_rows,
    serialize_results,
)

if TYPE_CHECKING:
    from graph.store.external.remote_store import RemoteStore
from graph.cli.common import cli, err, fail, out, setting_values, settings_options, shown


@cli.command("query")
@click.argument("query")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "tsv", "json", "xml"]),
    default="table",
    show_default=True,
    help="Output for SELECT and ASK; CONSTRUCT and DESCRIBE print Turtle.",
)
@settings_options("query")
def query_command(query: str, fmt: str, store: str, base_iri: str, **options: Any) -> None:
    """Run QUERY (SPARQL text, or a path to a .rq file) against the store.

    The project's prefixes (ag:, id:, skos: ...; see the README) are declared for a query
    that does not declare them itself. SERVICE and LOAD targets must be on the service
    allow-list (KG_SERVICE_ALLOWLIST), as for the server: a query file from elsewhere must not
    make this machine fetch anything.
    """
    text = _query_text(query)
    try:
        values = {**setting_values(options), "base_iri": base_iri}
        declared = prefixes(base_iri)
        check_remote_targets(text, values["service_allowlist"], update=False, prefixes=declared)
        handle = open_store(store, read_only=True, options=values)
        result = run_query(handle, text, prefixes=declared)
        with evaluating(text=text):  # the table is printed as the answer is evaluated
            _print_result(result, fmt, base_iri)
    except EvaluationFailed as error:  # e.g. a SERVICE call; the engine's text is ours to read
        fail(f"the query failed: {error.reason}")
    except (QuerySyntaxError, FileNotFoundError, GraphError) as error:
        fail(str(error))


def _print_result(
    result: QuerySolutions | QueryBoolean | QueryTriples, fmt: str, base: str
) -> None:
    if isinstance(result, QueryTriples):
        click.echo(serialize_results(result, "text/turtle"), nl=False)
    elif fmt == "table" and isinstance(result, QuerySolutions):
        _print_table(result, base)
    elif fmt == "table" and isinstance(result, QueryBoolean):
        click.echo("true" if bool(result) else "false")
    else:
        media = {
            "csv": "text/csv",
            "tsv": "text/tab-separated-values",
            "json": "application/sparql-results+json",
            "xml": "application/sparql-results+xml",
        }
        click.echo(serialize_results(result, media[fmt]), nl=False)


def _query_text(query: str) -> str:
    path = Path(query)
    if query.endswith(".rq") or (len(query) < 4096 and "\n" not in query and _is_file(path)):
        try:
            return path.read_text(encoding="utf-8")
        except OSError as error:
            fail(f"cannot read query file {query}: {error.strerror}")
        except UnicodeDecodeError as error:
            fail(f"query file {query} is not UTF-8 (byte offset {error.start}: {error.reason})")
    return query


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except (OSError, ValueError):  # e.g. a query longer than a file name may be, or with NUL
        return False


def _print_table(result: QuerySolutions, base: str) -> None:
    variables = [v.value for v in result.variables]
    table = Table(show_lines=False)
    for variable in variables:
        # Folded, never cut with an ellipsis: two IRIs that differ at their end stay apart.
        table.add_column(variable, overflow="fold")
    rows = 0
    for solution in result:
        table.add_row(*[_cell(solution[v], base) for v in variables])
        rows += 1
    out.print(table, highlight=False)
    err.print(f"{rows} row(s)", highlight=False)


def _cell(term: Any, base: str) -> str:
    """A term as a person reads it: IRIs with the project's prefixes (``id:country/honduras``),
    blank nodes as ``_:id``, literals by their value."""
    if term is None:
        return ""
    if isinstance(term, NamedNode):
        return shown(compact(term.value, base))
    if isinstance(term, BlankNode):
        return f"_:{term.value}"
    return shown(str(term.value))


@cli.command("stats")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@settings_options("stats")
def stats_command(as_json: bool, store: str, base_iri: str, **options: Any) -> None:
    """Count triples, named graphs, triples per graph and instances per class in the store."""
    try:
        values = {**setting_values(options), "base_iri": base_iri}
        handle = open_store(store, read_only=True, options=values)
        figures = stats(handle)
    except (FileNotFoundError, GraphError) as error:
        fail(str(error))
    if as_json:
        click.echo(json.dumps(figures, indent=2))
        return
    out.print(f"triples: {figures['triples']}\nnamed graphs: {figures['graphs']}", highlight=False)
    graphs = Table(
        Column(f"named graph (under {base_iri})", overflow="fold"),
        Column("triples", justify="right"),
    )
    for graph, count in figures["graph_triples"].items():
        graphs.add_row(shown(graph.removeprefix(base_iri)), str(count))
    out.print(graphs, highlight=False)
    classes = Table(Column("class", overflow="fold"), Column("instances", justify="right"))
    for cls, count in figures["classes"].items():
        classes.add_row(shown(compact(cls, base_iri)), str(count))
    out.print(classes, highlight=False)


def stats(handle: Store | RemoteStore) -> dict[str, Any]:
    """Figures about a store: triples, graphs, triples per graph, instances per class."""
    return {
        "triples": int(select_rows(handle, queries.COUNT_TRIPLES)[0]["n"]),
        "graphs": int(select_rows(handle, queries.COUNT_GRAPHS)[0]["n"]),
        "graph_triples": {
            r["graph"]: int(r["triples"]) for r in select_rows(handle, queries.TRIPLES_PER_GRAPH)
        },
        "classes": {
            r["class"]: int(r["instances"])
            for r in select_rows(handle, queries.INSTANCES_PER_CLASS)
        },
    }


@cli.command("export")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(list(EXPORT_FORMATS)),
    required=True,
    help="gexf (Gephi), graphml, cytoscape (Cytoscape JSON), dot (Graphviz), or an RDF format.",
)
@click.option(
    "--query",
    "query_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A CONSTRUCT query (.rq) whose result is exported instead of the whole graph.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File to write (written whole or not at all); default: standard output.",
)
@settings_options("export")
def export_command(
    fmt: str,
    query_file: Path | None,
    out: Path | None,
    store: str,
    base_iri: str,
    **options: Any,
) -> None:
    """Export the graph (or a CONSTRUCT's result) for Gephi, Cytoscape, Graphviz or RDF tools."""
    query = query_file.read_text(encoding="utf-8") if query_file else None
    try:
        values = {**setting_values(options), "base_iri": base_iri}
        handle = open_store(store, read_only=True, options=values)
        body = export(handle, fmt, base_iri, query)
    except (QuerySyntaxError, FileNotFoundError, ExportError, GraphError) as error:
        fail(str(error))
    if out is None:
        click.echo(body, nl=False)
        return
    partial = out.with_name(f".{out.name}.partial")
    partial.write_bytes(body)
    partial.replace(out)
    err.print(f"Wrote {len(body)} bytes of {fmt} to {out}", highlight=False)
