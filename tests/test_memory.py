"""The per-query memory budget (graph.memory) below the HTTP layer."""

from __future__ import annotations

import threading

import pytest

from graph import evaluate, memory
from graph.errors import HttpError, ResultTooLarge
from graph.stack import stack_for
from graph.store import memory_store, run_query

#: Doubles a 64-character string 22 times: 256 MiB for the last value alone.
BOMB = (
    'SELECT (STRLEN(?x22) AS ?n) WHERE { BIND("'
    + "x" * 64
    + '" AS ?x0) '
    + " ".join(f"BIND(CONCAT(?x{i}, ?x{i}) AS ?x{i + 1})" for i in range(22))
    + " }"
)
BUDGET = 32 << 20


def bomb() -> list[object]:
    return [row["n"] for row in run_query(memory_store(), BOMB)]  # type: ignore[union-attr]


def test_a_helper_over_budget_is_frozen_and_its_client_told(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    retired = threading.Event()
    monkeypatch.setattr(evaluate, "runaway_hook", retired.set)
    start = memory.resident_bytes()
    with pytest.raises(ResultTooLarge, match=r"more than 32 MiB .*query_memory_mb"):
        evaluate.with_deadline(bomb, 30, stack=stack_for(len(BOMB)), budget=BUDGET)
    assert retired.is_set()
    # Frozen: it grows no more (a doubling it were still making would add 64 MiB or more).
    assert memory.resident_bytes() - start < BUDGET + (48 << 20)
    assert evaluate.with_deadline(lambda: "next", 5, stack=stack_for(0)) == "next"


def test_in_place_over_budget_answers_through_overrun(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(evaluate, "runaway_hook", lambda: None)
    # The frozen thread keeps its turn to evaluate in place: give it a lock of its own.
    monkeypatch.setattr(evaluate, "_inline", threading.Lock())
    answers: list[HttpError] = []
    done = threading.Event()

    def request() -> None:
        try:
            evaluate.run_watched(bomb, 30, answers.append, stack=1 << 20, budget=BUDGET)
        finally:
            done.set()  # never reached: the thread stays frozen

    threading.Thread(target=request, daemon=True).start()
    for _ in range(600):
        if answers:
            break
        done.wait(0.05)
    assert [type(error) for error in answers] == [ResultTooLarge]
    assert not done.is_set()


def test_a_query_within_budget_is_untouched() -> None:
    rows = evaluate.with_deadline(
        lambda: [r["x"].value for r in run_query(memory_store(), "SELECT ?x { VALUES ?x {1} }")],  # type: ignore[union-attr]
        5,
        stack=stack_for(100),
        budget=BUDGET,
    )
    assert rows == ["1"]
