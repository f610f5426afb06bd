"""Bad input on the command line: a clear error naming the problem, no traceback, nothing written.

A corpus of known-bad files, queries and arguments, plus Hypothesis mutations of valid documents
in every accepted format. Each input is counted into ``bad_inputs_tried``.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.reliability.conftest import CORPUS, Figures, add, kg_command, make_project, run_kg

from graph.build.embedded import build
from graph.cli import cli
from graph.core.namespaces import CANONICAL_BASE
from graph.store import (
    MAX_QUERY_NESTING,
    Literal,
    NamedNode,
    Quad,
    RdfFormat,
    RdfSyntaxError,
    parse_file,
    rdf_format_for,
    serialize_quads,
)

FORMATS = (".ttl", ".nt", ".nq", ".trig", ".jsonld", ".rdf")
#: Hypothesis examples: mutated documents parsed, and built with ``kg build``.
PARSE_EXAMPLES = 300
BUILD_EXAMPLES = 25
UNICODE_EXAMPLES = 100


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


def assert_rejected(result: Result, figures: Figures, *names: str, count: bool = True) -> None:
    """Non-zero exit, no traceback, not an unhandled exception, and the message names things."""
    if count:
        add(figures, "bad_inputs_tried", 1)
    figures.setdefault("bad_input_tracebacks_seen", 0)
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


#: (arguments, what the error must say); {tmp}, {project} and {store} are filled in.
ARGUMENT_CASES: list[tuple[list[str], str]] = [
    (["validate", "--project-dir", "{project}", "{tmp}/folder.ttl"], "is a directory"),
    (["validate", "--project-dir", "{project}", "{tmp}/missing.ttl"], "does not exist"),
    (["build", "--project-dir", "{tmp}/empty-project", "--store", "{store}"], "no RDF files"),
    (["build", "--project-dir", "../../../../../no/such", "--store", "{store}"], "no RDF files"),
    (["build", "--project-dir", "{project}", "--store", "{tmp}/plain.txt"], "is not a store link"),
    (["query", "ASK {{}}", "--store", "{tmp}/plain.txt"], "is not an Oxigraph store"),
    (["query", "ASK {{}}", "--store", "../../../../../../etc"], "is not an Oxigraph store"),
    (["query", "ASK {{}}", "--store", "{tmp}/nothing"], "no store at"),
    (["stats", "--store", "{tmp}/plain.txt"], "is not an Oxigraph store"),
]


def test_arguments_that_name_the_wrong_thing_are_refused(
    project: Project, figures: Figures, tmp_path: Path
) -> None:
    (tmp_path / "folder.ttl").mkdir()
    (tmp_path / "plain.txt").write_text("not a store\n")
    (tmp_path / "empty-project").mkdir()
    names = {"tmp": tmp_path, "project": project.directory, "store": project.store}
    for args, message in ARGUMENT_CASES:
        result = invoke(*[arg.format(**names) for arg in args])
        assert_rejected(result, figures, message)
    assert not (tmp_path / "plain.txt.gen").exists()
    assert_unchanged(project)


# --- queries -------------------------------------------------------------------------------------

#: (query or .rq path, what the error must say); {tmp} is filled in.
QUERY_CASES: list[tuple[str, str]] = [
    ("SELEC * WHERE { }", "line 1, column"),
    ("SELECT * WHERE { ?s ?p }", "line 1, column"),
    ("SELECT * WHERE {\n  ?s ?p ?o\n", "line 3"),
    ("", "SPARQL syntax error"),
    ("PREFIX : <http://a b/> ASK {}", "line 1, column"),
    ("SELECT * WHERE { ?s ?p '\udcff' }", "SPARQL syntax error"),
    ("../../../../../../../etc/passwd", "SPARQL syntax error"),
    ("{tmp}/latin1.rq", "not UTF-8"),
    ("{tmp}/long.rq", "line 60002"),
    ("SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }", "not allowed"),
    ("ASK {" + "{" * (MAX_QUERY_NESTING + 1) + "}" * (MAX_QUERY_NESTING + 1) + "}", "nested"),
]


def test_bad_queries_get_a_located_error(
    project: Project, figures: Figures, tmp_path: Path
) -> None:
    (tmp_path / "latin1.rq").write_bytes("SELECT * WHERE { ?s ?p 'café' }".encode("latin-1"))
    long_query = "SELECT * WHERE {\n" + "?s <urn:p> ?o .\n" * 60000
    (tmp_path / "long.rq").write_text(long_query, encoding="utf-8")
    for query, message in QUERY_CASES:
        text = query.replace("{tmp}", str(tmp_path))
        assert_rejected(invoke("query", text, "--store", str(project.store)), figures, message)


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
    """A small valid document in the format ``suffix`` names, with odd Unicode in it (a NUL
    but in RDF/XML: XML 1.0 cannot hold one, graph.store.xmlterms)."""
    fmt = rdf_format_for(Path("x" + suffix))
    nul = "" if fmt == RdfFormat.RDF_XML else "\u0000 "
    subject = NamedNode("https://w3id.org/alliance-graph/id/organization/caf\u00e9-\u202e")
    quads = [
        Quad(subject, NamedNode("http://www.w3.org/2000/01/rdf-schema#label"), Literal(text), graph)
        for text in (f"Réseau {nul}\U0001f600 \u202e tab\t", 'line\nbreak "quoted"')
        for graph in [NamedNode("https://w3id.org/alliance-graph/graph/bad")]
    ]
    return serialize_quads(quads, fmt)


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


@settings(max_examples=PARSE_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=mutated())
def test_parsing_a_mutated_document_fails_only_with_a_located_syntax_error(
    case: tuple[str, bytes], tmp_path_factory: pytest.TempPathFactory, figures: Figures
) -> None:
    suffix, content = case
    path = tmp_path_factory.getbasetemp() / f"mutated{suffix}"
    path.write_bytes(content)
    add(figures, "mutated_documents_tried", 1)
    try:
        parse_file(path, "https://w3id.org/alliance-graph/graph/bad", CANONICAL_BASE)
    except RdfSyntaxError as error:
        add(figures, "mutated_documents_rejected", 1)
        assert str(error).startswith(f"{path}")
        assert error.message


@settings(
    max_examples=BUILD_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
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
    add(figures, "mutated_documents_tried", 1)
    if result.exit_code == 0:  # the mutation left a valid document: it was published
        # Its file is gone now: drop its graph, as a build refuses to by default
        # (graph.build.unfiled).
        build(project.directory, project.store, CANONICAL_BASE, drop_unfiled=True)
        project.settle()
        return
    add(figures, "mutated_documents_rejected", 1)
    assert_rejected(result, figures, f"bad{suffix}", count=False)
    assert_unchanged(project)


@settings(max_examples=UNICODE_EXAMPLES, deadline=None)
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


def planned_bad_inputs() -> int:
    """How many fixed bad inputs this module tries (docs/reliability.md may not claim more)."""
    return 2 * len(CORPUS) + len(ARGUMENT_CASES) + len(QUERY_CASES) + 3
