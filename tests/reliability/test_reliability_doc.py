"""docs/reliability.md may not claim more tries than the tests make.

The doc's figures table (``| `key` | number |``) is written from test-artifacts/reliability.json
after a run; this test recomputes, from the test modules' own constants, how many crash points
and inputs a run tries, and fails if the doc states a larger number or leaves a figure out.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.reliability import (
    test_attacks,
    test_backup,
    test_bad_bytes,
    test_bad_http,
    test_bad_input,
    test_build_crash,
    test_campaign,
    test_load,
    test_query_limits,
    test_query_memory,
    test_reloads,
    test_server_crash,
    test_slow_clients,
    test_write_crash,
)
from tests.reliability.conftest import CORPUS, ROOT

DOC = ROOT / "docs" / "reliability.md"
ROW = re.compile(r"^\|\s*`(?P<key>[a-z0-9_]+)`\s*\|\s*(?P<value>[\d.]+)\s*\|", re.MULTILINE)


def planned_tries() -> dict[str, int]:
    """How many crash points and inputs one run of the reliability tests tries, by figure."""
    return {
        "build_crash_points": test_build_crash.CRASH_POINTS,
        "write_crash_points": test_write_crash.ROUNDS,
        "bad_inputs_tried": test_bad_input.planned_bad_inputs(),
        "mutated_documents_tried": test_bad_input.PARSE_EXAMPLES + test_bad_input.BUILD_EXAMPLES,
        "odd_unicode_literals_tried": test_bad_input.UNICODE_EXAMPLES,
        "bad_backup_arguments_tried": len(test_backup.BAD_ARGUMENTS),
        "http_bad_requests_tried": len(CORPUS)
        + len(test_bad_http.BAD_QUERIES)
        + len(test_bad_http.BAD_UPDATES),
        "http_random_bodies_tried": test_bad_http.RANDOM_BODIES,
        "server_crash_points": test_server_crash.KILL_POINTS,
        "load_clients": test_load.CLIENTS,
        "load_seconds": int(test_load.LOAD_SECONDS),
        "attacks_tried": test_attacks.planned_attacks(),
        # Against a read-only and a writable server; slow bodies against gunicorn both ways
        # and granian.
        "bad_byte_requests_tried": 2 * test_bad_bytes.planned_requests(),
        "slow_bodies_tried": 3 * test_slow_clients.SLOW_CLIENTS,
        "bodies_past_the_cap_tried": test_slow_clients.SLOW_CLIENTS - test_slow_clients.THREADS,
        "slow_heads_tried": 3 * test_slow_clients.SLOW_CLIENTS,
        # Hypothesis may stop short of VARIANTS; never more.
        "campaign_readonly_requests_tried": test_campaign.planned_requests(writable=False),
        "campaign_writable_requests_tried": test_campaign.planned_requests(writable=True),
        "campaign_readonly_runaways": test_campaign.runaways_for(writable=False),
        "campaign_writable_runaways": test_campaign.runaways_for(writable=True),
        "stack_payloads_tried": test_query_limits.planned_payloads(),
        "memory_bombs_sent": test_query_memory.BOMBS_SENT,
        "reloads_asked": test_reloads.RELOADS,
    }


def stated(doc: Path) -> dict[str, float]:
    return {m["key"]: float(m["value"]) for m in ROW.finditer(doc.read_text(encoding="utf-8"))}


def test_the_doc_claims_no_more_tries_than_the_tests_make() -> None:
    figures = stated(DOC)
    for key, planned in planned_tries().items():
        assert key in figures, f"docs/reliability.md does not state {key}"
        assert figures[key] <= planned, f"the doc says {key} = {figures[key]}, tests try {planned}"


def test_the_doc_states_no_data_lost_and_no_traceback() -> None:
    figures = stated(DOC)
    for key in (
        "build_crash_data_lost",
        "write_crash_lost_writes",
        "write_crash_partial_writes",
        "bad_input_tracebacks_seen",
        "http_5xx_seen",
        "server_crash_lost_writes",
        "server_crash_partial_writes",
        "server_crash_store_invalid",
        "load_lost_writes",
        "load_partial_writes",
        "load_unexpected_errors",
        "load_runaways_not_503",
        "flood_small_queries_failed",
        "runaways_read_only_unanswered",
        "runaways_writable_unanswered",
        "reloads_unanswered",
        "attacks_let_through",
        "campaign_readonly_outbound_connections",
        "campaign_writable_outbound_connections",
        "campaign_readonly_other_5xx",
        "campaign_writable_other_5xx",
        "campaign_readonly_unanswered",
        "campaign_writable_unanswered",
        "campaign_readonly_worker_deaths",
        "campaign_writable_worker_deaths",
        "campaign_readonly_lookups_failed",
        "campaign_writable_lookups_failed",
        "stack_payload_worker_deaths",
    ):
        assert figures.get(key) == 0, f"docs/reliability.md should state {key} = 0"


def test_the_doc_lists_every_figure_a_run_records() -> None:
    """Every figure in test-artifacts/reliability.json (after a run) has a row in the doc."""
    artifact = ROOT / "test-artifacts" / "reliability.json"
    if not artifact.exists():
        return  # no run yet in this checkout: nothing to compare
    recorded = set(json.loads(artifact.read_text()))
    missing = sorted(recorded - set(stated(DOC)))
    assert missing == [], f"docs/reliability.md leaves out {missing}"


def test_the_doc_check_catches_an_inflated_claim(tmp_path: Path) -> None:
    inflated = tmp_path / "reliability.md"
    planned = planned_tries()["bad_inputs_tried"]
    inflated.write_text(f"| `bad_inputs_tried` | {planned + 1} |\n", encoding="utf-8")
    assert stated(inflated)["bad_inputs_tried"] > planned
