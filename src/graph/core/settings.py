"""Every setting declared once, as (name, default, help).

The same declarations feed the command line (``--name`` options on the commands each setting
names), the environment (``KG_NAME``), the Flask configuration (``app.config["NAME"]``) and the
README's settings table, which ``tests/test_docs.py`` keeps in step with this list.

A secret (the write token, the external store's password and Authorization header) is no
command-line option: the arguments of a process are visible to every user of the machine
(``ps``, ``/proc/PID/cmdline``). It comes from its ``KG_*`` variable, or from a file named by
``--NAME-file`` (as Docker and systemd hand secrets over).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graph.core.namespaces import CANONICAL_BASE

#: Where ``pip install`` puts the project's files (ontology/, shapes/, data/, queries/): see
#: ``[tool.setuptools.data-files]`` in pyproject.toml.
INSTALLED_FILES = Path(sys.prefix) / "share" / "alliance-graph"


def default_project_dir(module: Path = Path(__file__)) -> Path:
    """The folder holding ontology/, shapes/ and data/: the clone this module runs from (an
    editable install), else the copy installed with the package (a wheel).

    >>> default_project_dir(Path("/nowhere/src/graph/core/settings.py")) == INSTALLED_FILES
    True
    """
    clone = module.resolve().parents[3]
    if (clone / "ontology").is_dir() and (clone / "pyproject.toml").is_file():
        return clone
    return INSTALLED_FILES


PROJECT_DIR = default_project_dir()


@dataclass(frozen=True)
class Setting:
    """One configurable value: its name, default, type and a line of help."""

    name: str
    default: Any
    help: str
    type: type = str
    #: The ``kg`` commands that take it as an option.
    commands: tuple[str, ...] = ()
    #: Never on a command line: from the environment, or a file given by ``--NAME-file``.
    secret: bool = False

    @property
    def env(self) -> str:
        """The environment variable that overrides the default."""
        return "KG_" + self.name.upper()

    @property
    def option(self) -> str:
        """The command-line option that overrides the environment (for a secret: the file
        that holds it)."""
        return "--" + self.name.replace("_", "-") + ("-file" if self.secret else "")

    def parse(self, raw: str) -> Any:
        """Convert a string from the environment into the setting's type."""
        if self.type is bool:
            return raw.strip().lower() in {"1", "true", "yes", "on"}
        if self.type is tuple:
            return tuple(part.strip() for part in raw.split(",") if part.strip())
        return self.type(raw)


#: Commands that open a store, and those that can open an external one (a URL).
STORE_COMMANDS = (
    "build",
    "save-graphs",
    "query",
    "stats",
    "serve",
    "export",
    "backup",
    "restore",
    "reconcile",
)
REMOTE_COMMANDS = ("build", "query", "stats", "serve", "export", "reconcile")
SERVE = ("serve",)

