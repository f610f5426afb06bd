"""Issue 11's query payloads one at a time against a real ``kg serve``: what each one gets.

    python bench/attack_payloads.py             # writable (gunicorn: a dead worker is replaced)
    python bench/attack_payloads.py --read-only # granian

Builds the mini fixture store, starts ``kg serve`` (``query_timeout`` 2 s, 2 threads), sends
each payload of tests/reliability/campaign_payloads.py (the flat shapes, the BINDs and
OPTIONALs, the CONCAT bomb) on its own, 1.5 s apart, and prints its status (or "no answer"),
seconds and the start of the body; then how many workers the server's log says died. The
campaign (tests/reliability/test_campaign.py) sends them all at once; this tells them apart.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.reliability.campaign_payloads import (  # noqa: E402
    FLAT,
    MANY,
    flat_shapes,
    many_shapes,
    memory_bomb,
    query,
)
from tests.reliability.campaign_watch import DEATH  # noqa: E402
from tests.reliability.conftest import make_project  # noqa: E402
from tests.reliability.serving import TOKEN, raw_request, running_server  # noqa: E402

from graph.build.embedded import build  # noqa: E402
from graph.core.namespaces import CANONICAL_BASE  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--read-only", action="store_true", help="serve without a write token")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="attack-payloads-"))
    project = make_project(root / "project")
    build(project, root / "store", CANONICAL_BASE)
    probes = [query(name, text) for name, text in flat_shapes(FLAT).items()]
    probes += [query(name, text) for name, text in many_shapes(MANY).items()]
    probes.append(query("CONCAT doubling", memory_bomb()))
    log = root / "serve.log"
    token = "" if args.read_only else TOKEN
    with running_server(
        root / "store", project, log, token=token, query_timeout="2", threads="2"
    ) as server:
        for probe in probes:
            began = time.monotonic()
            try:
                response = raw_request(
                    server.port, probe.method, probe.target, probe.body, dict(probe.headers)
                )
                outcome = f"{response.status} {response.body[:90]!r}"
            except OSError as error:
                outcome = f"no answer: {error!r}"
            print(f"{probe.name:20} {time.monotonic() - began:6.2f} s  {outcome}", flush=True)
            time.sleep(1.5)
        print(f"worker deaths in the log: {len(DEATH.findall(log.read_bytes()))}")


if __name__ == "__main__":
    main()
