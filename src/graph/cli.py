"""The ``kg`` command line: thin wrappers over build, validate, query and stats."""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from graph import __version__, queries
from graph.backup import BackupError, StoreBusy, backup, restore
from graph.build import (
    ENGINES,
    NoSourceFiles,
    ValidationFailed,
    build,
    choose_engine,
    validate_project,
)
from graph.endpoints import KINDS
from graph.errors import HttpError
from graph.export import FORMATS as EXPORT_FORMATS
from graph.export import ExportError, export
from graph.settings import BY_NAME
from graph.shacl_sparql import UnsupportedShape
from graph.sources import ParsedFile, SourceFile, data_graph_name, discover, parse_sources
from graph.store import (
    QueryBoolean,
    QuerySolutions,
    QuerySyntaxError,
    QueryTriples,
    RdfSyntaxError,
    Store,
    bulk_load_file,
    is_remote,
    open_store,
    parse_file,
    run_query,
    select_rows,
    serialize_results,
)
from graph.validate import Report
from graph.validate_added import added_nodes, validate_added
from graph.validate_sparql import shapes_graph, validate_store

if TYPE_CHECKING:
    from graph.remote import RemoteStore

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

err = Console(stderr=True)
out = Console()


def setting_option(name: str, **extra: Any) -> Callable[[F], F]:
    """A click option declared from a setting: same name, default, help and KG_* variable."""
    setting = BY_NAME[name]
    kwargs: dict[str, Any] = {
        "default": setting.default,
        "show_default": True,
        "envvar": setting.env,
        "help": setting.help,
        "type": setting.type if setting.type is not tuple else str,
    }
    kwargs.update(extra)
    return click.option(setting.option, name, **kwargs)


def store_kind_option(function: F) -> F:
    """The --store-kind option: endpoint presets for an external store given by URL."""
    return setting_option("store_kind", type=click.Choice(KINDS))(function)


def progress(items: Iterable[T], description: str, total: int) -> Iterable[T]:
    """A progress bar on stderr while ``items`` are consumed, drawn only on a terminal.

    The spinner and elapsed time keep moving during one long step (Oxigraph loading a large
    file, one batch of checks); redirected output (CI, a pipe, a log file) stays clean.
    """
    if not err.is_terminal:
        return items
    return _bar(items, description, total)


def _bar(items: Iterable[T], description: str, total: int) -> Iterator[T]:
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err, transient=True) as bar:
        yield from bar.track(items, total=total, description=description)


def fail(message: str, code: int = 1) -> None:
    """Print an error without a traceback and exit."""
    err.print(f"[bold red]error:[/] {message}", highlight=False, markup=True, soft_wrap=True)
    sys.exit(code)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kg")
def cli() -> None:
    """Alliance Graph: build, validate, query and serve the knowledge graph."""


@cli.command("build")
@setting_option("store")
@store_kind_option
@setting_option("project_dir", type=click.Path(path_type=Path, file_okay=False))
@setting_option("base_iri")
@setting_option("engine", type=click.Choice(ENGINES))
def build_command(
    store: str, store_kind: str, project_dir: Path, base_iri: str, engine: str
) -> None:
    """Parse, validate and load the graph into the store at --store (a path or a SPARQL URL).

    The previous store (or the previous named graphs of an external store) stays in place
    unless every step succeeds.
    """
    if is_remote(store):
        _build_remote(store, store_kind, project_dir, base_iri)
        return
    try:
        result = build(project_dir, Path(store), base_iri, progress, engine)
    except (RdfSyntaxError, UnsupportedShape, NoSourceFiles, FileExistsError) as error:
        fail(str(error))
    except OSError as error:
        fail(f"cannot build the store at {store}: {error.strerror or error}")
    except ValidationFailed as failure:
        err.print(failure.report.to_text(), highlight=False, markup=False)
        fail(f"{failure}; the store at {store} was left unchanged")
    else:
        err.print(
            f"Built {result.quads} quads in {result.graphs} named graphs from {result.files} files"
            f" into {store}",
            highlight=False,
        )


def _build_remote(url: str, kind: str, project_dir: Path, base_iri: str) -> None:
    from graph.remote import RemoteStore
    from graph.remote_build import build_remote

    remote = RemoteStore.from_settings(url, {"store_kind": kind, "base_iri": base_iri})
    try:
        result = build_remote(project_dir, remote, base_iri, progress, progress)
    except RdfSyntaxError as error:
        fail(str(error))
    except ValidationFailed as failure:
        err.print(failure.report.to_text(), highlight=False, markup=False)
        fail(f"{failure}; nothing was sent to {url}")
    except (HttpError, SyntaxError) as error:
        fail(f"{error}; the graphs published at {url} were left unchanged")
    else:
        err.print(
            f"Published {result.quads} quads in {result.graphs} named graphs from"
            f" {result.files} files to {url} (removed {result.removed} stale graphs)",
            highlight=False,
        )


