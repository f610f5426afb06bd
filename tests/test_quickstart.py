"""The README's two quick-start commands work as written in a fresh clone."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests.paths import ROOT
from tests.processes import free_port
from tests.readme import quickstart_command

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def fresh_clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clone of the committed repository: what a new user gets."""
    if shutil.which("git") is None:
        pytest.fail("git is needed to clone the repository")
    target = tmp_path_factory.mktemp("fresh") / "alliance-graph"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(target)], check=True)
    return target


def clean_environment(**extra: str) -> dict[str, str]:
    """The caller's environment without this test run's virtual environment or KG_ settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KG_", "VIRTUAL_ENV"))}
    env.pop("PYTEST_ADDOPTS", None)
    env.update(extra)
    return env


def test_serve_command_builds_and_serves(fresh_clone: Path) -> None:
    serve_and_ask(quickstart_command("serve"), fresh_clone, clean_environment())
    assert (fresh_clone / "var" / "store").exists()


def test_an_installed_wheel_builds_and_serves_outside_the_clone(
    fresh_clone: Path, tmp_path: Path
) -> None:
    """``pip install .`` (no editable install) into a venv elsewhere: the project's files come
    with the package, so ``kg build`` and ``kg serve`` work from any folder."""
    venv = tmp_path / "venv"
    subprocess.run(["python3", "-m", "venv", str(venv)], check=True, env=clean_environment())
    subprocess.run(
        [str(venv / "bin" / "pip"), "install", "-q", str(fresh_clone)],
        check=True,
        env=clean_environment(),
        timeout=900,
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    built = subprocess.run(
        [str(venv / "bin" / "kg"), "build"],
        cwd=elsewhere,
        env=clean_environment(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-2000:]
    serve_and_ask(f"{venv / 'bin' / 'kg'} serve", elsewhere, clean_environment())


def serve_and_ask(command: str, folder: Path, env: dict[str, str]) -> None:
    """Run ``command`` (a kg serve) in ``folder`` and ask the endpoint whether it holds data."""
    port = free_port()
    server = subprocess.Popen(
        ["bash", "-c", command],
        cwd=folder,
        env={**env, "KG_PORT": str(port), "KG_WORKERS": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        body = wait_for(f"http://127.0.0.1:{port}/sparql?query=ASK%7B%3Fs%20%3Fp%20%3Fo%7D", server)
        assert b"true" in body
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)


def wait_for(url: str, process: subprocess.Popen[bytes], timeout: float = 600) -> bytes:
    """Poll ``url`` until it answers 200 while ``process`` runs (pip install comes first)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read().decode(errors="replace") if process.stdout else ""
            pytest.fail(f"the serve command exited with {process.returncode}:\n{output[-3000:]}")
        try:
            request = urllib.request.Request(url, headers={"Accept": "application/json"})
            with urllib.request.urlopen(request, timeout=5) as response:
                return bytes(response.read())
        except OSError:
            time.sleep(1)
    pytest.fail(f"nothing answered on {url} within {timeout} s")


def test_test_command_installs_and_runs_tests(fresh_clone: Path) -> None:
    # The whole suite is what CI runs through this same command; here a fast subset proves that
    # the command installs the test tools and runs pytest from a fresh clone.
    env = clean_environment(PYTEST_ADDOPTS="-q -p no:cacheprovider tests/core/test_settings.py")
    done = subprocess.run(
        ["bash", "-c", quickstart_command("test")],
        cwd=fresh_clone,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert " passed" in done.stdout
