"""Shared pieces of the reliability campaign: generated projects, the kg subprocess, figures.

Every test of the campaign records what it tried (crash points, inputs, errors seen) with the
``figures`` fixture; at the end of the session they are merged into
``test-artifacts/reliability.json``, which docs/reliability.md is written from.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from graph.build.embedded import build
from graph.core.namespaces import CANONICAL_BASE
from graph.store import dump_nquads, open_store

ROOT = Path(__file__).resolve().parents[2]
MINI = ROOT / "tests" / "fixtures" / "mini"
ARTIFACT = ROOT / "test-artifacts" / "reliability.json"
AG = "https://w3id.org/alliance-graph/ontology#"
ORG = "https://w3id.org/alliance-graph/id/organization/"
COUNTRY = "https://w3id.org/alliance-graph/id/country/"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"

Figures = dict[str, Any]

#: Known-bad RDF files: (suffix, content, what the error must say, as file:line:column where
#: the parser knows it). Used on the command line and over HTTP.
CORPUS: list[tuple[str, bytes, str]] = [
    (".ttl", b"<a> <b> .", "bad.ttl:1:1"),
    (
        ".ttl",
        b"@prefix ex: <http://example.org/> .\n\nex:a ex:b ex:c\nex:d ex:e ex:f .\n",
        "bad.ttl:4:",
    ),
    (".ttl", b"\xff\xfe<http://a> <http://b> <http://c> .", "bad.ttl:1:1"),
    (".ttl", b'<http://a> <http://b> "caf\xc3" .', "bad.ttl:1:"),
    (".ttl", b'<http://a> <http://b> "\\uD800" .', "bad.ttl:1:24"),
    (".ttl", b"<http://a b> <http://b> <http://c> .", "bad.ttl:1:1"),
    (".ttl", b"<http://a> <http://b> <http://c> ;", "bad.ttl:1:"),
    (".ttl", b"@prefix : <http://a/> .\n:a :b ( :c :d .\n", "bad.ttl:2:"),
    (
        ".ttl",
        b"<http://a> <http://b> " + b"[ <http://b> " * 70000 + b"]" * 70000 + b" .",
        "bad.ttl",
    ),
    (".ttl", b"\x00\x00\x00", "bad.ttl:1:1"),
    # RDF 1.2 syntax Oxigraph reads but the RDF 1.1 graph cannot hold (found by Hypothesis):
    (".trig", b'<http://g> { <http://a> <http://b> "x" ~ . }', "RDF 1.2 triple terms"),
    (".ttl", b"<http://a> <http://b> <<( <http://a> <http://b> <http://c> )>> .", "RDF 1.2"),
    (".nt", b"<http://a> <http://b> <http://c>\n", "bad.nt:2:1"),
    (".nt", b"<http://a> <http://b> <http://c> <http://d> .\n", "bad.nt:1:"),
    (".nt", b"_:a <http://b> 'single quotes' .\n", "bad.nt:1:"),
    (".nq", b"<http://a> <http://b> <http://c> <http://g> <http://h> .\n", "bad.nq:1:"),
    (".nq", b'<http://a> <http://b> "x"^^<bad iri> .\n', "bad.nq:1:"),
    (".trig", b"<http://g> { <http://a> <http://b> <http://c> ", "bad.trig:1:"),
    (".trig", b"GRAPH { }", "bad.trig:1:"),
    (".jsonld", b"", "bad.jsonld:1:1"),
    (".jsonld", b'{"@id": 5}', "bad.jsonld"),
    (
        ".jsonld",
        b'{"@context": "http://127.0.0.1:9/context.jsonld", "@id": "http://a"}',
        "bad.jsonld",
    ),
    (
        ".jsonld",
        b'{"@id": "http://a", "http://b": ' + b"[" * 70000 + b"]" * 70000 + b"}",
        "bad.jsonld",
    ),
    (".jsonld", b'{"@id": "http://a", "http://b": "\xff"}', "bad.jsonld"),
    # 4000 nested objects killed the process with SIGSEGV in Oxigraph's JSON-LD parser:
    (
        ".jsonld",
        b'{"@id": "http://a", "http://b": ' + b'{"http://b": ' * 4000 + b'"x"' + b"}" * 4001,
        "nested deeper than 200",
    ),
    (".rdf", b"<rdf:RDF", "bad.rdf"),
    (".rdf", b'<?xml version="1.0"?><rdf:RDF xmlns:rdf="nope"><x/></rdf:RDF>', "bad.rdf"),
    (".rdf", b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>', "bad.rdf"),
]


@pytest.fixture(scope="session")
def figures() -> Iterator[Figures]:
    """Counts the tests record; merged into test-artifacts/reliability.json at session end."""
    collected: Figures = {}
    yield collected
    if not collected:
        return
    ARTIFACT.parent.mkdir(exist_ok=True)
    previous = json.loads(ARTIFACT.read_text()) if ARTIFACT.exists() else {}
    previous.update(collected)
    ARTIFACT.write_text(json.dumps(previous, indent=2, sort_keys=True) + "\n")


def add(figures: Figures, key: str, amount: int) -> None:
    """Add ``amount`` to the figure ``key``."""
    figures[key] = figures.get(key, 0) + amount


def write_bulk(project: Path, entities: int, variant: str) -> Path:
    """Write ``data/sources/bulk.nt``: ``entities`` organisations, 3 triples each.

    The labels carry ``variant``, so two variants give stores that differ in every label.
    """
    target = project / "data" / "sources" / "bulk.nt"
    lines = []
    for i in range(entities):
        subject = f"<{ORG}bulk-{i}>"
        lines.append(f"{subject} <{RDF_TYPE}> <{AG}Organization> .\n")
        lines.append(f'{subject} <{RDFS}label> "Organisation {i} {variant}"@en .\n')
        lines.append(f"{subject} <{AG}member> <{COUNTRY}honduras> .\n")
    target.write_text("".join(lines), encoding="utf-8")
    return target


def make_project(directory: Path, entities: int = 0, variant: str = "A") -> Path:
    """A copy of the mini fixture project, with a generated bulk data file if ``entities``."""
    shutil.copytree(MINI, directory)
    if entities:
        write_bulk(directory, entities, variant)
    return directory


def built_project(root: Path, entities: int) -> tuple[Path, Path]:
    """``make_project`` under ``root`` with ``entities`` generated ones, built into
    ``root/store``: (the store, the project)."""
    project = make_project(root / "project", entities=entities)
    build(project, root / "store", CANONICAL_BASE)
    return root / "store", project


def store_digest(store: Path) -> str:
    """SHA-256 of the store's sorted N-Quads (opened read-only through its link)."""
    handle = open_store(store, read_only=True)
    digest = hashlib.sha256(dump_nquads(handle)).hexdigest()
    del handle
    return digest


def kg_command(*args: str) -> list[str]:
    """The argv that runs ``kg`` with this interpreter (no dependence on PATH)."""
    return [sys.executable, "-m", "graph", *args]


def run_kg(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run ``kg`` in a subprocess and capture its output as text."""
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run(
        kg_command(*args), capture_output=True, text=True, timeout=timeout, env=env, check=False
    )


@pytest.fixture
def kg() -> Callable[..., subprocess.CompletedProcess[str]]:
    """``kg(*args)`` runs the command line in a subprocess."""
    return run_kg
