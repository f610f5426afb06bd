"""Shared pieces of the command line: the group, options from settings, progress, errors."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
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

from graph import __version__
from graph.core.settings import BY_NAME
from graph.store.external.endpoints import KINDS

if TYPE_CHECKING:
    pass


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
