"""PLACEHOLDER for the endpoint branch only: the lead replaces this module at merge.

The real ``graph.writes`` (branch ``gsp``) checks every update against the SHACL shapes before
it commits. This stand-in has the same signature and applies the update directly, so the
SPARQL endpoint's update path can be written and tested meanwhile.
"""

from __future__ import annotations

from collections.abc import Sequence

from graph.errors import BadRequest
from graph.store import Store, run_update


def checked_update(
    store: Store, update: str, *, using: Sequence[str] = (), using_named: Sequence[str] = ()
) -> None:
    """Apply ``update`` to ``store`` (PLACEHOLDER: no shape check).

    :raises graph.store.QuerySyntaxError: if the update does not parse.
    :raises BadRequest: for using-graph-uri/using-named-graph-uri, which this stand-in lacks.
    """
    if using or using_named:
        raise BadRequest("using-graph-uri and using-named-graph-uri are not supported yet")
    run_update(store, update)
