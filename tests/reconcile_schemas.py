"""The Reconciliation API v0.2 JSON Schemas (tests/fixtures/schemas/reconciliation-0.2), ready
to validate documents, with their cross-references ($ref to type.json, to Swagger's schema)."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator
from referencing import Registry, Resource

from tests.paths import ROOT

SCHEMAS = ROOT / "tests" / "fixtures" / "schemas" / "reconciliation-0.2"
EXAMPLES = SCHEMAS / "examples"

#: Example folders with no schema file of their own, checked against part of another schema.
PARTS = {
    "data-extension-metadata": ("manifest.json", "/properties/extend"),
    "flyout-response": None,
    "preview-metadata": ("manifest.json", "/properties/preview"),
    "reconciliation-candidate": (
        "reconciliation-result-batch.json",
        "/patternProperties/^.*$/properties/result/items",
    ),
    # 0.2's manifest points at Swagger 2.0's securityDefinitions, which the example written in
    # OpenAPI 3's form ({"type": "http"}) does not fit: 0.2 has no schema for these examples.
    "security-scheme": None,
    "suggest-metadata": ("manifest.json", "/properties/suggest"),
}


@functools.cache
def registry() -> Registry:
    """Every schema of the folder under its $id (without fragment)."""
    resources = []
    for path in SCHEMAS.glob("*.json"):
        schema = json.loads(path.read_text())
        uri = schema.get("$id", "").split("#")[0]
        resources.append((uri, Resource.from_contents(schema, default_specification=_draft7())))
    return Registry().with_resources(resources)


def _draft7() -> Any:
    from referencing.jsonschema import DRAFT7

    return DRAFT7


def validator(name: str, pointer: str = "") -> Draft7Validator:
    """A validator for schema file ``name`` (or the part of it at JSON pointer ``pointer``)."""
    schema = json.loads((SCHEMAS / name).read_text())
    if pointer:
        base = schema["$id"].split("#")[0]
        return Draft7Validator({"$ref": base + "#" + pointer}, registry=registry())
    return Draft7Validator(schema, registry=registry())


def check(document: Any, name: str) -> None:
    """Fail with every error when ``document`` does not validate against schema ``name``."""
    errors = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator(name).iter_errors(document)
    ]
    assert not errors, errors


def examples() -> list[tuple[str, Path, bool]]:
    """Each example document: its folder (the kind of document), path, and whether valid."""
    found = []
    for path in sorted(EXAMPLES.glob("*/*/*.json")):
        found.append((path.parent.parent.name, path, path.parent.name == "valid"))
    return found


def validator_for_kind(kind: str) -> Draft7Validator | None:
    """The validator of an example folder's kind of document (None: no schema for it)."""
    if (SCHEMAS / f"{kind}.json").is_file():
        return validator(f"{kind}.json")
    part = PARTS.get(kind)
    return validator(*part) if part else None
