"""`kg serve`, `kg backup` and `kg restore`: running and keeping the store."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import click

from graph.build.embedded import (
    ValidationFailed,
)
from graph.build.restored import restore_checked
from graph.cli.common import cli, err, fail, setting_values, settings_options
from graph.core.settings import resolve
from graph.store import (
    RdfSyntaxError,
    is_remote,
)
from graph.store.backup import BackupError, backup
from graph.store.generations import StoreBusy
from graph.validation.compile import UnsupportedShape


@cli.command("backup")
@click.argument("destination", type=click.Path(path_type=Path))
@settings_options("backup")
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
    except OSError as error:
        fail(f"cannot write the backup to {destination}: {error.strerror or error}")
    err.print(f"Backed up {result.quads} quads to {result.path} ({result.kind})", highlight=False)


@cli.command("restore")
@click.argument("source", type=click.Path(path_type=Path))
@settings_options("restore")
def restore_command(source: Path, store: str, project_dir: Path) -> None:
    """Publish the backup at SOURCE as the store's new generation, atomically, if it conforms
    to the project's shapes (checked as a build checks; a refused backup changes nothing)."""
    if is_remote(store):
        fail(f"{store} is an external store: restore it with its own tools")
    try:
        result = restore_checked(source, Path(store), Path(project_dir))
    except (BackupError, RdfSyntaxError, FileExistsError, StoreBusy, UnsupportedShape) as error:
        fail(str(error))
    except ValidationFailed as failure:
        err.print(failure.report.to_text(), highlight=False, markup=False, soft_wrap=True)
        fail(f"{failure} in {source}; nothing was restored, the store at {store} is unchanged")
    except OSError as error:
        fail(f"cannot restore {source}: {error.strerror or error}")
    err.print(f"Restored {result.quads} quads from {source} into {store}", highlight=False)


@cli.command("serve")
@settings_options("serve")
@click.option(
    "--access-log/--no-access-log",
    default=None,
    help="JSON-lines access log on stderr. Default: off on a terminal, on otherwise (under a"
    " supervisor, or with stderr sent to a file).",
)
def serve_command(access_log: bool | None, **options: Any) -> None:
    """Serve the SPARQL endpoint and the site (granian, or gunicorn for writes; a worker per core).

    --store is a path (built first if there is no store yet) or the URL of an external SPARQL
    store (never built from here; run several instances behind a load balancer). Every
    setting is an option here or a KG_* variable; secrets come from the environment or a file.
    """
    import os
    import shutil

    from graph.serving import allocator as allocators

    values = resolve(setting_values(options))
    try:
        library = allocators.library_for(str(values["allocator"]))
    except ValueError as error:
        fail(str(error))
    if library is not None:
        allocators.restart_with(library)
    config = {name.upper(): value for name, value in values.items()}
    if access_log is None:
        access_log = not err.is_terminal
    # Metrics across worker processes: must be set before prometheus_client is imported.
    metrics_dir = tempfile.mkdtemp(prefix="kg-metrics-")
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", metrics_dir)
    try:
        _serve(config, access_log)
    finally:
        shutil.rmtree(metrics_dir, ignore_errors=True)


def _serve(config: dict[str, Any], access_log: bool) -> None:
    from graph.answering.allowlist import check_entries
    from graph.answering.engine_plan import EngineUnavailable, check_engine
    from graph.answering.sandbox import network_needed
    from graph.serving.server import http_server, port_taken, serve

    try:
        http_server(config)
        check_entries(config["SERVICE_ALLOWLIST"])
        if network_needed(config):  # no sandbox: the engine's plan decides SERVICE targets
            check_engine()
    except (ValueError, EngineUnavailable) as error:  # NotAllowedUrl is a ValueError
        fail(str(error))
    taken = port_taken(str(config["HOST"]), int(config["PORT"]))
    if taken:
        fail(f"{taken}; choose another with --port (e.g. --port {int(config['PORT']) + 1})")
    try:
        serve(config, access_log=access_log)
    except (RdfSyntaxError, ValidationFailed) as error:
        fail(f"cannot build the store to serve: {error}")
