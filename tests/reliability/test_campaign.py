"""Issue 11's attack campaign: an outsider against a real ``kg serve``, read-only and writable.

In one go, while a background thread does point lookups: the exact payloads of the issue
(flat repetition, SERVICE bypasses, memory bombs, script IRIs, non-IRI datasets, control
characters), generated variants of them (Hypothesis), runaways as many as twice the server's
threads, slow clients, and bad bytes on every route. A 127.0.0.1 listener that every SERVICE
and LOAD points at must receive nothing.

What counts: *refused* is a 4xx (the memory budget's 413 included); a *documented 503* is the
time limit stopping a query (its body names ``query_timeout``); any other 5xx, a
request without an answer, a worker death or an outbound connection fails the campaign. A
worker retired on purpose after a runaway is not a death (tests/reliability/campaign_watch.py).
Latencies go into the figures (docs/reliability.md), never into an assertion.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from tests.listener import Listener
from tests.reliability import test_bad_bytes
from tests.reliability.campaign_payloads import ALLOWED, Probe, issue_probes, variants
from tests.reliability.campaign_watch import (
    Lookups,
    WorkerWatch,
    log_counts,
    percentile_ms,
    worker_pids,
)
from tests.reliability.conftest import Figures, make_project
from tests.reliability.serving import TOKEN, KgServer, raw_request, running_server
from tests.reliability.test_slow_clients import SlowClient, slow_head

from graph.build.embedded import build
from graph.core.namespaces import CANONICAL_BASE

pytestmark = [pytest.mark.slow, pytest.mark.server]

WORKERS = 2
THREADS = 2
SLOW_CLIENTS = THREADS
#: Generated variants per server.
VARIANTS = 30
IDLE_LOOKUPS = 100
SETTINGS = {
    "workers": str(WORKERS),
    "threads": str(THREADS),
    "query_timeout": "2",
    "body_timeout": "2",
    # As tests/reliability/test_query_memory.py: the issue's bomb is well over it.
    "query_memory_mb": "128",
}
#: Words in the body of a 503 that stopped a query at a documented limit (the memory budget
#: answers 413, a refusal).
DOCUMENTED_503 = (b"query_timeout",)


def planned_requests(writable: bool) -> int:
    """Requests one server receives from the campaign, lookups apart (the doc states it)."""
    probes = len(issue_probes("http://127.0.0.1:9/", writable, runaways_for(writable)))
    bad_bytes = test_bad_bytes.planned_requests()
    slow = SLOW_CLIENTS * (2 if writable else 1)
    return probes + VARIANTS + bad_bytes + slow


@dataclass
class Tally:
    """What came back, by kind; ``problems`` says what failed and why."""

    tried: int = 0
    refused: int = 0
    answered: int = 0
    documented_503: int = 0
    other_5xx: int = 0
    unanswered: int = 0
    heads_cut_off: int = 0
    problems: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, name: str, status: int, body: bytes, expect: frozenset[int]) -> None:
        with self.lock:
            self.tried += 1
            if status == 0:
                self.unanswered += 1
                self.problems.append(f"{name}: no answer ({body[:120]!r})")
            elif status == 503 and any(word in body for word in DOCUMENTED_503):
                self.documented_503 += 1
            elif status >= 500:
                self.other_5xx += 1
                self.problems.append(f"{name}: {status} {body[:200]!r}")
            else:
                self.refused += 400 <= status < 500
                self.answered += status < 400
                if expect and status not in expect:
                    self.problems.append(f"{name}: {status}, expected {sorted(expect)}")


def send(server: KgServer, probe: Probe, tally: Tally) -> None:
    try:
        response = raw_request(
            server.port, probe.method, probe.target, probe.body, dict(probe.headers)
        )
    except OSError as error:
        tally.record(probe.name, 0, repr(error).encode(), probe.expect)
        return
    tally.record(probe.name, response.status, response.body, probe.expect)


def send_bad_bytes(server: KgServer, tally: Tally) -> None:
    """test_bad_bytes' variants on every route of the application (refusals must not be 5xx)."""
    for method, path in test_bad_bytes.ROUTES:
        for name, tail, headers, body, media in test_bad_bytes.sent(method):
            extra = headers + (b"Content-Type: " + media + b"\r\n" if media else b"")
            if method in ("PUT", "POST", "DELETE") and path != "/sparql":
                extra += f"Authorization: Bearer {TOKEN}\r\n".encode()
            try:
                answer = test_bad_bytes.send(server.port, method, path.encode() + tail, extra, body)
            except OSError:
                answer = b""
            status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.") else 0
            tally.record(f"bad bytes {name} on {method} {path}", status, answer, frozenset())


def send_slow_clients(server: KgServer, tally: Tally, writable: bool) -> None:
    """Slow heads everywhere; slow bodies to gunicorn only (granian cannot abort a body read,
    docs/security.md), each answered 408 or, for a head under granian, closed."""
    for _ in range(SLOW_CLIENTS):
        try:
            answer, _ = slow_head(server.port)
        except OSError as error:  # refused: the server is not listening any more
            tally.record("slow head", 0, repr(error).encode(), frozenset())
            continue
        if answer == b"":
            tally.heads_cut_off += 1  # granian closes a half-sent head without a word
        else:
            tally.record("slow head", int(answer.split()[1]), answer, frozenset({408}))
    if writable:
        stop = threading.Event()
        clients = [SlowClient(server.port, "/sparql") for _ in range(SLOW_CLIENTS)]
        threads = [threading.Thread(target=drip, args=(c, stop), daemon=True) for c in clients]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=10)
        stop.set()
        for client in clients:
            status = int(client.answer.split()[1]) if client.answer.startswith(b"HTTP/1.") else 0
            tally.record("slow body", status, client.answer, frozenset({408}))


