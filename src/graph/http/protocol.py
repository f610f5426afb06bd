"""Read a SPARQL 1.1 Protocol request into one operation, or say exactly what is wrong with it.

Follows https://www.w3.org/TR/sparql11-protocol/#query-operation (GET, POST form-encoded,
POST direct) and #update-operation (POST form-encoded, POST direct only).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Request

from graph.core.errors import BadRequest, MethodNotAllowed, UnsupportedMediaType
from graph.http.formdata import form_pairs, form_params, form_value
from graph.store import check_iri

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

FORM = "application/x-www-form-urlencoded"
QUERY_BODY = "application/sparql-query"
UPDATE_BODY = "application/sparql-update"

Kind = Literal["query", "update", "description"]


@dataclass(frozen=True)
class Operation:
    """A query, an update, or a request for the service description (GET with no query)."""

    kind: Kind
    text: str = ""
    #: ``default-graph-uri`` for a query, ``using-graph-uri`` for an update.
    default_graphs: tuple[str, ...] = ()
    #: ``named-graph-uri`` for a query, ``using-named-graph-uri`` for an update.
    named_graphs: tuple[str, ...] = ()


def read_environ(environ: WSGIEnvironment) -> tuple[Operation, str | None]:
    """The operation a WSGI request to the endpoint asks for, and its ``format`` parameter.

    The usual request (:func:`plain_query`) is read with the least work; the others by the
    protocol's rules (:func:`read_operation`). A HEAD request is read as its GET. The body
    is in memory already (graph.http.bodylimit).

    :raises BadRequest, MethodNotAllowed, UnsupportedMediaType: as :func:`read_operation`.
    """
    method = environ["REQUEST_METHOD"]
    body = b""
    if method == "POST":
        stream = environ["wsgi.input"]
        body = stream.read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(body)
    plain = plain_query(
        method, environ.get("QUERY_STRING", ""), environ.get("CONTENT_TYPE", ""), body
    )
    if plain is not None:
        return plain
    request = Request(environ)
    if method == "HEAD":
        request.method = "GET"
    operation = read_operation(request)
    return operation, request.values.get("format")


#: A query or update sent directly is UTF-8 (sections 2.1.3, 2.2.3); one leading byte order mark,
#: which editors on Windows write, is not part of it (the engine would read it as a stray
#: character and point its syntax error past it).
DIRECT_BODY_ENCODING = "utf-8-sig"


def plain_query(
    method: str, query_string: str, content_type: str, body: bytes
) -> tuple[Operation, str | None] | None:
    """The query of the usual request: one ``query`` parameter (perhaps a ``format``) and
    nothing else, or a UTF-8 ``application/sparql-query`` body with no parameters; else None.

    No dataset, no conflict, nothing for the protocol's rules to decide, so it is read here
    with the least work; the rules read every other request (tests/http/test_protocol.py
    holds the two to the same answers).
    """
    if method in ("GET", "HEAD"):
        encoded = query_string
    elif method != "POST" or query_string:
        return None
    elif content_type == QUERY_BODY:
        try:
            return Operation("query", body.decode(DIRECT_BODY_ENCODING)), None
        except UnicodeDecodeError:
            return None
    elif content_type == FORM:
        encoded = body.decode("latin-1")
    else:
        return None
    try:
        if encoded.startswith("query=") and "&" not in encoded:
            return Operation("query", form_value(encoded[6:])), None
        pairs = form_pairs(encoded)
    except UnicodeDecodeError:
        return None  # the rules name the parameter that is not UTF-8
    query = format_param = None
    for name, value in pairs:
        if name == "query" and query is None:
            query = value
        elif name == "format" and format_param is None:
            format_param = value
        else:
            return None
    return (Operation("query", query), format_param) if query is not None else None


def read_operation(request: Request) -> Operation:
    """The operation ``request`` asks for.

    Parameters, in the URL or a form, are UTF-8 whatever charset a form declares (a form has no
    other: WHATWG URL, section 5.1), as the protocol's queries and updates are.

    :raises BadRequest: for missing, repeated or conflicting parameters, or a parameter or body
        not in UTF-8.
    :raises MethodNotAllowed: for an update over GET.
    :raises UnsupportedMediaType: for a POST body in another media type, or a direct body in
        a charset other than UTF-8.
    """
    return operation_of(
        request.method,
        request.mimetype,
        request.mimetype_params.get("charset", "utf-8"),
        form_params(request.environ.get("QUERY_STRING", "")),
        lambda: form_params(request.get_data(cache=True).decode("latin-1")),
        lambda: request.get_data(cache=False),
    )


def operation_of(
    method: str,
    media_type: str,
    charset: str,
    args: MultiDict[str, str],
    form: Callable[[], MultiDict[str, str]],
    body: Callable[[], bytes],
) -> Operation:
    """The operation a request with these parts asks for (see :func:`read_operation`).

    ``form`` and ``body`` are called only when the media type says which one holds it.

    >>> operation_of("GET", "", "utf-8", MultiDict({"query": "ASK {}"}), dict, bytes).kind
    'query'
    """
    if method == "GET":
        return _from_params(args, args, allow_update=False)
    if media_type == FORM:
        params = MultiDict(args)
        params.update(form())
        return _from_params(params, params, allow_update=True)
    if media_type in (QUERY_BODY, UPDATE_BODY):
        return _from_body(args, media_type, charset, body)
    raise UnsupportedMediaType(
        f"a POST to the SPARQL endpoint must be {FORM}, {QUERY_BODY} or {UPDATE_BODY},"
        f" not {media_type or 'a body without Content-Type'}"
    )


def _from_params(
    params: MultiDict[str, str], graphs: MultiDict[str, str], *, allow_update: bool
) -> Operation:
    queries, updates = params.getlist("query"), params.getlist("update")
    if queries and updates:
        raise BadRequest("give either a 'query' or an 'update' parameter, not both")
    if updates and not allow_update:
        raise MethodNotAllowed(
            "a SPARQL update must be sent with POST (form-encoded or application/sparql-update)",
            allowed=("POST",),
        )
    if len(queries) > 1 or len(updates) > 1:
        name = "query" if queries else "update"
        raise BadRequest(f"the '{name}' parameter is given more than once")
    if queries:
        return _operation("query", queries[0], graphs)
    if updates:
        return _operation("update", updates[0], graphs)
    if allow_update:
        raise BadRequest("the request has neither a 'query' nor an 'update' parameter")
    _refuse_dataset_without_query(graphs)
    return Operation("description")


def _from_body(
    args: MultiDict[str, str], media_type: str, charset: str, body: Callable[[], bytes]
) -> Operation:
    for name in ("query", "update"):
        if name in args:
            raise BadRequest(f"a {media_type} body cannot be combined with a '{name}' parameter")
    if charset.lower() not in ("utf-8", "utf8"):
        # Sections 2.1.3 and 2.2.3: a query or update sent directly is UTF-8, nothing else
        # (the W3C cases bad_query_non_utf8 and bad_update_non_utf8 send UTF-16).
        raise UnsupportedMediaType(
            f"a {media_type} body must be UTF-8 (charset=utf-8), not charset={charset}"
        )
    try:
        text = body().decode(DIRECT_BODY_ENCODING)
    except UnicodeDecodeError as error:
        raise BadRequest(f"the request body is not valid UTF-8: {error}") from None
    return _operation("query" if media_type == QUERY_BODY else "update", text, args)


#: Each operation's dataset parameters (default graphs, named graphs) in the protocol, and what
#: is said to a request that gives one of them to the other operation.
_DATASET: dict[str, tuple[str, str]] = {
    "query": ("default-graph-uri", "named-graph-uri"),
    "update": ("using-graph-uri", "using-named-graph-uri"),
}
_MISPLACED = {
    "query": "belongs to updates; a query takes default-graph-uri",
    "update": "belongs to queries; an update takes using-graph-uri",
}


def _operation(
    kind: Literal["query", "update"], text: str, graphs: MultiDict[str, str]
) -> Operation:
    """A ``kind`` over the dataset its own parameters name; the other kind's are refused."""
    other = "update" if kind == "query" else "query"
    for name in _DATASET[other]:
        if name in graphs:
            raise BadRequest(f"'{name}' {_MISPLACED[kind]}")
    default, named = _DATASET[kind]
    return Operation(kind, text, _graph_iris(graphs, default), _graph_iris(graphs, named))


def _graph_iris(graphs: MultiDict[str, str], name: str) -> tuple[str, ...]:
    """The values of the dataset parameter ``name``, each an absolute IRI.

    :raises BadRequest: naming the parameter and the value that is not an IRI (an empty one too).
    """
    values = tuple(graphs.getlist(name))
    for value in values:
        try:
            check_iri(value)
        except BadRequest as error:
            raise BadRequest(f"'{name}' must be an absolute IRI, not {value!r}: {error}") from None
    return values


def _refuse_dataset_without_query(graphs: MultiDict[str, str]) -> None:
    for name in _DATASET["query"]:
        if name in graphs:
            raise BadRequest(f"'{name}' was given without a 'query' parameter")
