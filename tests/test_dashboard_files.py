"""The dashboard's files: served by the app at /dashboard/, self-contained, locked down."""

import re
from importlib import resources

import pytest
from fastapi.testclient import TestClient

ASSETS = {
    "index.html": "text/html",
    "app.js": "text/javascript",
    "app.css": "text/css",
}


def test_dashboard_redirects_to_its_folder_so_relative_urls_resolve(
    anonymous: TestClient,
) -> None:
    response = anonymous.get("/dashboard", follow_redirects=False)

    assert response.status_code == 308
    assert response.headers["location"] == "/dashboard/"


def test_the_page_loads_its_assets_from_the_app_only(anonymous: TestClient) -> None:
    response = anonymous.get("/dashboard/")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assets = re.findall(r'(?:src|href)="([^"]+)"', response.text)
    assert set(assets) == {"app.css", "app.js", "data:,"}


@pytest.mark.parametrize(("name", "content_type"), ASSETS.items())
def test_every_file_is_served_with_a_strict_content_security_policy(
    anonymous: TestClient, name: str, content_type: str
) -> None:
    response = anonymous.get(f"/dashboard/{name}")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith(content_type)
    policy = response.headers["content-security-policy"]
    for directive in (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
    ):
        assert directive in policy
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cache-control"] == "no-cache"


def test_the_files_ship_inside_the_package_and_reach_nothing_outside(
    anonymous: TestClient,
) -> None:
    static = resources.files("leadroute.dashboard") / "static"
    for name in ASSETS:
        text = (static / name).read_text(encoding="utf-8")
        assert anonymous.get(f"/dashboard/{name}").text == text
        assert not re.search(r"https?://", text), f"{name} names an outside URL"


def test_an_unknown_file_is_404(anonymous: TestClient) -> None:
    assert anonymous.get("/dashboard/nope.js").status_code == 404


def test_the_dashboard_is_not_part_of_the_api_document(anonymous: TestClient) -> None:
    paths = anonymous.get("/openapi.json").json()["paths"]
    assert not [path for path in paths if path.startswith("/dashboard")]
