"""`kg build` and `kg validate`: thin wrappers over graph.build.embedded and the validators."""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import click

from graph.build.embedded import (
    NoSourceFiles,
    ValidationFailed,
    build,
    choose_engine,
    validate_project,
)
from graph.build.unfiled import UnfiledGraphs, save_graphs
from graph.cli.common import cli, err, fail, progress, setting_values, settings_options
from graph.core.errors import GraphError
from graph.sources.files import (
    ParsedFile,
    SourceFile,
    data_graph_name,
    discover,
    parse_sources,
    provided_graphs,
)
from graph.store import (
    RdfSyntaxError,
    Store,
    bulk_load_file,
    is_remote,
    open_store,
    parse_file,
)
from graph.store.generations import StoreBusy
from graph.validation.added import added_nodes, validate_added
from graph.validation.compile import UnsupportedShape
from graph.validation.in_store import shapes_graph, validate_store
from graph.validation.report import Report


@cli.command("build")
@settings_options("build")
@click.option(
    "--drop-unfiled",
    is_flag=True,
    help="Drop the store's graphs that no file under data/ provides (written over HTTP);"
    " without it the build refuses while there are any (keep them with `kg save-graphs`).",
)
def build_command(
    store: str,
    project_dir: Path,
    base_iri: str,
    engine: str,
    drop_unfiled: bool,
    **remote: Any,
) -> None:
    """Parse, validate and load the graph into the store at --store (a path or a SPARQL URL).

    The previous store (or the previous named graphs of an external store) stays in place
    unless every step succeeds. Refused while a writable server has the store open.
    """
    if is_remote(store):
        _build_remote(store, {**setting_values(remote), "base_iri": base_iri}, project_dir)
        return
    started = time.monotonic()
    try:
        result = build(
            project_dir, Path(store), base_iri, progress, engine, drop_unfiled=drop_unfiled
        )
    except (
        RdfSyntaxError,
        UnsupportedShape,
        NoSourceFiles,
        FileExistsError,
        StoreBusy,
        UnfiledGraphs,
    ) as error:
        fail(str(error))
    except OSError as error:
        fail(f"cannot build the store at {store}: {error.strerror or error}")
    except ValidationFailed as failure:
        err.print(failure.report.to_text(), highlight=False, markup=False, soft_wrap=True)
        fail(f"{failure}; the store at {store} was left unchanged")
    else:
        err.print(result.summary(time.monotonic() - started), highlight=False, soft_wrap=True)


@cli.command("save-graphs")
@settings_options("save-graphs")
def save_graphs_command(store: str, project_dir: Path, base_iri: str) -> None:
    """Write the store's graphs that no file provides (written over HTTP) into data/sources/.

    GRAPH {base}graph/NAME becomes data/sources/NAME.ttl, which the next build loads back into
    the same graph. Nothing is written if one of them cannot become a file.
    """
    if is_remote(store):
        fail(f"{store} is an external store: its graphs come from `kg build --store URL`")
    try:
        provided = provided_graphs(project_dir, base_iri)
        saved = save_graphs(Path(store), project_dir, base_iri, provided)
    except (ValueError, FileNotFoundError, RdfSyntaxError, StoreBusy) as error:
        fail(str(error))
    for one in saved:
        err.print(f"Saved <{one.graph}> ({one.triples} triples) to {one.path}", highlight=False)
    if not saved:
        err.print(f"Every graph of {store} comes from a file: nothing to save", highlight=False)


def _build_remote(url: str, options: dict[str, Any], project_dir: Path) -> None:
    from graph.build.external import build_remote
    from graph.store.external.remote_store import RemoteStore

    base_iri = str(options["base_iri"])
    remote = RemoteStore.from_settings(url, options)
    try:
        result = build_remote(project_dir, remote, base_iri, progress, progress)
    except RdfSyntaxError as error:
        fail(str(error))
    except ValidationFailed as failure:
        err.print(failure.report.to_text(), highlight=False, markup=False, soft_wrap=True)
        fail(f"{failure}; nothing was sent to {url}")
    except GraphError as error:
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
@settings_options("validate")
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
            focus = sorted(added_nodes(store, added, base, shapes))
        report = validate_store(store, shapes, data, base, focus=focus, track=progress)
        del store
    return report


def _parse_extra(path: Path, base: str) -> ParsedFile:
    source = SourceFile(path, "data", data_graph_name(path))
    quads, prefixes = parse_file(path, source.graph(base), base)
    return ParsedFile(source, quads, prefixes)
