"""Top-1 accuracy of /reconcile's matching on names as people write them (issue 15).

    python bench/reconcile_accuracy.py --store var/store [--names FILE.csv]

Each row of the test set is a name, an optional type and the entity it stands for (empty for a
name the graph does not hold). A row with an entity counts as right when that entity is the
first candidate; a row without one when no candidate is a ``match``. Prints the figures and the
rows that went wrong.
"""

from __future__ import annotations

import argparse
import csv
import sys
from dataclasses import dataclass, field
from pathlib import Path

from graph.answering.reconcile.loading import load
from graph.answering.reconcile.service import Service
from graph.core.namespaces import CANONICAL_BASE
from graph.store import open_store

NAMES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "reconcile" / "names.csv"


@dataclass
class Accuracy:
    """How many names of each kind were matched right, and the wrong ones."""

    known: int = 0
    known_right: int = 0
    known_matched: int = 0
    unknown: int = 0
    unknown_right: int = 0
    wrong: list[str] = field(default_factory=list)

    @property
    def top1(self) -> float:
        """Share of all rows answered right."""
        return (self.known_right + self.unknown_right) / max(self.known + self.unknown, 1)


def measure(service: Service, names: Path = NAMES) -> Accuracy:
    """Run every name of ``names`` through ``service`` in one batch."""
    with names.open(newline="", encoding="utf-8") as source:
        rows = list(csv.DictReader(source))
    queries = {
        str(n): {"query": row["query"], "limit": 3} | ({"type": row["type"]} if row["type"] else {})
        for n, row in enumerate(rows)
    }
    answers = service.reconcile(queries)
    accuracy = Accuracy()
    for n, row in enumerate(rows):
        result = answers[str(n)]["result"]
        first = result[0] if result else None
        if row["expected"]:
            accuracy.known += 1
            right = first is not None and first["id"] == row["expected"]
            accuracy.known_right += right
            accuracy.known_matched += right and first is not None and first["match"]
        else:
            accuracy.unknown += 1
            right = not any(candidate["match"] for candidate in result)
            accuracy.unknown_right += right
        if not right:
            got = f"{first['id']} {first['score']} match={first['match']}" if first else "nothing"
            accuracy.wrong.append(f"{row['query']!r} ({row['how']}): got {got}")
    return accuracy


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", default="var/store")
    parser.add_argument("--names", type=Path, default=NAMES)
    args = parser.parse_args(argv)
    store = open_store(args.store, read_only=True)
    result = measure(Service(load(store, CANONICAL_BASE), store), args.names)
    print(
        f"top-1: {result.known_right + result.unknown_right}/{result.known + result.unknown}"
        f" = {result.top1:.1%}"
    )
    print(
        f"names in the graph: first candidate right {result.known_right}/{result.known},"
        f" of which match:true {result.known_matched}"
    )
    print(f"names not in the graph: no match:true {result.unknown_right}/{result.unknown}")
    for line in result.wrong:
        print("  wrong:", line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
