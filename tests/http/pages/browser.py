"""A served app and a chromium tab on it, shared by the browser tests (Playwright with Debian's
chromium, no `playwright install`)."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import Flask
from werkzeug.serving import make_server

from tests.conftest import skip_or_fail
from tests.paths import ARTIFACTS

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@contextmanager
def serving(app: Flask) -> Iterator[str]:
    """``app`` served on a free port of 127.0.0.1 by a thread; yields its URL."""
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()
        thread.join()


@contextmanager
def browser_tab() -> Iterator[object]:
    """A chromium tab (1400x1000) that fails the test on a page error or a refused script."""
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        skip_or_fail("Debian's chromium is not installed (apt-get install -y chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("playwright is not installed (pip install playwright)")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        tab = browser.new_page(viewport={"width": 1400, "height": 1000})
        errors: list[str] = []
        tab.on("pageerror", lambda error: errors.append(str(error)))
        # Every page works under its Content-Security-Policy: no script of ours or of the
        # vendored libraries (YASGUI, cytoscape, fcose) is refused (javascript: URLs, which
        # test_the_policy_refuses_javascript_links makes on purpose, aside).
        tab.on(
            "console",
            lambda message: (
                errors.append(message.text)
                if "Content Security Policy" in message.text
                and "JavaScript URL" not in message.text
                else None
            ),
        )
        yield tab
        browser.close()
        assert not errors, errors
