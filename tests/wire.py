"""Checks that a response body is what Instantly's API would answer, by its JSON Schema.

The schemas come from ``shared/spec/instantly-v2-subset.json`` (OpenAPI 3.1, so JSON Schema
2020-12); ``#/components/schemas/...`` references inside them resolve against that document.

    assert_matches_schema(body, "Lead")
    assert_matches_response(body, "GET", "/api/v2/leads/{id}", status=200)

Formats are checked too, and ``date-time`` strictly as leadroute writes it (ISO-8601 UTC with
milliseconds and ``Z``), so a timestamp in another shape fails even where Instantly's schema
would let it pass.
"""

import json
import re
from functools import cache
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from tests.conftest import SPEC_DIR

SUBSET_URI = "urn:leadroute:instantly-v2-subset"
EXTRA_URI = "urn:leadroute:extra-schemas"

# Instantly publishes these, but the subset file leaves them out; written from Instantly's
# public schema pages, with the same conventions as the subset.
EXTRA_SCHEMAS: dict[str, dict[str, Any]] = {
    "LeadLabel": {
        "type": "object",
        "properties": {
            "id": {"type": "string", "format": "uuid"},
            "timestamp_created": {"type": "string", "format": "date-time"},
            "created_by": {"type": "string", "format": "uuid"},
            "organization_id": {"type": "string", "format": "uuid"},
            "label": {"type": "string"},
            "interest_status_label": {
                "type": "string",
                "enum": ["positive", "negative", "neutral"],
            },
            "interest_status": {"type": "number"},
            "description": {"type": ["null", "string"]},
            "use_with_ai": {"type": ["null", "boolean"]},
        },
        "required": [
            "id",
            "timestamp_created",
            "created_by",
            "organization_id",
            "label",
            "interest_status_label",
            "interest_status",
        ],
        "additionalProperties": False,
    },
}

WIRE_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


@cache
def subset() -> dict[str, Any]:
    document: dict[str, Any] = json.loads((SPEC_DIR / "instantly-v2-subset.json").read_text())
    return document


@cache
def _registry() -> Registry:
    return Registry().with_resources(
        [
            (SUBSET_URI, Resource.from_contents(subset(), default_specification=DRAFT202012)),
            (
                EXTRA_URI,
                Resource.from_contents(
                    {"components": {"schemas": EXTRA_SCHEMAS}},
                    default_specification=DRAFT202012,
                ),
            ),
        ]
    )


@cache
def _format_checker() -> FormatChecker:
    checker = FormatChecker()

    @checker.checks("date-time")
    def is_wire_timestamp(value: object) -> bool:
        return not isinstance(value, str) or bool(WIRE_TIMESTAMP.match(value))

    return checker


def _pointer(*tokens: str) -> str:
    escaped = (token.replace("~", "~0").replace("/", "~1") for token in tokens)
    return "#/" + "/".join(quote(token, safe="~") for token in escaped)


def _validate(body: Any, ref: str, what: str) -> None:
    validator = Draft202012Validator(
        {"$ref": ref}, registry=_registry(), format_checker=_format_checker()
    )
    errors = sorted(validator.iter_errors(body), key=lambda error: list(error.absolute_path))
    if errors:
        lines = [
            f"  at /{'/'.join(str(part) for part in error.absolute_path)}: {error.message}"
            for error in errors[:20]
        ]
        raise AssertionError(f"body does not match {what}:\n" + "\n".join(lines))


def assert_matches_schema(body: Any, name: str) -> None:
    """``body`` is valid against the component schema ``name`` (subset file, else extras)."""
    if name in subset()["components"]["schemas"]:
        _validate(body, SUBSET_URI + _pointer("components", "schemas", name), name)
    elif name in EXTRA_SCHEMAS:
        _validate(body, EXTRA_URI + _pointer("components", "schemas", name), name)
    else:
        raise KeyError(f"no schema named {name!r}")


def assert_matches_response(body: Any, method: str, path: str, *, status: int = 200) -> None:
    """``body`` is valid against the answer the subset file gives for ``method path status``.

    ``path`` is the template as in the subset (``/api/v2/leads/{id}``), not a concrete URL.
    """
    operation = subset()["paths"][path][method.lower()]
    if str(status) not in operation["responses"]:
        raise KeyError(f"{method} {path} documents no {status} answer")
    ref = SUBSET_URI + _pointer(
        "paths",
        path,
        method.lower(),
        "responses",
        str(status),
        "content",
        "application/json",
        "schema",
    )
    _validate(body, ref, f"the {status} answer of {method.upper()} {path}")


def assert_is_error(response: Any, status: int) -> dict[str, Any]:
    """The response is ``status`` with exactly the error envelope; returns the body."""
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == {"statusCode", "error", "message"}, body
    assert body["statusCode"] == status
    assert isinstance(body["message"], str)
    assert body["message"]
    assert body["error"] == HTTPStatus(status).phrase
    return body
