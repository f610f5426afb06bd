"""Bad input on the command line: a clear error naming the problem, no traceback, nothing written.

A corpus of known-bad files, queries and arguments, plus Hypothesis mutations of valid documents
in every accepted format. Each input is counted into ``bad_inputs_tried``.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.reliability.conftest import Figures, add, kg_command, make_project, run_kg

from graph.build import build
from graph.cli import cli
from graph.namespaces import CANONICAL_BASE
from graph.store import (
    MAX_QUERY_NESTING,
    Literal,
    NamedNode,
    Quad,
    RdfSyntaxError,
    parse_file,
    rdf_format_for,
    serialize_quads,
)

FORMATS = (".ttl", ".nt", ".nq", ".trig", ".jsonld", ".rdf")


@dataclass
class Project:
    """A fixture project, its built store, and what the store looked like after the build."""

    directory: Path
    store: Path
    target: Path
    generations: set[str]

    def snapshot(self) -> tuple[Path, set[str]]:
        folder = self.target.parent
        return self.store.resolve(), {p.name for p in folder.iterdir()}

    def settle(self) -> None:
        """Take the store as it is now as the state every rejected input must leave alone."""
        self.target, self.generations = self.snapshot()

    def bad_file(self, suffix: str) -> Path:
        return self.directory / "data" / "sources" / f"bad{suffix}"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    root = tmp_path_factory.mktemp("bad-input")
    directory = make_project(root / "project")
    store = root / "var" / "store"
    build(directory, store, CANONICAL_BASE)
    built = Project(directory, store, store.resolve(), set())
    built.settle()
    return built


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=True)


def assert_rejected(result: Result, figures: Figures, *names: str) -> None:
    """Non-zero exit, no traceback, not an unhandled exception, and the message names things."""
    add(figures, "bad_inputs_tried", 1)
    output = result.output
    unhandled = result.exception is not None and not isinstance(result.exception, SystemExit)
    if unhandled or "Traceback" in output:
        add(figures, "bad_input_tracebacks_seen", 1)
    assert not unhandled, f"unhandled {result.exception!r}"
    assert "Traceback" not in output
    assert result.exit_code != 0, output
    for name in names:
        assert name in output, f"{name!r} not in {output!r}"


def assert_unchanged(project: Project) -> None:
    assert project.snapshot() == (project.target, project.generations)


# --- a corpus of bad files: (suffix, content, what the error must say) ---------------------------

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
    (".rdf", b"<rdf:RDF", "bad.rdf"),
    (".rdf", b'<?xml version="1.0"?><rdf:RDF xmlns:rdf="nope"><x/></rdf:RDF>', "bad.rdf"),
    (".rdf", b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>', "bad.rdf"),
]


@pytest.mark.parametrize(("suffix", "content", "where"), CORPUS)
def test_bad_file_is_refused_with_its_location_and_nothing_is_written(
    project: Project, figures: Figures, suffix: str, content: bytes, where: str
) -> None:
    bad = project.bad_file(suffix)
    bad.write_bytes(content)
    try:
        result = invoke(
            "build", "--project-dir", str(project.directory), "--store", str(project.store)
        )
        assert_rejected(result, figures, where, "syntax error")
        assert_unchanged(project)
        assert_rejected(
            invoke("validate", "--project-dir", str(project.directory), str(bad)), figures, where
        )
    finally:
        bad.unlink()


def test_a_killed_bad_file_is_refused_by_the_real_process_too(
    project: Project, figures: Figures
) -> None:
    bad = project.bad_file(".ttl")
    bad.write_bytes(b"@prefix : <http://a/> .\n:a :b :c ;\n  :d .\n")
    try:
        result = run_kg(
            "build", "--project-dir", str(project.directory), "--store", str(project.store)
        )
    finally:
        bad.unlink()
    add(figures, "bad_inputs_tried", 1)
    assert result.returncode == 1
    assert "bad.ttl:3:" in result.stderr and "Traceback" not in result.stderr
    assert_unchanged(project)


# --- arguments: missing files, directories, paths that are not ours -----------------------------


def test_arguments_that_name_the_wrong_thing_are_refused(
    project: Project, figures: Figures, tmp_path: Path
) -> None:
    (tmp_path / "folder.ttl").mkdir()
    plain = tmp_path / "plain.txt"
    plain.write_text("not a store\n")
    empty_project = tmp_path / "empty-project"
    empty_project.mkdir()
    project_dir = str(project.directory)
    cases = [
        (
            ["validate", "--project-dir", project_dir, str(tmp_path / "folder.ttl")],
            "is a directory",
        ),
        (
            ["validate", "--project-dir", project_dir, str(tmp_path / "missing.ttl")],
            "does not exist",
        ),
        (
            ["build", "--project-dir", str(empty_project), "--store", str(project.store)],
            "no RDF files",
        ),
        (
            ["build", "--project-dir", "../../../../../no/such", "--store", str(project.store)],
            "no RDF files",
        ),
        (["build", "--project-dir", project_dir, "--store", str(plain)], "is not a store link"),
        (["query", "ASK {}", "--store", str(plain)], "is not an Oxigraph store"),
        (["query", "ASK {}", "--store", "../../../../../../etc"], "is not an Oxigraph store"),
        (["query", "ASK {}", "--store", str(tmp_path / "nothing")], "no store at"),
        (["stats", "--store", str(plain)], "is not an Oxigraph store"),
    ]
    for args, message in cases:
        assert_rejected(invoke(*args), figures, message)
    assert not (tmp_path / "plain.txt.gen").exists()
    assert_unchanged(project)


# --- queries -------------------------------------------------------------------------------------


def test_bad_queries_get_a_located_error(
    project: Project, figures: Figures, tmp_path: Path
) -> None:
    store = str(project.store)
    non_utf8 = tmp_path / "latin1.rq"
    non_utf8.write_bytes("SELECT * WHERE { ?s ?p 'café' }".encode("latin-1"))
    long_query = tmp_path / "long.rq"
    long_query.write_text("SELECT * WHERE {\n" + "?s <urn:p> ?o .\n" * 60000, encoding="utf-8")
    cases = [
        ("SELEC * WHERE { }", "line 1, column"),
        ("SELECT * WHERE { ?s ?p }", "line 1, column"),
        ("SELECT * WHERE {\n  ?s ?p ?o\n", "line 3"),
        ("", "SPARQL syntax error"),
        ("PREFIX : <http://a b/> ASK {}", "line 1, column"),
        ("SELECT * WHERE { ?s ?p '\udcff' }", "SPARQL syntax error"),
        ("../../../../../../../etc/passwd", "SPARQL syntax error"),
        (str(non_utf8), "not UTF-8"),
        (str(long_query), "line 60002"),
        ("SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }", "the query failed"),
        (
            "ASK {" + "{" * (MAX_QUERY_NESTING + 1) + "}" * (MAX_QUERY_NESTING + 1) + "}",
            "nested deeper",
        ),
    ]
    for query, message in cases:
        assert_rejected(invoke("query", query, "--store", store), figures, message)


def test_a_deeply_nested_query_does_not_crash_the_process(
    project: Project, figures: Figures, tmp_path: Path
) -> None:
    """Oxigraph's recursive parser overflowed the stack (SIGSEGV) at ~5000 levels."""
    deep = tmp_path / "deep.rq"
    deep.write_text("SELECT * WHERE { FILTER(" + "(" * 20000 + "1" + ")" * 20000 + ") }")
    result = run_kg("query", str(deep), "--store", str(project.store))
    add(figures, "bad_inputs_tried", 1)
    assert result.returncode == 1, f"exit status {result.returncode}"
    assert "nested deeper than" in result.stderr and "Traceback" not in result.stderr


