"""SPARQL on a store: guarded parsing, evaluation and updates (their answers as bytes and back:
graph.store.results)."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING

from pyoxigraph import (
    NamedNode,
    QueryBoolean,
    QuerySolutions,
    QueryTriples,
    Store,
    Variable,
)

from graph.core.errors import BadRequest
from graph.core.sparql_text import may_call_out
from graph.store.evaluation import evaluating, failed, reading_the_store, store_failed
from graph.store.handles import memory_store  # noqa: F401  (used by the doctests)
from graph.store.rdfio import Term
from graph.store.sparql_errors import explain

if TYPE_CHECKING:
    from graph.store.external.remote_store import RemoteStore


class QuerySyntaxError(BadRequest):
    """A SPARQL query or update that does not parse: what is wrong, and the line and column
    (1-based, in characters of the text as written) where it is, also its ``position``."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None) -> None:
        self.message, self.line, self.column = message, line, column
        where = "" if line is None else f" at line {line}, column {column}"
        position = (line, column) if line and column else None
        super().__init__(f"SPARQL syntax error{where}: {message}", position=position)

    @classmethod
    def from_oxigraph(
        cls, error: SyntaxError, text: str, declared: Collection[str] = ()
    ) -> QuerySyntaxError:
        """Oxigraph's ``error at L:C: expected one of ...`` about ``text`` in plain words
        (graph.store.sparql_errors); ``declared`` names the prefixes given to the engine.

        >>> str(QuerySyntaxError.from_oxigraph(SyntaxError("error at 1:24: expected OPTIONAL"),
        ...                                    "SELECT * WHERE { ?s ?p }"))
        'SPARQL syntax error at line 1, column 24: a triple pattern needs an object after ?p'
        """
        found = explain(str(error), text, declared)
        return cls(found.message, found.line, found.column)


#: Deepest nesting of (, { and [ a query may use. Oxigraph's SPARQL parser recurses, and a few
#: thousand levels overflow an 8 MiB thread stack and kill the process (SIGSEGV); real queries
#: stay far below this, and a worker thread's stack may be smaller than the main thread's.
MAX_QUERY_NESTING = 200


