"""Validation reports each violation with file, line, focus node, path, value and message."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from graph.build.embedded import validate_project
from graph.core.namespaces import CANONICAL_BASE
from graph.sources.files import discover, parse_sources
from tests.conftest import MINI


def project_with(tmp_path: Path, old: str, new: str) -> Path:
    project = tmp_path / "project"
    shutil.copytree(MINI, project)
    news = project / "data" / "sources" / "alliance-news.ttl"
    news.write_text(news.read_text().replace(old, new))
    return project


def report_for(project: Path):  # type: ignore[no-untyped-def]
    return validate_project(parse_sources(discover(project), CANONICAL_BASE))


def test_fixture_project_conforms() -> None:
    assert report_for(MINI).conforms


def test_dangling_reference_is_located(tmp_path: Path) -> None:
    project = project_with(tmp_path, "country:honduras .", "country:hondurass .")
    report = report_for(project)
    [violation] = report.violations
    assert violation.file.endswith("data/sources/alliance-news.ttl")
    assert violation.line == 6  # where organization:weprotect is described
    assert violation.focus == CANONICAL_BASE + "id/organization/weprotect"
    assert violation.path == CANONICAL_BASE + "ontology#member"
    assert violation.value == CANONICAL_BASE + "id/country/hondurass"
    assert violation.message == "An alliance's member must be a described country."
    assert violation.constraint == "ClassConstraintComponent"


def test_missing_required_property(tmp_path: Path) -> None:
    project = project_with(tmp_path, 'rdfs:label "WePROTECT Global Alliance"@en ;', "")
    [violation] = report_for(project).violations
    assert violation.constraint == "MinCountConstraintComponent"
    assert "needs a label" in violation.message


def test_report_formats(tmp_path: Path) -> None:
    project = project_with(tmp_path, "country:honduras .", "country:hondurass .")
    report = report_for(project)
    text = report.to_text()
    assert (
        "alliance-news.ttl:6: Violation: An alliance's member must be a described country." in text
    )
    assert "1 violation(s)." in text
    payload = json.loads(report.to_json())
    assert payload["conforms"] is False
    assert payload["violations"][0]["focus"].endswith("organization/weprotect")
    assert "sh:ValidationReport" in report.to_turtle()