SETTINGS: tuple[Setting, ...] = (
    Setting(
        "store",
        "var/store",
        "Path of the embedded Oxigraph store, or the http(s) URL of an external SPARQL 1.1 store.",
        commands=STORE_COMMANDS,
    ),
    Setting(
        "store_kind",
        "auto",
        "External store kind (auto, oxigraph, virtuoso, fuseki, generic): sets endpoint paths, "
        "authentication and how the time limit is passed.",
        commands=REMOTE_COMMANDS,
    ),
    Setting(
        "store_query_url",
        "",
        "SPARQL query endpoint of the external store (overrides kind).",
        commands=REMOTE_COMMANDS,
    ),
    Setting(
        "store_update_url",
        "",
        "SPARQL update endpoint of the external store.",
        commands=REMOTE_COMMANDS,
    ),
    Setting(
        "store_gsp_url",
        "",
        "Graph Store Protocol endpoint of the external store.",
        commands=REMOTE_COMMANDS,
    ),
    Setting(
        "store_user",
        "",
        "User name for the external store (HTTP Basic, Digest for Virtuoso).",
        commands=REMOTE_COMMANDS,
    ),
    Setting(
        "store_password",
        "",
        "Password for the external store.",
        commands=REMOTE_COMMANDS,
        secret=True,
    ),
    Setting(
        "store_authorization",
        "",
        "Authorization header sent to the external store as is (e.g. 'Bearer ...').",
        commands=REMOTE_COMMANDS,
        secret=True,
    ),
    Setting(
        "store_graph_ttl",
        2.0,
        "Seconds an instance caches the external store's list of the graph's named graphs.",
        float,
        commands=REMOTE_COMMANDS,
    ),
    Setting(
        "project_dir",
        str(PROJECT_DIR),
        "Folder holding ontology/, shapes/, data/ and queries/ (default: the clone, or the copy "
        "installed with the package).",
        commands=("build", "save-graphs", "validate", "serve", "restore"),
    ),
    Setting(
        "base_iri",
        CANONICAL_BASE,
        "Base IRI the graph is published under.",
        commands=(
            "build",
            "save-graphs",
            "validate",
            "query",
            "stats",
            "serve",
            "export",
            "reconcile",
        ),
    ),
    Setting(
        "engine",
        "auto",
        "SHACL engine: sparql (compiled queries in the store), pyshacl, or auto (sparql for data"
        " over 5 MB, falling back to pyshacl for shapes it cannot compile).",
        commands=("build", "validate"),
    ),
    Setting("host", "127.0.0.1", "Address the server binds to.", commands=SERVE),
    Setting("port", 5000, "Port the server listens on.", int, commands=SERVE),
    Setting(
        "workers",
        0,
        "Server worker processes; 0 means one per CPU core this process may use.",
        int,
        commands=SERVE,
    ),
    Setting(
        "threads",
        2,
        "Threads per server worker process (more threads contend for Python's GIL: 2 gave the"
        " most requests/s on 2 cores).",
        int,
        commands=SERVE,
    ),
    Setting(
        "slow_query_threads",
        8,
        "Request threads per server worker on top of `threads`, for queries past 50 ms of CPU"
        " (at idle CPU priority, so they never delay short ones): runaways up to this many per"
        " worker leave short queries their threads.",
        int,
        commands=SERVE,
    ),
    Setting(
        "client_slow_queries",
        0,
        "Queries past 50 ms of CPU one client address may have in a worker at once; its next"
        " query gets 429 with Retry-After until one ends. 0: no limit, the right choice behind"
        " a proxy or NAT, where clients share an address.",
        int,
        commands=SERVE,
    ),
    Setting(
        "io_threads",
        2,
        "Threads per granian worker that read requests and write answers (Rust, no GIL): 2 kept"
        " the 99th percentile latency within 1.6x native Oxigraph's, 1 let it reach 7x.",
        int,
        commands=SERVE,
    ),
    Setting(
        "allocator",
        "auto",
        "Memory allocator for kg serve: auto (mimalloc, else jemalloc, when installed), system"
        " (glibc's), or a library's path. Oxigraph runs faster on either (see Performance).",
        commands=SERVE,
    ),
    Setting(
        "http_server",
        "auto",
        "HTTP server for kg serve: granian (HTTP in Rust, read-only only), gunicorn, or auto"
        " (granian when read-only, gunicorn when a write token is set).",
        commands=SERVE,
    ),
    Setting(
        "result_cache_mb",
        64,
        "Memory per worker for cached query answers, in MiB (valid until the store changes);"
        " 0 turns the cache off.",
        int,
        commands=SERVE,
    ),
    Setting(
        "query_timeout",
        10.0,
        "Seconds a query may run before it is stopped.",
        float,
        commands=SERVE,
    ),
    Setting(
        "max_results", 100_000, "Most rows or triples one query may return.", int, commands=SERVE
    ),
    Setting(
        "max_graph_export",
        20_000,
        "Most triples /export/{gexf,graphml,cytoscape,dot} and /explore draw (built in memory:"
        " GEXF of 20,000 took 2.7 s, docs/reliability.md); larger graphs get 413, `kg export`"
        " has no limit.",
        int,
        commands=SERVE,
    ),
    Setting(
        "max_query_bytes",
        65_536,
        "Longest query or update accepted, in bytes, counted with its dataset IRIs"
        " (default-graph-uri ...); evaluation threads get 6 KiB of stack per byte of it (see"
        " Reliability), so no query can overflow them.",
        int,
        commands=SERVE,
    ),
    Setting(
        "query_memory_mb",
        512,
        "Memory one query may take, in MiB (the worker's growth while it runs, and its answer's"
        " size): over it the query gets a 413 and the worker is replaced; 0 means no limit.",
        int,
        commands=SERVE,
    ),
    Setting(
        "max_body",
        10 * 1024 * 1024,
        "Largest request body accepted, in bytes.",
        int,
        commands=SERVE,
    ),
    Setting(
        "body_timeout",
        10.0,
        "Seconds a client may take to send a request's head, and its body; a slower one gets"
        " 408 and its connection is closed (under granian, once the client leaves: see"
        " docs/security.md).",
        float,
        commands=SERVE,
    ),
    Setting(
        "body_reads",
        0,
        "Request bodies a granian worker receives at once; a slow one holds its slot, after its"
        " 408 too, until its client finishes or leaves, and a request with a body past them gets"
        " 503 with Retry-After at once. 0: as many as `threads`. gunicorn holds none.",
        int,
        commands=SERVE,
    ),
    Setting(
        "write_token",
        "",
        "Bearer token that switches writes on; empty means read-only.",
        commands=SERVE,
        secret=True,
    ),
    Setting(
        "allow_curated_removal",
        False,
        "Let writes over HTTP remove or empty a graph a file under data/ provides (DROP, CLEAR,"
        " Graph Store DELETE); off, such a write gets 409.",
        bool,
        commands=SERVE,
    ),
    Setting("cors_origins", "*", "Origins allowed by CORS; empty turns CORS off.", commands=SERVE),
    Setting(
        "proxies",
        0,
        "Reverse proxies in front of the server, each appending the client to X-Forwarded-For"
        " and setting X-Forwarded-Proto: the client's address (per-client limits) and the"
        " scheme of the server's own URLs are then read from them. 0: both headers are ignored,"
        " since any client can send them.",
        int,
        commands=SERVE,
    ),
    Setting(
        "service_allowlist",
        (),
        "Comma-separated URLs that SERVICE may reach (same scheme, host and port, path under"
        " the entry's; updates with SERVICE or LOAD are then refused); empty refuses all and"
        " takes the network away from the workers.",
        tuple,
        commands=("query", "serve"),
    ),
    Setting(
        "reconcile_max_batch",
        1000,
        "Most queries in one /reconcile batch (and ids in one data extension request).",
        int,
        commands=SERVE,
    ),
    Setting(
        "reconcile_max_chars",
        500,
        "Longest name, prefix or property value /reconcile and /search take, in characters.",
        int,
        commands=SERVE,
    ),
    Setting(
        "reconcile_max_limit",
        100,
        "Most candidates /reconcile, its suggest services and /search return for one query.",
        int,
        commands=SERVE,
    ),
)

