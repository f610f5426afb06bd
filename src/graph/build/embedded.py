"""Build the graph: parse every file, validate it against the shapes, load a new store."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from graph.build.unfiled import DEFAULT, UnfiledGraphs, unfiled_graphs
from graph.sources.files import (
    ParsedFile,
    Progress,
    SourceFile,
    discover,
    no_progress,
    parse_sources,
)
from graph.store import (
    DefaultGraph,
    NamedNode,
    Quad,
    Store,
    bulk_load_file,
    discard_generation,
    finish_generation,
    load_generation,
    new_generation,
    open_generation,
    publish_generation,
)
from graph.store.generations import refuse_while_written
from graph.validation.compile import UnsupportedShape, compile_shapes
from graph.validation.in_store import shapes_graph, validate_store
from graph.validation.report import Report, validate

#: Below this much data, auto uses pyshacl (seconds at most, and its own messages).
SPARQL_ABOVE_BYTES = 5 * 1024 * 1024
ENGINES = ("auto", "sparql", "pyshacl")


class ValidationFailed(Exception):
    """The files parse but break the shapes; nothing was written."""

    def __init__(self, report: Report) -> None:
        super().__init__(f"{len(report.violations)} violation(s) of the shapes")
        self.report = report


class NoSourceFiles(Exception):
    """The project folder holds no RDF file: building would publish an empty store."""


@dataclass(frozen=True)
class BuildResult:
    """What a successful build published."""

    store: Path
    generation: Path
    quads: int
    graphs: int
    files: int
    #: Files of SHACL shapes the data was validated against.
    shape_files: int = 0

    def summary(self, seconds: float) -> str:
        """One line saying what was built, as ``kg build`` and a first ``kg serve`` print it.

        >>> print(BuildResult(Path("var/store"), Path("g"), 1697, 8, 9, 1).summary(0.94))
        Built 1697 triples in 8 named graphs from 9 files (validated against 1 shape file) \
into var/store in 0.9 s
        """
        shapes = f"{self.shape_files} shape file{'s' if self.shape_files != 1 else ''}"
        return (
            f"Built {self.quads} triples in {self.graphs} named graphs from {self.files} files"
            f" (validated against {shapes}) into {self.store} in {seconds:.1f} s"
        )


def by_role(parsed: Sequence[ParsedFile], role: str) -> list[ParsedFile]:
    """The parsed files that play ``role`` (ontology, shapes or data)."""
    return [p for p in parsed if p.source.role == role]


def validate_project(
    parsed: Sequence[ParsedFile], only: Sequence[ParsedFile] | None = None
) -> Report:
    """Validate the project's data; with ``only``, report on those files, the rest as context."""
    data = by_role(parsed, "data")
    focus = list(only) if only is not None else data
    focus_paths = {p.source.path.resolve() for p in focus}
    context = [p for p in data if p.source.path.resolve() not in focus_paths]
    return validate(focus, by_role(parsed, "shapes"), by_role(parsed, "ontology"), context=context)


def graph_quads(parsed: Sequence[ParsedFile]) -> Iterator[Quad]:
    """The quads a store holds: ontology and data, each file in its named graph (not shapes)."""
    for file in parsed:
        if file.source.role != "shapes":
            yield from file.quads


def choose_engine(engine: str, files: Sequence[SourceFile]) -> str:
    """The engine to use: ``sparql`` or ``pyshacl``.

    ``auto`` picks sparql for large data if the shapes compile; ``sparql`` insists on it.

    :raises graph.validation.compile.UnsupportedShape: with ``sparql`` and shapes it cannot compile.
    """
    if engine not in ENGINES:
        raise ValueError(f"unknown validation engine {engine!r}; choose one of {ENGINES}")
    if engine == "pyshacl":
        return engine
    size = sum(f.path.stat().st_size for f in files if f.role == "data")
    if engine == "auto" and size < SPARQL_ABOVE_BYTES:
        return "pyshacl"
    try:
        compile_shapes(shapes_graph(f for f in files if f.role == "shapes"))
    except UnsupportedShape:
        if engine == "sparql":
            raise
        return "pyshacl"
    return "sparql"


