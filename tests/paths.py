"""Where the tests find the checkout and their fixtures, declared once."""

from __future__ import annotations

from pathlib import Path

#: The checkout: ontology/, shapes/, data/, queries/, README.md.
ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
#: A small project (its own ontology, shapes and data) for fast app and write tests.
MINI = FIXTURES / "mini"
WEB = FIXTURES / "web"
#: Screenshots and other files a browser test leaves for a person to look at.
ARTIFACTS = ROOT / "test-artifacts"