@cli.command("validate")
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "turtle"]),
    default="text",
    show_default=True,
    help="How to print the report.",
)
@setting_option("project_dir", type=click.Path(path_type=Path, file_okay=False))
@setting_option("base_iri")
@setting_option("engine", type=click.Choice(ENGINES))
@click.option(
    "--against",
    type=click.Path(path_type=Path),
    help="With FILES: check them against this built store instead of the project's files.",
)
def validate_command(
    files: tuple[Path, ...],
    fmt: str,
    project_dir: Path,
    base_iri: str,
    engine: str,
    against: Path | None,
) -> None:
    """Check the data (or FILES, with the project's data as context) against the shapes.

    Exits with status 1 if there is any violation or syntax error.
    """
    sources = discover(project_dir)
    added = [SourceFile(path, "data", data_graph_name(path)) for path in files]
    try:
        chosen = "sparql" if against else choose_engine(engine, [*sources, *added])
        if chosen == "sparql":
            report = _validate_sparql(sources, added, base_iri, against)
        else:
            parsed = parse_sources(sources, base_iri, progress)
            only = [_parse_extra(path, base_iri) for path in files] if files else None
            report = validate_project(parsed, only)
    except (RdfSyntaxError, UnsupportedShape, FileNotFoundError) as error:
        fail(str(error))
        return
    if fmt == "json":
        click.echo(report.to_json())
    elif fmt == "turtle":
        click.echo(report.to_turtle())
    else:
        click.echo(report.to_text())
    sys.exit(0 if report.conforms else 1)


def _validate_sparql(
    sources: list[SourceFile], added: list[SourceFile], base: str, against: Path | None
) -> Report:
    """Validate with the compiled SPARQL checks, in a temporary store or against a built one."""
    shapes = shapes_graph(s for s in sources if s.role == "shapes")
    if against is not None:
        built = open_store(against, read_only=True)
        if not isinstance(built, Store):
            raise click.UsageError("--against takes the path of an embedded store, not a URL")
        return validate_added(built, added, shapes, base, progress)
    replaced = {a.graph_name for a in added}
    loaded = [s for s in sources if s.role != "shapes" and s.graph_name not in replaced]
    data = [s for s in loaded if s.role == "data"] + added
    with tempfile.TemporaryDirectory(prefix="kg-validate-") as directory:
        store = Store(directory)
        for source in progress([*loaded, *added], "Loading", len(loaded) + len(added)):
            bulk_load_file(store, source.path, source.graph(base), base)
        focus = None
        if added:
            focus = sorted(added_nodes(store, added, base))
        report = validate_store(store, shapes, data, base, focus=focus, track=progress)
        del store
    return report


def _parse_extra(path: Path, base: str) -> ParsedFile:
    source = SourceFile(path, "data", data_graph_name(path))
    quads, prefixes = parse_file(path, source.graph(base), base)
    return ParsedFile(source, quads, prefixes)


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
@setting_option("store")
@store_kind_option
def query_command(query: str, fmt: str, store: str, store_kind: str) -> None:
    """Run QUERY (SPARQL text, or a path to a .rq file) against the store."""
    text = _query_text(query)
    try:
        handle = open_store(store, read_only=True, options={"store_kind": store_kind})
        result = run_query(handle, text)
        _print_result(result, fmt)
    except (QuerySyntaxError, FileNotFoundError, HttpError) as error:
        fail(str(error))
    except OSError as error:  # raised while evaluating, e.g. by a SERVICE call
        fail(f"the query failed: {error}")


def _print_result(result: QuerySolutions | QueryBoolean | QueryTriples, fmt: str) -> None:
    if isinstance(result, QueryTriples):
        click.echo(serialize_results(result, "text/turtle"), nl=False)
    elif fmt == "table" and isinstance(result, QuerySolutions):
        _print_table(result)
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


def _print_table(result: QuerySolutions) -> None:
    variables = [v.value for v in result.variables]
    table = Table(*variables, show_lines=False)
    rows = 0
    for solution in result:
        table.add_row(*[_cell(solution[v]) for v in variables])
        rows += 1
    out.print(table)
    err.print(f"{rows} row(s)", highlight=False)


def _cell(term: Any) -> str:
    return "" if term is None else str(term.value)