def drip(client: SlowClient, stop: threading.Event) -> None:
    """Run a slow client; a connection the server refused leaves its answer empty."""
    with contextlib.suppress(OSError):
        client.run(stop)


def send_variants(server: KgServer, listener: Listener, tally: Tally) -> None:
    @settings(
        max_examples=VARIANTS,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(variants(listener.url))
    def attack(probe: Probe) -> None:
        send(server, probe, tally)

    attack()


@pytest.fixture(scope="module", params=["read-only", "writable"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[KgServer]:
    root = tmp_path_factory.mktemp("campaign")
    project = make_project(root / "project")
    build(project, root / "store", CANONICAL_BASE)
    writable = request.param == "writable"
    # The writable server has an allow-list, so its workers are not sandboxed and the
    # allow-list check is what stands between a query and the listener.
    extra = {"service_allowlist": ALLOWED} if writable else {}
    token = TOKEN if writable else ""
    log = root / "serve.log"
    with running_server(root / "store", project, log, token=token, **SETTINGS, **extra) as s:
        yield s


def runaways_for(writable: bool) -> int:
    """Twice as many runaways as the server has threads (issue 11, "Figures to reach")."""
    return 2 * (1 if writable else WORKERS) * THREADS


def test_an_outside_attacker_gets_refusals_and_kills_nothing(
    server: KgServer, figures: Figures
) -> None:
    writable = bool(server.extra.get("service_allowlist"))
    listener = Listener()
    idle = Lookups(server.url)
    idle.run(IDLE_LOOKUPS)
    offset = server.log.stat().st_size
    watch = WorkerWatch(server.process.pid)
    during = Lookups(server.url)
    lookups = during.start()
    tally = Tally()
    started = time.monotonic()
    try:
        attack(server, listener, tally, writable)
    finally:
        during.stop.set()
        lookups.join()
        listener.sock.close()
    seconds = time.monotonic() - started
    healthy = settle(server)
    gone = watch.finish()
    deaths, retirements = log_counts(server.log, offset)
    record(figures, "writable" if writable else "readonly", {
        "requests_tried": tally.tried,
        "runaways": runaways_for(writable),
        "refused_4xx": tally.refused,
        "answered_2xx_3xx": tally.answered,
        "documented_503": tally.documented_503,
        "other_5xx": tally.other_5xx,
        "unanswered": tally.unanswered,
        "slow_heads_cut_off": tally.heads_cut_off,
        "outbound_connections": listener.connections,
        "worker_deaths": deaths,
        "worker_retirements": retirements,
        "worker_pids_replaced": len(gone),
        "seconds": round(seconds),
        "lookups_during_attacks": len(during.latencies),
        "lookups_failed": len(idle.failures) + len(during.failures),
        "idle_lookup_p99_ms": percentile_ms(idle.latencies, 0.99),
        "attack_lookup_p99_ms": percentile_ms(during.latencies, 0.99),
        "attack_lookup_worst_ms": percentile_ms(during.latencies, 1.0),
    })  # fmt: skip
    assert tally.problems == [], tally.problems[:10] + tally.problems[-10:]
    assert listener.connections == 0, "the server connected to the listener"
    assert deaths == 0, f"{deaths} worker(s) died: see {server.log}"
    assert server.process.poll() is None, "the server process exited"
    assert healthy, "the server did not answer /health after the campaign"
    assert worker_pids(server.process.pid), "the server has no worker left"
    assert idle.failures + during.failures == [], (idle.failures + during.failures)[:10]
    # Hypothesis may stop short of VARIANTS examples; everything else was sent.
    assert tally.tried + tally.heads_cut_off >= planned_requests(writable) - VARIANTS


def attack(server: KgServer, listener: Listener, tally: Tally, writable: bool) -> None:
    """Everything at once: the issue's payloads and runaways from as many threads as there are
    runaways, slow clients beside them, then generated variants and bad bytes."""
    probes = issue_probes(listener.url, writable, runaways_for(writable))
    slow = threading.Thread(target=send_slow_clients, args=(server, tally, writable))
    slow.start()
    with ThreadPoolExecutor(max_workers=runaways_for(writable)) as pool:
        list(pool.map(lambda probe: send(server, probe, tally), probes))
    send_variants(server, listener, tally)
    send_bad_bytes(server, tally)
    slow.join()


def settle(server: KgServer) -> bool:
    """Wait (up to 30 s) until retired workers are replaced and /health answers 200."""
    until = time.monotonic() + 30
    while time.monotonic() < until:
        try:
            if requests.get(server.url + "/health", timeout=10).status_code == 200:
                time.sleep(12)  # a retiring granian worker is killed after 10 s at the latest
                return requests.get(server.url + "/health", timeout=10).status_code == 200
        except requests.RequestException:
            pass
        time.sleep(0.5)
    return False


def record(figures: Figures, mode: str, counts: dict[str, int]) -> None:
    """Figures as ``campaign_<mode>_<name>`` (docs/reliability.md, "Attack campaign")."""
    for name, value in counts.items():
        figures[f"campaign_{mode}_{name}"] = value
