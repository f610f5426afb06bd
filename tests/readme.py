"""The README as the tests read it: its text and its quick-start commands."""

from __future__ import annotations

import re

from tests.paths import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def quickstart_command(name: str) -> str:
    """The shell command in the README's ``<!-- quickstart:NAME -->`` block."""
    match = re.search(rf"<!-- quickstart:{name} -->\s*```sh\n(.+?)\n```", README, re.DOTALL)
    assert match, f"README has no quickstart:{name} block"
    return match.group(1).strip()
