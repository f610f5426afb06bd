"""Requests to the reconciliation service read and checked: JSON Schema first, then our bounds.

A batch of queries and a data extension query are checked against the Community Group's own
JSON Schemas (copied in ``schemas/``), so what the specification refuses is refused here
(https://www.w3.org/community/reports/reconciliation/CG-FINAL-specs-0.2-20230410/#reconciliation-queries).
The service is open to anyone without a token, so every request is also bounded: queries per
batch, characters per name, candidates per query, constraints per query.
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass
from importlib import resources
from typing import Any

import jsonschema

from graph.core.errors import BadRequest, PayloadTooLarge

#: JSON nested deeper than this is refused before it is parsed into objects.
_MAX_DEPTH = 8


@dataclass(frozen=True)
class Limits:
    """How much one request may ask of the service (settings ``reconcile_*``)."""

    #: Queries in one batch, ids in one extension request.
    batch: int = 1000
    #: Characters in one name or property value.
    chars: int = 500
    #: Candidates returned for one query (a larger ``limit`` is lowered to this).
    candidates: int = 100
    #: Property constraints in one query, properties in one extension request.
    properties: int = 20


@functools.cache
def _validator(name: str) -> jsonschema.protocols.Validator:
    text = resources.files("graph.answering.reconcile").joinpath("schemas", name).read_text()
    schema = json.loads(text)
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)
    return cls(schema)


def parse_json(text: str, what: str) -> Any:
    """``text`` parsed as JSON, naming ``what`` in the error.

    >>> parse_json('{"q0": {"query": "Honduras"}}', "queries")
    {'q0': {'query': 'Honduras'}}

    :raises BadRequest: when the text is not JSON or is nested too deeply.
    """
    depth = 0
    deepest = 0
    in_string = escaped = False
    for char in text:  # nesting counted on the text, so no deep structure is ever built
        if in_string:
            escaped = char == "\\" and not escaped
            in_string = escaped or char != '"'
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    if deepest > _MAX_DEPTH:
        raise BadRequest(f"{what}: JSON nested more than {_MAX_DEPTH} levels deep")
    try:
        return json.loads(text, parse_constant=_no_constant, parse_float=_finite)
    except ValueError as error:
        raise BadRequest(f"{what} is not JSON: {error}") from None


def _no_constant(name: str) -> Any:
    # Python's json reads NaN and Infinity, which JSON (RFC 8259) does not have.
    raise ValueError(f"{name} is not a JSON value")


def _finite(text: str) -> float:
    """A JSON number with a fraction or exponent, refused past a float's range (``1e999``
    parses as infinity, which ``int()`` of a limit cannot take)."""
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"{text[:40]} is past the largest number taken here")
    return number


def _check(instance: Any, schema: str, what: str) -> None:
    error = jsonschema.exceptions.best_match(_validator(schema).iter_errors(instance))
    if error is not None:
        where = "/".join(str(part) for part in error.absolute_path)
        message = error.message if len(error.message) <= 200 else error.message[:200] + "…"
        raise BadRequest(f"{what}{'/' + where if where else ''}: {message}")


def batch(text: str, limits: Limits) -> dict[str, dict[str, Any]]:
    """The queries of ``queries=`` (a JSON object of query objects), checked.

    >>> batch('{"q0": {"query": "IOM", "limit": 500}}', Limits())["q0"]["limit"]
    100
    >>> batch('{"q1": {"limit": 1}}', Limits())  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    graph.core.errors.BadRequest: queries/q1: {'limit': 1} is not valid under any of the given ...

    :raises BadRequest: for JSON the specification's schema refuses, or a name too long.
    :raises PayloadTooLarge: for more queries than ``limits.batch``.
    """
    queries = parse_json(text, "queries")
    if isinstance(queries, dict) and len(queries) > limits.batch:
        raise PayloadTooLarge(f"queries: {len(queries)} queries, at most {limits.batch} at once")
    _check(queries, "reconciliation-query-batch.json", "queries")
    for key, query in queries.items():
        _bound(query, key, limits)
        # "The maximum number of candidates" (Reconciliation API 0.2): 0 or less asks for none.
        query["limit"] = max(0, min(int(query.get("limit", 10)), limits.candidates))
    return queries  # type: ignore[no-any-return]


def _bound(query: dict[str, Any], key: str, limits: Limits) -> None:
    if len(query.get("query", "")) > limits.chars:
        raise BadRequest(f"queries/{key}/query: longer than {limits.chars} characters")
    constraints = query.get("properties", [])
    if len(constraints) > limits.properties:
        raise BadRequest(f"queries/{key}/properties: more than {limits.properties} constraints")
    for number, constraint in enumerate(constraints):
        given = constraint["v"] if isinstance(constraint["v"], list) else [constraint["v"]]
        if len(given) > limits.properties:
            raise BadRequest(
                f"queries/{key}/properties/{number}/v: more than {limits.properties} values"
            )
        if any(len(json.dumps(value)) > limits.chars for value in given):
            raise BadRequest(
                f"queries/{key}/properties/{number}/v: a value over {limits.chars} characters"
            )


def extension(text: str, limits: Limits) -> dict[str, Any]:
    """The data extension query of ``extend=`` (``ids`` and ``properties``), checked.

    :raises BadRequest: for JSON the specification's schema refuses.
    :raises PayloadTooLarge: for more ids or properties than the limits allow.
    """
    query = parse_json(text, "extend")
    _check(query, "data-extension-query.json", "extend")
    if len(query["ids"]) > limits.batch:
        raise PayloadTooLarge(
            f"extend/ids: {len(query['ids'])} ids, at most {limits.batch} at once"
        )
    if len(query["properties"]) > limits.properties:
        raise PayloadTooLarge(f"extend/properties: at most {limits.properties} properties at once")
    return query  # type: ignore[no-any-return]


def bounded_text(value: str | None, what: str, limits: Limits) -> str:
    """A name or prefix from a request, refused when over ``limits.chars`` characters."""
    text = value or ""
    if len(text) > limits.chars:
        raise BadRequest(f"{what}: longer than {limits.chars} characters")
    return text


def bounded_limit(value: str | None, limits: Limits, default: int = 10) -> int:
    """A ``limit`` parameter, lowered to ``limits.candidates`` (0 or less: none).

    >>> [bounded_limit(value, Limits()) for value in ("1000", None, "-3")]
    [100, 10, 0]
    """
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise BadRequest(f"limit: {value[:40]!r} is not a whole number") from None
    return max(0, min(number, limits.candidates))