def check_query_text(text: str) -> None:
    """Refuse a query or update that is not UTF-8 text or is nested too deep, before parsing it.

    A command-line argument with bytes that are not UTF-8 arrives as lone surrogates.

    >>> check_query_text("ASK { ?s ?p '\\udcff' }")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    graph.store.sparql.QuerySyntaxError: ... at line 1, column 14: not UTF-8 text (byte 0xff)
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        line = text.count("\n", 0, error.start) + 1
        column = error.start - (text.rfind("\n", 0, error.start) + 1) + 1
        byte = ord(text[error.start]) & 0xFF
        raise QuerySyntaxError(f"not UTF-8 text (byte {byte:#x})", line, column) from None
    check_nesting(text)


def check_nesting(text: str) -> None:
    """Refuse a query or update nested deeper than :data:`MAX_QUERY_NESTING` before parsing it.

    Every bracket counts, even in a string or a comment: skipping those would need a second
    SPARQL lexer, and one that disagreed with Oxigraph's could be used to hide real nesting.

    >>> check_nesting("SELECT * WHERE { FILTER(1) }")
    >>> check_nesting("ASK {" + "(" * 300 + "}")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    graph.store.sparql.QuerySyntaxError: ... at line 1, column 205: nested deeper than 200 levels
    """
    if sum(text.count(bracket) for bracket in "({[") <= MAX_QUERY_NESTING:
        return  # too few brackets to nest that deep: the usual case, and no per-character loop
    depth, line, column = 0, 1, 0
    for char in text:
        column += 1
        if char == "\n":
            line, column = line + 1, 0
        elif char in "({[":
            depth += 1
            if depth > MAX_QUERY_NESTING:
                nested = f"nested deeper than {MAX_QUERY_NESTING} levels"
                raise QuerySyntaxError(nested, line, column)
        elif char in ")}]":
            depth -= 1


QueryResult = QuerySolutions | QueryBoolean | QueryTriples


def run_query(
    store: Store | RemoteStore,
    text: str,
    *,
    union_default_graph: bool | None = None,
    default_graphs: Sequence[str] = (),
    named_graphs: Sequence[str] = (),
    bindings: Mapping[str, Term] | None = None,
    prefixes: Mapping[str, str] | None = None,
    base_iri: str | None = None,
) -> QueryResult:
    """Evaluate a SPARQL query; the default graph is every triple of the graph, once.

    On the embedded store that is the store's own default graph, which holds the set
    (graph.store.default_graph); an external store is asked for the graph's default graph
    (graph.store.external). ``union_default_graph`` False asks for the store's own default
    graph on either; True for Oxigraph's union of every graph, duplicates and all, which
    validation uses on stores that do not hold the set (its checks count distinct values).

    ``default_graphs``/``named_graphs`` (IRIs) set the dataset as the protocol's
    ``default-graph-uri``/``named-graph-uri`` do; unknown graphs are simply empty.
    ``bindings`` fixes variables before evaluation (SEP-0007 substitution), so that an IRI from
    a request never has to be pasted into query text. ``prefixes`` are declared for the query.
    ``base_iri`` resolves the query's relative IRIs (its own BASE, if any, wins).

    >>> store = memory_store()
    >>> bool(run_query(store, "ASK { }"))
    True
    >>> rows = run_query(store, "SELECT ?x { }", bindings={"x": NamedNode("http://e.org/a")})
    >>> [row["x"].value for row in rows]
    ['http://e.org/a']

    :raises QuerySyntaxError: if the query does not parse (the message gives line:column).
    :raises EvaluationFailed: if the engine fails to evaluate it (its answer is lazy: read
        it inside :func:`graph.store.evaluation.evaluating`, given ``text``, for the same
        translation).
    :raises StoreUnavailable: if the store fails it, and ``text`` cannot call out.
    """
    options: dict[str, object] = {}
    if default_graphs:
        options["default_graph"] = [NamedNode(iri) for iri in default_graphs]
    elif union_default_graph or (union_default_graph is None and not isinstance(store, Store)):
        options["use_default_graph_as_union"] = True
    if named_graphs:
        options["named_graphs"] = [NamedNode(iri) for iri in named_graphs]
    elif default_graphs:
        options["named_graphs"] = [NamedNode(iri) for iri in default_graphs]
    if bindings:
        options["substitutions"] = {Variable(name): term for name, term in bindings.items()}
    if prefixes and (used := used_prefixes(text, prefixes)):
        options["prefixes"] = used
    return _evaluated(store, text, options, base_iri, prefixes or ())


def run_over_dataset(
    store: Store,
    text: str,
    *,
    default_graphs: Sequence[str] | None,
    named_graphs: Sequence[str] | None,
    base_iri: str | None = None,
) -> QueryResult:
    """Evaluate a query over an update operation's dataset (SPARQL 1.1 Update, section 3.1.3):
    ``default_graphs`` None is the store's own default graph, a list (possibly empty) the merge
    of those graphs (USING, or WITH); ``named_graphs`` None is every named graph, a list only
    those (USING NAMED). Given to the engine as options, never written into the text.

    :raises QuerySyntaxError: if the query does not parse (the message gives line:column).
    """
    options: dict[str, object] = {}
    if default_graphs is not None:
        options["default_graph"] = [NamedNode(iri) for iri in default_graphs]
    if named_graphs is not None:
        options["named_graphs"] = [NamedNode(iri) for iri in named_graphs]
    return _evaluated(store, text, options, base_iri, what="update")


def _evaluated(
    store: Store | RemoteStore,
    text: str,
    options: dict[str, object],
    base_iri: str | None,
    declared: Collection[str] = (),
    *,
    what: str = "query",
) -> QueryResult:
    """``text`` checked, then evaluated with the engine's ``options``, its errors the domain's
    (``declared``: the prefixes among ``options``, for the explanation of a syntax error;
    ``what``: a query, or an update whose pattern this is)."""
    if base_iri:
        options["base_iri"] = base_iri
    check_query_text(text)
    try:
        with evaluating(what, text):
            return _prepared(store, text, options, what)
    except SyntaxError as error:
        raise QuerySyntaxError.from_oxigraph(error, text, declared) from None


def _prepared(
    store: Store | RemoteStore, text: str, options: dict[str, object], what: str
) -> QueryResult:
    """``store.query``, a ``RuntimeError`` raised while the engine prepares a text that cannot
    call out judged by the engine itself: when the same text with the same options fails on an
    empty store too, the text is at fault (a function the engine does not know, a
    substitution of a variable the query does not select), whatever the store holds: the
    client's :class:`EvaluationFailed`. Otherwise it is re-raised, the store's
    (graph.store.evaluation). A text that could call out is never evaluated twice."""
    try:
        return store.query(text, **options)  # type: ignore[arg-type]
    except RuntimeError as error:
        if (
            isinstance(store, Store)
            and not may_call_out(text)
            and _fails_without_data(text, options)
        ):
            raise failed(error, what=what) from None
        raise


def _fails_without_data(text: str, options: dict[str, object]) -> bool:
    try:
        Store().query(text, **options)  # type: ignore[arg-type]
    except RuntimeError:
        return True
    return False


def used_prefixes(text: str, prefixes: Mapping[str, str]) -> dict[str, str]:
    """The ``prefixes`` that ``text`` may use: those whose ``name:`` occurs in it (all of them
    when it has codepoint escapes, which SPARQL reads before parsing). The engine parses every
    prefix it is given, on every query: the project's fifty cost a point lookup 9 µs
    (bench/README.md, serving).

    >>> used_prefixes("ASK { ag:a rdfs:label ?l }", {"ag": "http://a/", "dct": "http://d/"})
    {'ag': 'http://a/'}
    """
    if "\\u" in text or "\\U" in text:
        return dict(prefixes)
    return {name: iri for name, iri in prefixes.items() if f"{name}:" in text}


@reading_the_store()
def select_rows(store: Store | RemoteStore, text: str) -> list[dict[str, str]]:
    """Run one of the project's own SELECT queries and return its rows as plain strings
    (unbound variables left out).

    >>> select_rows(memory_store(), "SELECT ?x WHERE { VALUES ?x { 1 } }")
    [{'x': '1'}]
    """
    result = run_query(store, text)
    if not isinstance(result, QuerySolutions):
        raise ValueError("select_rows needs a SELECT query")
    names = [v.value for v in result.variables]
    return [{name: row[name].value for name in names if row[name] is not None} for row in result]


class UpdateFailed(BadRequest):
    """A SPARQL update that parses but cannot run, e.g. ``DROP GRAPH`` of a missing graph.

    >>> str(UpdateFailed("The graph <http://e.org/g> does not exist"))
    'the update cannot be applied: The graph <http://e.org/g> does not exist'
    """

    def __init__(self, reason: str) -> None:
        super().__init__(f"the update cannot be applied: {reason}")


def run_update(store: Store, text: str, *, base_iri: str | None = None) -> None:
    """Run a SPARQL update in one transaction: either all of it is applied or nothing is.

    ``base_iri`` resolves the update's relative IRIs (its own BASE, if any, wins).

    :raises QuerySyntaxError: if the update does not parse (the message gives line:column).
    :raises UpdateFailed: if an operation fails (nothing was written).
    :raises EvaluationFailed: if the engine fails to evaluate it (a LOAD target, say).
    :raises StoreUnavailable: if the store's files fail it, and ``text`` cannot call out.
    """
    check_query_text(text)
    try:
        store.update(text, base_iri=base_iri)
    except SyntaxError as error:
        raise QuerySyntaxError.from_oxigraph(error, text) from None
    except RuntimeError as error:
        raise UpdateFailed(str(error)) from None
    except OSError as error:  # a LOAD or SERVICE target, or the store's files
        if may_call_out(text):
            raise failed(error, what="update") from None
        raise store_failed(error) from None
