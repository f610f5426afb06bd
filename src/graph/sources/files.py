"""Where the graph's files are and which named graph each one is loaded into."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol, TypeVar

from graph.core.namespaces import graph_iri
from graph.store import NamedNode, Quad, parse_file

Role = Literal["ontology", "shapes", "data"]
T = TypeVar("T")
Track = Callable[[Iterable[T], str, int], Iterable[T]]

RDF_SUFFIXES = (".ttl", ".trig", ".nt", ".nq", ".jsonld", ".rdf")
#: Files that name their own graphs (every other file is loaded into one graph of its own).
DATASET_SUFFIXES = (".nq", ".trig")


class Progress(Protocol):
    """Anything that wraps an iterable to show progress, like :func:`no_progress`."""

    def __call__(self, items: Iterable[T], description: str, total: int) -> Iterable[T]: ...


def no_progress(items: Iterable[T], description: str, total: int) -> Iterable[T]:
    """A progress tracker that shows nothing."""
    return items


@dataclass(frozen=True)
class SourceFile:
    """One RDF file of the project, the role it plays and the named graph it goes into."""

    path: Path
    role: Role
    graph_name: str

    def graph(self, base: str) -> str:
        """The IRI of this file's named graph under ``base``."""
        return graph_iri(self.graph_name, base)


@dataclass
class ParsedFile:
    """A source file's quads and its prefix declarations (used to locate nodes in the text)."""

    source: SourceFile
    quads: list[Quad]
    prefixes: dict[str, str] = field(default_factory=dict)


def discover(project_dir: Path) -> list[SourceFile]:
    """List the ontology, shapes and data files of a project, in a stable order.

    Data files under ``data/reference/`` go into ``graph/reference-{stem}``, every other data file
    into ``graph/{stem}``; ontology files into ``graph/ontology``.
    """
    files: list[SourceFile] = []
    for path in _rdf_files(project_dir / "ontology"):
        files.append(SourceFile(path, "ontology", "ontology"))
    for path in _rdf_files(project_dir / "shapes"):
        files.append(SourceFile(path, "shapes", "shapes"))
    for path in _rdf_files(project_dir / "data"):
        files.append(SourceFile(path, "data", data_graph_name(path)))
    return files


def data_graph_name(path: Path) -> str:
    """Name of the graph a data file is loaded into.

    >>> data_graph_name(Path("data/reference/countries.ttl"))
    'reference-countries'
    >>> data_graph_name(Path("data/sources/iom-2018-la-ceiba-workshop.ttl"))
    'iom-2018-la-ceiba-workshop'
    """
    if path.parent.name == "reference":
        return f"reference-{path.stem}"
    return path.stem


def _rdf_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*") if p.suffix in RDF_SUFFIXES and p.is_file())


def parse_sources(
    files: Sequence[SourceFile], base: str, track: Track[SourceFile] = no_progress
) -> list[ParsedFile]:
    """Parse every file into quads in its named graph.

    :raises graph.store.RdfSyntaxError: for the first file that does not parse.
    """
    parsed = []
    for source in track(files, "Parsing", len(files)):
        quads, prefixes = parse_file(source.path, source.graph(base), base)
        parsed.append(ParsedFile(source, quads, prefixes))
    return parsed


def provided_graphs(project_dir: Path, base: str) -> set[str]:
    """The IRIs of the graphs the project's files are loaded into (dataset files parsed)."""
    files = [f for f in discover(project_dir) if f.role != "shapes"]
    triples = {f.graph(base) for f in files if f.path.suffix not in DATASET_SUFFIXES}
    datasets = [f for f in files if f.path.suffix in DATASET_SUFFIXES]
    return triples | graphs_of(q for p in parse_sources(datasets, base) for q in p.quads)


def graphs_of(quads: Iterable[Quad]) -> set[str]:
    """The IRIs of the named graphs ``quads`` are in."""
    return {q.graph_name.value for q in quads if isinstance(q.graph_name, NamedNode)}