BY_NAME: dict[str, Setting] = {setting.name: setting for setting in SETTINGS}


def resolve(
    overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Return every setting's value: override, else environment, else default.

    >>> resolve({"port": 8080}, environ={"KG_QUERY_TIMEOUT": "2.5"})["port"]
    8080
    >>> resolve(environ={"KG_QUERY_TIMEOUT": "2.5"})["query_timeout"]
    2.5
    """
    environ = os.environ if environ is None else environ
    overrides = overrides or {}
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        if overrides.get(setting.name) is not None:
            values[setting.name] = overrides[setting.name]
        elif setting.env in environ:
            values[setting.name] = setting.parse(environ[setting.env])
        else:
            values[setting.name] = setting.default
    return values


def markdown_table() -> str:
    """The README's settings table, generated from :data:`SETTINGS`.

    Regenerate it with ``python -m graph.core.settings`` and paste it under ``<!-- settings-table
    -->``.
    """
    rows = [
        "| option | environment | default | commands (`kg ...`) | meaning |",
        "|---|---|---|---|---|",
    ]
    for setting in SETTINGS:
        commands = ", ".join(setting.commands)
        meaning = setting.help
        if setting.secret:
            meaning += f" A secret: set `{setting.env}`, or name a file holding it."
        rows.append(
            f"| `{setting.option}` | `{setting.env}` | {_shown_default(setting)} | {commands}"
            f" | {meaning} |"
        )
    return "\n".join(rows)


def _shown_default(setting: Setting) -> str:
    if setting.name == "project_dir":
        return "the clone or installed copy"
    if setting.default in ("", ()):
        return "empty"
    return f"`{setting.default}`"


if __name__ == "__main__":
    print(markdown_table())