def test_a_query_argument_that_is_not_utf8_is_refused_by_the_real_process(
    project: Project, figures: Figures
) -> None:
    """Such bytes reach Python as lone surrogates, which Oxigraph could not encode."""
    argv = [*kg_command("query"), b"ASK { ?s ?p '\xff' }", "--store", str(project.store)]
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    add(figures, "bad_inputs_tried", 1)
    assert result.returncode == 1
    assert "line 1, column 14: not UTF-8 text" in result.stderr and "Traceback" not in result.stderr


# --- property-based: mutations of valid documents in every format ---------------------------------


def valid_document(suffix: str) -> bytes:
    """A small valid document in the format ``suffix`` names, with odd Unicode in it."""
    subject = NamedNode("https://w3id.org/alliance-graph/id/organization/caf\u00e9-\u202e")
    quads = [
        Quad(subject, NamedNode("http://www.w3.org/2000/01/rdf-schema#label"), Literal(text), graph)
        for text in ("Réseau \u0000 \U0001f600 \u202e tab\t", 'line\nbreak "quoted"')
        for graph in [NamedNode("https://w3id.org/alliance-graph/graph/bad")]
    ]
    return serialize_quads(quads, rdf_format_for(Path("x" + suffix)))


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, bytes]:
    suffix = draw(st.sampled_from(FORMATS))
    data = bytearray(valid_document(suffix))
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(data)))
        kind = draw(st.sampled_from(["insert", "delete", "truncate", "replace"]))
        if kind == "insert":
            data[at:at] = draw(
                st.binary(min_size=1, max_size=8)
                | st.sampled_from(
                    [b"\xff", b"\xc3", b"\x00", b"<", b">", b'"', b"{", b"}", b".", b"@", b"\\u"]
                )
            )
        elif kind == "delete":
            del data[at : at + draw(st.integers(1, 20))]
        elif kind == "truncate":
            del data[at:]
        else:
            data[at : at + 1] = draw(st.text(min_size=1, max_size=3)).encode(
                "utf-8", "surrogatepass"
            )
    return suffix, bytes(data)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=mutated())
