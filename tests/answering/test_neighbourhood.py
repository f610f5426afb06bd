"""A resource's neighbourhood as drawn on its page and in the explorer (issue 14)."""

from __future__ import annotations

from pathlib import Path

from graph.answering.neighbourhood import default_focus, neighbourhood
from graph.core.namespaces import CANONICAL_BASE
from graph.store import open_store
from tests.conftest import HONDURAS


def test_at_most_limit_neighbours_and_more_says_so(web_store: Path) -> None:
    store = open_store(str(web_store), read_only=True)
    whole = neighbourhood(store, HONDURAS, CANONICAL_BASE)
    drawn = [e for e in whole.elements if "source" not in e["data"]]
    assert len(drawn) > 3 and not whole.more
    cut = neighbourhood(store, HONDURAS, CANONICAL_BASE, limit=2)
    nodes = {e["data"]["id"] for e in cut.elements if "source" not in e["data"]}
    assert cut.more and len(nodes) == 3  # the focus and two neighbours
    for edge in (e["data"] for e in cut.elements if "source" in e["data"]):
        assert {edge["source"], edge["target"]} <= nodes  # no edge to a node not drawn


def test_the_default_focus_is_an_alliance(web_store: Path) -> None:
    store = open_store(str(web_store), read_only=True)
    assert default_focus(store, CANONICAL_BASE) == CANONICAL_BASE + "id/organization/weprotect"
