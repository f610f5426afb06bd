"""Resource descriptions (graph.answering.describe): which IRIs have one."""

from __future__ import annotations

import pytest

from graph.answering.describe import Describer
from graph.core.namespaces import CANONICAL_BASE
from graph.store import RdfFormat, memory_store, parse_bytes

BASE = CANONICAL_BASE
GRAPH = '<https://w3id.org/alliance-graph/id/a> <http://www.w3.org/2000/01/rdf-schema#label> "A" .'


@pytest.mark.parametrize(
    ("iri", "expected"),
    [
        (BASE + "id/a", True),
        (BASE + "id/absent", False),
        # Not IRIs the engine takes: no statement can mention them, and asking is no error.
        (BASE + "id/a b", False),
        (BASE + 'id/"quoted"', False),
        ("_:b0", False),
    ],
)
def test_exists_only_for_iris_a_statement_mentions(iri: str, expected: bool) -> None:
    store = memory_store(parse_bytes(GRAPH.encode(), RdfFormat.N_TRIPLES, BASE + "graph/t", BASE))
    assert Describer(store, BASE).exists(iri) is expected
