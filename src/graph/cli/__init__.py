"""The ``kg`` command line (also ``python -m graph``): thin wrappers over the pipeline's functions.

Each submodule registers its commands on the one click group, :data:`cli`.
"""

from __future__ import annotations

from graph.cli import building, operating, querying, reconciling
from graph.cli.common import cli

__all__ = ["building", "cli", "main", "operating", "querying", "reconciling"]

cli.add_command(reconciling.reconcile_command)


def main() -> None:
    """Entry point of the ``kg`` script."""
    cli()
