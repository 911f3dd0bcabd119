"""The OpenAPI document describes every endpoint, and /docs works with no internet access."""

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.wire import subset

BODY_METHODS = ("post", "patch", "put")

# The endpoints of the foundation resources, as Instantly names them.
FOUNDATION = {
    "/api/v2/workspaces/current": {"get", "patch"},
    "/api/v2/workspace-members": {"get", "post"},
    "/api/v2/workspace-members/{id}": {"get", "patch", "delete"},
    "/api/v2/api-keys": {"get", "post"},
    "/api/v2/api-keys/{id}": {"delete"},
    "/api/v2/campaigns": {"get", "post"},
    "/api/v2/campaigns/{id}": {"get", "patch", "delete"},
    "/api/v2/lead-labels": {"get", "post"},
    "/api/v2/lead-labels/{id}": {"get", "patch", "delete"},
}


@pytest.fixture
def document(anonymous: TestClient) -> dict[str, Any]:
    response = anonymous.get("/openapi.json")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, methods in document["paths"].items()
        if path.startswith("/api/v2/")
        for method, operation in methods.items()
    ]


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].removeprefix("#/components/schemas/")
        schema = document["components"]["schemas"][name]
    return schema


def success_schema(operation: dict[str, Any]) -> dict[str, Any] | None:
    for status in ("200", "201", "202"):
        content = operation["responses"].get(status, {}).get("content", {})
        if "application/json" in content:
            schema: dict[str, Any] = content["application/json"]["schema"]
            return schema
    return None


def test_the_foundation_endpoints_are_documented(document: dict[str, Any]) -> None:
    for path, methods in FOUNDATION.items():
        assert path in document["paths"], path
        assert methods <= set(document["paths"][path]), path


def test_every_instantly_endpoint_the_app_serves_takes_the_same_body(
    document: dict[str, Any],
) -> None:
    for path, methods in subset()["paths"].items():
        for method, operation in methods.items():
            ours = document["paths"].get(path, {}).get(method)
            if ours is None:
                continue
            theirs = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if theirs and theirs["schema"].get("type") == "object":
                assert "requestBody" in ours, f"{method.upper()} {path}"


def test_every_endpoint_documents_its_request_and_response_schemas(
    document: dict[str, Any],
) -> None:
    for method, path, operation in operations(document):
        name = f"{method.upper()} {path}"
        assert success_schema(operation), f"{name} documents no JSON answer"
        if method in BODY_METHODS and "requestBody" in operation:
            body = operation["requestBody"]["content"]["application/json"]["schema"]
            assert resolve(document, body).get("properties"), f"{name}: empty request schema"
    for path, methods in FOUNDATION.items():
        for method in methods:
            operation = document["paths"][path][method]
            if method in BODY_METHODS:
                assert "requestBody" in operation, f"{method.upper()} {path}"


def test_foundation_answers_document_their_fields(document: dict[str, Any]) -> None:
    for path, methods in FOUNDATION.items():
        for method in methods:
            schema = resolve(document, success_schema(document["paths"][path][method]) or {})
            if method == "get" and not path.endswith(("}", "current")):
                continue  # lists: see the test below
            assert {"id"} <= set(schema.get("properties", {})), f"{method.upper()} {path}"


def test_every_answer_documents_its_fields(document: dict[str, Any]) -> None:
    bare = []
    for method, path, operation in operations(document):
        schema = resolve(document, success_schema(operation) or {})
        if not schema.get("properties"):
            bare.append(f"{method.upper()} {path}")
    assert bare == []


def test_every_endpoint_uses_the_bearer_scheme_api_key_auth(document: dict[str, Any]) -> None:
    scheme = document["components"]["securitySchemes"]["ApiKeyAuth"]
    assert scheme["type"] == "http"
    assert scheme["scheme"] == "bearer"
    for method, path, operation in operations(document):
        assert operation.get("security") == [{"ApiKeyAuth": []}], f"{method.upper()} {path}"


def test_docs_are_served_from_the_app_itself(anonymous: TestClient) -> None:
    response = anonymous.get("/docs")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert "url: '/openapi.json'" in html
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert {"/docs-assets/swagger-ui-bundle.js", "/docs-assets/swagger-ui.css"} <= set(assets)
    assert "http://" not in html
    assert "https://" not in html
    for asset in assets:
        assert asset.startswith("/docs-assets/"), asset
        fetched = anonymous.get(asset)
        assert fetched.status_code == 200, asset
        assert fetched.content