def test_parsing_a_mutated_document_fails_only_with_a_located_syntax_error(
    case: tuple[str, bytes], tmp_path_factory: pytest.TempPathFactory, figures: Figures
) -> None:
    suffix, content = case
    path = tmp_path_factory.getbasetemp() / f"mutated{suffix}"
    path.write_bytes(content)
    add(figures, "bad_inputs_tried", 1)
    try:
        parse_file(path, "https://w3id.org/alliance-graph/graph/bad", CANONICAL_BASE)
    except RdfSyntaxError as error:
        assert str(error).startswith(f"{path}")
        assert error.message


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(case=mutated())
def test_building_with_a_mutated_file_publishes_it_whole_or_refuses_it_cleanly(
    case: tuple[str, bytes], project: Project, figures: Figures
) -> None:
    suffix, content = case
    bad = project.bad_file(suffix)
    bad.write_bytes(content)
    try:
        result = invoke(
            "build", "--project-dir", str(project.directory), "--store", str(project.store)
        )
    finally:
        bad.unlink()
    if result.exit_code == 0:  # the mutation left a valid document: it was published
        add(figures, "bad_input_mutations_still_valid", 1)
        project.settle()
        return
    assert_rejected(result, figures, f"bad{suffix}")
    assert_unchanged(project)


@settings(max_examples=100, deadline=None)
@given(text=st.text())
def test_any_unicode_literal_round_trips_through_a_file(
    text: str, tmp_path_factory: pytest.TempPathFactory, figures: Figures
) -> None:
    path = tmp_path_factory.getbasetemp() / "unicode.nt"
    quad = Quad(NamedNode("http://example.org/a"), NamedNode("http://example.org/b"), Literal(text))
    path.write_bytes(serialize_quads([quad], rdf_format_for(path)))
    add(figures, "odd_unicode_literals_tried", 1)
    quads, _ = parse_file(path, None, CANONICAL_BASE)
    assert [q.object for q in quads] == [Literal(text)]


def test_project_copy_helper_leaves_fixture_alone(tmp_path: Path) -> None:
    copy = make_project(tmp_path / "copy")
    (copy / "data" / "sources" / "extra.ttl").write_text("")
    assert not (
        Path(__file__).parents[1] / "fixtures" / "mini" / "data" / "sources" / "extra.ttl"
    ).exists()
    shutil.rmtree(copy)
