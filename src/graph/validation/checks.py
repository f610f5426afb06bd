"""Compiled SHACL checks and the batched queries that evaluate them (see graph.validation.compile).

A :class:`Check` is one constraint of one shape as SPARQL pieces; a :class:`Batch` puts the
checks that follow the same path into one query, which graph.validation.in_store runs.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence, Set
from dataclasses import dataclass
from functools import cached_property

#: Focus nodes per VALUES block when a check is restricted to some nodes.
CHUNK_SIZE = 500
#: Where :meth:`Check.restricted` puts ``VALUES ?focus``.
FOCUS_MARK = "@FOCUS@"


#: Per focus node, :func:`counts` gives its values (?count), those with a language tag
#: (?tagged) and their distinct tags (?languages): sh:uniqueLang breaks when there are more
#: tagged values than tags. COUNT skips the errors LANG raises on IRIs and unbound ?untagged.
def counts(suffix: str = "") -> str:
    """The aggregates counted checks compare, named ``?count{suffix}`` and so on."""
    tagged = 'IF(LANG(?counted) != "", ?counted, ?untagged)'
    tags = 'IF(LANG(?counted) != "", LANG(?counted), ?untagged)'
    return (
        f"(COUNT(DISTINCT ?counted) AS ?count{suffix}) "
        f"(COUNT(DISTINCT {tagged}) AS ?tagged{suffix}) "
        f"(COUNT(DISTINCT {tags}) AS ?languages{suffix})"
    )


@dataclass(frozen=True)
class Check:
    """One constraint of one shape: a violation ``condition`` over ``?focus`` and ``?value``.

    ``targets`` binds ``?focus`` to the shape's focus nodes, ``pattern`` binds ``?value`` to
    their value nodes (empty for a constraint on the focus node as a whole, such as uniqueLang).
    A cardinality constraint names the ``counted`` path instead and its condition tests
    ``?count``, the number of distinct values of that path (SHACL 1.0 sections 4.2.1, 4.2.2).
    """

    shape: str
    path: str
    component: str
    severity: str
    message: str
    targets: str
    pattern: str
    condition: str
    counted: str = ""
    #: For a counted check, its condition as an EXISTS lookup from ``?focus`` (no counts).
    lookup: str = ""

    @cached_property
    def predicate(self) -> str | None:
        """The IRI of the path when it is a single predicate, else None (asked thousands of
        times a write: worked out once)."""
        return self.path[1:-1] if is_predicate(self.path) else None

    def vacuous(self, present: Set[str]) -> bool:
        """True when no data can break the check: its predicate is not in ``present``.

        Without a triple of the predicate no focus node has a value node, so only minCount
        and hasValue can still fail (SHACL 1.0 sections 4.2.1, 4.8.3).
        """
        if self.predicate is None or self.predicate in present:
            return False
        return self.component not in {"MinCountConstraintComponent", "HasValueConstraintComponent"}

    @property
    def query(self) -> str:
        """The query of this check alone, over every focus node of the shape."""
        return Batch((self,)).query


@dataclass(frozen=True)
class Batch:
    """Checks with the same value pattern, evaluated in one pass over their focus nodes.

    One query binds the focus nodes of every shape involved (``?shape`` numbers the shape's
    targets), follows the path once and computes each check's condition as a column ``?c0``,
    ``?c1``...; a row comes back when any of them holds. So the provenance checks of thirty
    shapes, or the nodeKind, class and datatype of one property, cost one scan, not one each.
    """

    checks: tuple[Check, ...]
    #: Join with the values of a predicate by hashing (for many focus nodes) or look each
    #: focus node up (for a few).
    hashed: bool = False
    #: Stream the focus nodes, each looked up on its own, holding none of them (for a very
    #: large focus set, whose hash tables would grow with it: docs/scaling.md, issue 12).
    streamed: bool = False

    @property
    def template(self) -> str:
        if self.streamed:
            return self.streamed_template
        first = self.checks[0]
        targets = list(dict.fromkeys(c.targets for c in self.checks))
        columns, binds, broken = self.columns(targets)
        # The DISTINCT subquery visits a focus node once per shape even when several of its
        # types are targets (a member state is a state and a country).
        shape = " ?shape" if len(targets) > 1 else ""
        union = " UNION ".join(
            f"{{ {{ {t} }} BIND({j} AS ?shape) }}" if shape else t for j, t in enumerate(targets)
        )
        focus = f"{{ SELECT DISTINCT ?focus{shape} WHERE {{ {FOCUS_MARK} {union} }} }}"
        pattern = first.pattern
        if self.hashed and first.predicate is not None and pattern:
            # A subquery is joined by hashing one scan of the predicate, where a triple
            # pattern is looked up once per focus node (several times slower for many nodes).
            pattern = f"{{ SELECT ?focus ?value WHERE {{ {pattern} }} }}"
        if first.counted and self.hashed and is_predicate(first.counted):
            # One grouped scan counts the values, where a NOT EXISTS per minCount and a
            # pairwise EXISTS per maxCount would each look every focus node up again.
            focus = (
                f"{focus} OPTIONAL {{ {self.grouped_counts()} }} "
                "BIND(COALESCE(?count_found, 0) AS ?count) "
                "BIND(COALESCE(?tagged_found, 0) AS ?tagged) "
                "BIND(COALESCE(?languages_found, 0) AS ?languages)"
            )
        elif first.counted:
            focus = (
                f"{{ SELECT ?focus{shape} {counts()} WHERE {{ {focus} "
                f"OPTIONAL {{ ?focus {first.counted} ?counted }} }} GROUP BY ?focus{shape} }}"
            )
        return (
            f"SELECT DISTINCT ?focus ?value {columns} WHERE {{ "
            f"{focus} {pattern} {binds} FILTER({broken}) }}"
        )

    @property
    def streamed_template(self) -> str:
        """The query as a stream: no DISTINCT focus set, no hash join, no grouped counts.

        Each focus node's values are looked up and each count is an EXISTS lookup, so memory
        does not grow with the focus set; a node bound twice (two of its types are targets)
        is checked twice and its violations merged by the outer DISTINCT.
        """
        targets = list(dict.fromkeys(c.targets for c in self.checks))
        columns, binds, broken = self.columns(targets, lookups=True)
        union = " UNION ".join(
            f"{{ {{ {t} }} BIND({j} AS ?shape) }}" if len(targets) > 1 else t
            for j, t in enumerate(targets)
        )
        return (
            f"SELECT DISTINCT ?focus ?value {columns} WHERE {{ "
            f"{{ {FOCUS_MARK} {union} }} {self.checks[0].pattern} {binds} FILTER({broken}) }}"
        )

    def columns(self, targets: list[str], *, lookups: bool = False) -> tuple[str, str, str]:
        """The projected columns, their BINDs and the filter that keeps broken rows."""
        columns = " ".join(f"?c{i}" for i in range(len(self.checks)))
        binds = " ".join(
            f"BIND({self.guarded(c, targets, c.lookup if lookups and c.lookup else c.condition)}"
            f" AS ?c{i})"
            for i, c in enumerate(self.checks)
        )
        broken = " || ".join(f"?c{i}" for i in range(len(self.checks)))
        return columns, binds, broken

    def grouped_counts(self) -> str:
        """A subquery of the counts of :func:`counts` for every subject of the predicate.

        When every check is a minCount of at most 1 (the common "at least one"), the distinct
        subjects are enough, which is much cheaper than counting distinct pairs.
        """
        path = self.checks[0].counted
        if all(c.condition in ("?count < 1", "?count < 0") for c in self.checks):
            return (
                f"SELECT DISTINCT ?focus (1 AS ?count_found) (0 AS ?tagged_found) "
                f"(0 AS ?languages_found) WHERE {{ ?focus {path} ?counted }}"
            )
        found = counts("_found")
        return f"SELECT ?focus {found} WHERE {{ ?focus {path} ?counted }} GROUP BY ?focus"

    @staticmethod
    def guarded(check: Check, targets: list[str], condition: str) -> str:
        """``condition`` of ``check``, limited to the focus nodes of its own shape."""
        if len(targets) == 1:
            return condition
        # IF evaluates one branch; Oxigraph evaluates both operands of && (for errors).
        return f"IF(?shape = {targets.index(check.targets)}, {condition}, false)"

    @property
    def query(self) -> str:
        """The query over every focus node of the checks."""
        return self.template.replace(FOCUS_MARK, "", 1)

    def restricted(self, focus_nodes: list[str]) -> str:
        """The same query limited to ``focus_nodes``, for validating one file.

        A focus node is an IRI, or a literal in N-Triples syntax (it starts with ``"``: the
        objects ``sh:targetObjectsOf`` selects may be literals).
        """
        values = " ".join(n if n.startswith('"') else f"<{n}>" for n in focus_nodes)
        return self.template.replace(FOCUS_MARK, f"VALUES ?focus {{ {values} }}", 1)

    def broken(self, row: Mapping[str, object]) -> Iterator[Check]:
        """The checks a result row of :attr:`query` reports as broken."""
        for index, check in enumerate(self.checks):
            if str(row.get(f"c{index}")) == TRUE:
                yield check


def is_predicate(path: str) -> bool:
    """Whether the SPARQL ``path`` is one predicate IRI."""
    return path.startswith("<") and path.endswith(">") and path.count("<") == 1


TRUE = '"true"^^<http://www.w3.org/2001/XMLSchema#boolean>'


def batches(
    checks: Sequence[Check],
    many: Set[str] = frozenset(),
    sizes: Mapping[str, int] | None = None,
    stream_from: int | None = None,
) -> list[Batch]:
    """``checks`` grouped by value pattern, in their first order.

    Batches with ``targets`` in ``many`` (they have many focus nodes) join by hashing, unless
    their targets' ``sizes`` add up to ``stream_from`` or more: then they are streamed.
    """
    grouped: dict[tuple[str, str], list[Check]] = {}
    for check in checks:
        grouped.setdefault((check.pattern, check.counted), []).append(check)
    planned = []
    for group in grouped.values():
        hashed = any(c.targets in many for c in group)
        total = sum((sizes or {}).get(t, 0) for t in {c.targets for c in group})
        streamed = hashed and stream_from is not None and total >= stream_from
        planned.append(Batch(tuple(group), hashed and not streamed, streamed))
    return planned
