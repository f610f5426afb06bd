"""Shared pieces of the command line: the group, options from settings, progress, errors."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, NoReturn, TypeVar

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
from rich.text import Text

from graph import __version__
from graph.build.embedded import ENGINES
from graph.core.settings import BY_NAME, SETTINGS
from graph.store.external.endpoints import KINDS

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

# Text from the store, an external store's error or the user is printed as it is: rich's markup
# ("[/x]" raised MarkupError, a traceback; "[link=...]" made a link) and emoji codes (":x:" in
# "urn:x:a" became an emoji) are off; :func:`shown` escapes control characters.
err = Console(stderr=True, markup=False, emoji=False)
out = Console(markup=False, emoji=False)

#: Control characters a terminal acts on (ESC starts a sequence that can clear the screen or
#: retitle the window, CR overwrites the line), tab and newline apart.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def shown(text: str) -> str:
    r"""``text`` with each control character a terminal would act on written as its escape.

    >>> shown("a\x1b[2Jb\tc\rd")
    'a\\x1b[2Jb\tc\\rd'
    """
    return _CONTROLS.sub(lambda found: found.group().encode("unicode_escape").decode(), text)


#: Click types of the settings whose value is a choice or a folder (the rest: their own type).
CLICK_TYPES: dict[str, Any] = {
    "store_kind": click.Choice(KINDS),
    "engine": click.Choice(ENGINES),
    "project_dir": click.Path(path_type=Path, file_okay=False),
}


def setting_option(name: str, **extra: Any) -> Callable[[F], F]:
    """A click option declared from a setting: same name, default, help and KG_* variable.

    A secret's option names a file holding it (its value is never on the command line, where
    ``ps`` shows it); a yes/no setting is a ``--name/--no-name`` flag.
    """
    setting = BY_NAME[name]
    if setting.secret:
        return click.option(
            setting.option,
            name,
            type=click.Path(exists=True, dir_okay=False, path_type=Path),
            callback=_read_secret,
            help=f"A file holding the secret. {setting.help} Without it: ${setting.env}.",
        )
    kwargs: dict[str, Any] = {
        "default": setting.default,
        "show_default": True,
        "envvar": setting.env,
        "help": setting.help,
        "type": CLICK_TYPES.get(name, setting.type),
    }
    declared = setting.option
    if setting.type is bool:
        declared = f"{setting.option}/--no-{setting.option[2:]}"
    elif setting.type is tuple:
        kwargs.update(type=str, default=",".join(setting.default))
    kwargs.update(extra)
    return click.option(declared, name, **kwargs)


def settings_options(command: str) -> Callable[[F], F]:
    """Every setting that names ``command`` (graph.core.settings), as its options, in the
    order of the declarations."""

    def apply(function: F) -> F:
        for setting in reversed(SETTINGS):
            if command in setting.commands:
                function = setting_option(setting.name)(function)
        return function

    return apply


def setting_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """The options' values as :func:`graph.core.settings.resolve` takes them (a comma-separated
    list as a tuple, a folder as text); a secret not given stays None (the environment's)."""
    converted: dict[str, Any] = {}
    for name, value in values.items():
        setting = BY_NAME.get(name)
        if setting is None:
            continue
        if setting.type is tuple and isinstance(value, str):
            value = setting.parse(value)
        elif isinstance(value, Path):
            value = str(value)
        converted[name] = value
    return converted


def _read_secret(_ctx: click.Context, _param: click.Parameter, path: Path | None) -> str | None:
    if path is None:
        return None
    try:
        return path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as error:
        raise click.BadParameter(f"cannot read {path}: {error}") from None


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


def fail(message: str, code: int = 1) -> NoReturn:
    """Print an error without a traceback and exit."""
    err.print(Text.assemble(("error:", "bold red"), " ", shown(message)), soft_wrap=True)
    sys.exit(code)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kg")
def cli() -> None:
    """Alliance Graph: build, validate, query and serve the knowledge graph."""