@cli.command("stats")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@setting_option("store")
@store_kind_option
def stats_command(as_json: bool, store: str, store_kind: str) -> None:
    """Count triples, named graphs and instances per class in the store."""
    try:
        handle = open_store(store, read_only=True, options={"store_kind": store_kind})
        figures = stats(handle)
    except (FileNotFoundError, HttpError) as error:
        fail(str(error))
        return
    if as_json:
        click.echo(json.dumps(figures, indent=2))
        return
    out.print(f"triples: {figures['triples']}\nnamed graphs: {figures['graphs']}", highlight=False)
    table = Table("class", "instances")
    for cls, count in figures["classes"].items():
        table.add_row(cls, str(count))
    out.print(table)


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


@cli.command("backup")
@click.argument("destination", type=click.Path(path_type=Path))
@setting_option("store")
def backup_command(destination: Path, store: str) -> None:
    """Copy the store to DESTINATION while it is being served read-only.

    DESTINATION is a new directory (a store checkpoint, fast) or a .nq/.trig file (a portable
    dump of every quad).
    """
    if is_remote(store):
        fail(f"{store} is an external store: back it up with its own tools")
    try:
        result = backup(Path(store), destination)
    except (BackupError, StoreBusy, FileNotFoundError) as error:
        fail(str(error))
        return
    except OSError as error:
        fail(f"cannot write the backup to {destination}: {error.strerror or error}")
        return
    err.print(f"Backed up {result.quads} quads to {result.path} ({result.kind})", highlight=False)


@cli.command("restore")
@click.argument("source", type=click.Path(path_type=Path))
@setting_option("store")
def restore_command(source: Path, store: str) -> None:
    """Publish the backup at SOURCE as the store's new generation, atomically."""
    if is_remote(store):
        fail(f"{store} is an external store: restore it with its own tools")
    try:
        result = restore(source, Path(store))
    except (BackupError, RdfSyntaxError, FileExistsError) as error:
        fail(str(error))
        return
    except OSError as error:
        fail(f"cannot restore {source}: {error.strerror or error}")
        return
    err.print(f"Restored {result.quads} quads from {source} into {store}", highlight=False)


@cli.command("serve")
@setting_option("store")
@store_kind_option
@setting_option("host")
@setting_option("port")
@setting_option("workers")
@setting_option("threads")
@setting_option("http_server")
@click.option("--access-log/--no-access-log", default=True, help="JSON-lines access log.")
def serve_command(
    store: str,
    store_kind: str,
    host: str,
    port: int,
    workers: int,
    threads: int,
    http_server: str,
    access_log: bool,
) -> None:
    """Serve the SPARQL endpoint and the site (granian, or gunicorn for writes; a worker per core).

    --store is a path (built first if there is no store yet) or the URL of an external SPARQL
    store (never built from here; run several instances behind a load balancer). Other
    settings come from KG_* variables.
    """
    import os
    import shutil
    import tempfile

    from graph.settings import resolve

    # Metrics across worker processes: must be set before prometheus_client is imported.
    metrics_dir = tempfile.mkdtemp(prefix="kg-metrics-")
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", metrics_dir)
    values = resolve(
        {
            "store": store,
            "store_kind": store_kind,
            "host": host,
            "port": port,
            "workers": workers,
            "threads": threads,
            "http_server": http_server,
        }
    )
    config = {name.upper(): value for name, value in values.items()}
    from graph.server import http_server as chosen_server
    from graph.server import serve

    try:
        chosen_server(config)
    except ValueError as error:
        fail(str(error))
    try:
        serve(config, access_log=access_log)
    except (RdfSyntaxError, ValidationFailed) as error:
        fail(f"cannot build the store to serve: {error}")
    finally:
        shutil.rmtree(metrics_dir, ignore_errors=True)


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
@setting_option("store")
@store_kind_option
@setting_option("base_iri")
def export_command(
    fmt: str,
    query_file: Path | None,
    out: Path | None,
    store: str,
    store_kind: str,
    base_iri: str,
) -> None:
    """Export the graph (or a CONSTRUCT's result) for Gephi, Cytoscape, Graphviz or RDF tools."""
    query = query_file.read_text(encoding="utf-8") if query_file else None
    try:
        options = {"store_kind": store_kind, "base_iri": base_iri}
        handle = open_store(store, read_only=True, options=options)
        body = export(handle, fmt, base_iri, query)
    except (QuerySyntaxError, FileNotFoundError, ExportError, HttpError) as error:
        fail(str(error))
        return
    if out is None:
        click.echo(body, nl=False)
        return
    partial = out.with_name(f".{out.name}.partial")
    partial.write_bytes(body)
    partial.replace(out)
    err.print(f"Wrote {len(body)} bytes of {fmt} to {out}", highlight=False)


def main() -> None:
    """Entry point of the ``kg`` script."""
    cli()
