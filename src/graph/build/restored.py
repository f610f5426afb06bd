"""``kg restore`` through the write path: a backup is validated against the shapes before it is
published, as a build is (issue 12: every kind of write is checked, restore included).

The backup is loaded into a new generation (graph.store.backup), checked there with the compiled
SHACL queries the build runs (graph.validation.in_store), and published only if it conforms; a
refused backup is discarded and the current store left untouched.
"""

from __future__ import annotations

from pathlib import Path

from graph.build.embedded import ValidationFailed
from graph.sources.files import discover
from graph.store import Store
from graph.store.backup import CopyResult, restore
from graph.validation.in_store import shapes_graph, validate_store


def restore_checked(source: Path, store_path: Path, project_dir: Path) -> CopyResult:
    """Publish the backup at ``source`` as the store at ``store_path`` if it conforms to the
    shapes of the project at ``project_dir``.

    :raises ValidationFailed: with the report, if the backup breaks the shapes (nothing published).
    :raises graph.validation.compile.UnsupportedShape: if the shapes go beyond the compiled subset.
    :raises graph.store.backup.BackupError: if ``source`` is not a backup.
    :raises graph.store.RdfSyntaxError: if a dump does not parse.
    :raises graph.store.generations.StoreBusy: while a process (a writable server) writes the store.
    """
    shapes = shapes_graph(f for f in discover(project_dir) if f.role == "shapes")

    def check(store: Store) -> None:
        # No source files to point into: violations name their focus node and graph data only.
        report = validate_store(store, shapes, [], base="")
        if not report.conforms:
            raise ValidationFailed(report)

    return restore(source, store_path, check)