def build(
    project_dir: Path,
    store_path: Path,
    base: str,
    track: Progress = no_progress,
    engine: str = "auto",
    *,
    drop_unfiled: bool = False,
) -> BuildResult:
    """Parse, validate and load the project into a new generation of the store at ``store_path``.

    The store at ``store_path`` is replaced only when every step succeeded. Graphs of the
    current store that no file provides (written over HTTP) are dropped only with
    ``drop_unfiled``; otherwise the build refuses (see graph.build.unfiled).

    :raises graph.store.RdfSyntaxError: if a file does not parse.
    :raises ValidationFailed: if the data breaks the shapes.
    :raises NoSourceFiles: if ``project_dir`` holds no RDF file (the store is left alone).
    :raises graph.validation.compile.UnsupportedShape: with engine ``sparql`` and shapes beyond it.
    :raises graph.store.generations.StoreBusy: while a process (a writable server) writes the store.
    :raises graph.build.unfiled.UnfiledGraphs: if the store holds graphs no file provides.
    """
    refuse_while_written(store_path, "build")
    files = discover(project_dir)
    if not files:
        raise NoSourceFiles(
            f"no RDF files under {project_dir}/ontology, shapes or data: nothing to build"
        )
    if choose_engine(engine, files) == "sparql":
        return build_in_store(files, store_path, base, track, drop_unfiled=drop_unfiled)
    parsed = parse_sources(files, base, track)
    if not drop_unfiled:
        _refuse_unfiled(store_path, _graphs_of_quads(graph_quads(parsed)))
    report = validate_project(parsed)
    if not report.conforms:
        raise ValidationFailed(report)
    directory = new_generation(store_path)
    try:
        count = load_generation(directory, graph_quads(parsed))
        publish_generation(store_path, directory)
    except BaseException:
        discard_generation(directory)
        raise
    graphs = len({p.source.graph_name for p in parsed if p.source.role != "shapes"})
    shapes = sum(1 for f in files if f.role == "shapes")
    return BuildResult(store_path, directory, count, graphs, len(files), shapes)


def build_in_store(
    files: Sequence[SourceFile],
    store_path: Path,
    base: str,
    track: Progress = no_progress,
    *,
    drop_unfiled: bool = False,
) -> BuildResult:
    """Stream the files into a new generation, validate it with SPARQL, publish if it conforms.

    No quad passes through Python (with the canonical base), so time and memory stay close to
    a plain ``oxigraph load``.
    """
    loaded = [f for f in files if f.role != "shapes"]
    directory = new_generation(store_path)
    try:
        count = _load_and_check(directory, files, store_path, base, track, drop_unfiled)
        publish_generation(store_path, directory)
    except BaseException:
        discard_generation(directory)
        raise
    graphs = len({f.graph_name for f in loaded})
    shapes = sum(1 for f in files if f.role == "shapes")
    return BuildResult(store_path, directory, count, graphs, len(files), shapes)


def _load_and_check(
    directory: Path,
    files: Sequence[SourceFile],
    store_path: Path,
    base: str,
    track: Progress,
    drop_unfiled: bool,
) -> int:
    """Load ``files`` into the generation at ``directory``, validate it; return its quads.

    The store is closed before this returns or raises, so a refused generation can be removed
    (a handle kept alive by the traceback would let RocksDB write into the removed folder).
    """
    loaded = [f for f in files if f.role != "shapes"]
    store = open_generation(directory)
    try:
        for source in track(loaded, "Loading", len(loaded)):
            bulk_load_file(store, source.path, source.graph(base), base)
        if not drop_unfiled:
            _refuse_unfiled(store_path, _graphs_of_store(store))
        # The default graph becomes the set of every triple (graph.store.default_graph) and the
        # store is compacted before validating: the checks then read the set, not Oxigraph's
        # union of every graph, two to three times faster (docs/scaling.md, issue 12).
        count = finish_generation(store)
        shapes = shapes_graph(f for f in files if f.role == "shapes")
        data = [f for f in files if f.role == "data"]
        report = validate_store(store, shapes, data, base, track=track, union=False)
        if not report.conforms:
            raise ValidationFailed(report)
        return count
    finally:
        del store


def _refuse_unfiled(store_path: Path, loaded: set[str]) -> None:
    unfiled = unfiled_graphs(store_path, loaded)
    if unfiled:
        raise UnfiledGraphs(store_path, unfiled)


def _graphs_of_store(store: Store) -> set[str]:
    """The graphs a loaded generation holds, before its default graph holds the set: the
    default graph (:data:`~graph.build.unfiled.DEFAULT`) if a file stated triples in it."""
    named = {g.value for g in store.named_graphs() if isinstance(g, NamedNode)}
    stated = next(iter(store.quads_for_pattern(None, None, None, DefaultGraph())), None)
    return named | ({DEFAULT} if stated is not None else set())


def _graphs_of_quads(quads: Iterable[Quad]) -> set[str]:
    """The graphs ``quads`` are in, the default graph as :data:`~graph.build.unfiled.DEFAULT`."""
    graphs: set[str] = set()
    for quad in quads:
        graphs.add(quad.graph_name.value if isinstance(quad.graph_name, NamedNode) else DEFAULT)
    return graphs
