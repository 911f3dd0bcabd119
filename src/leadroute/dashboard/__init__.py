"""The operator dashboard: static files of this package, served by the app at ``/dashboard/``.

Plain HTML, CSS and JavaScript (no build step, no framework, nothing from a CDN), so it works
on a machine with no internet access. The page holds no secret of its own: the operator pastes
an API key, the page keeps it in the tab's ``sessionStorage`` and calls the public API with it,
so the dashboard can do exactly what that key's scopes allow and nothing more.

Because a key sits in the page, the files are served with a strict Content-Security-Policy
(scripts and styles from this origin only, no inline script, no framing, API calls to this
origin only): an injected string cannot run as code, and the key cannot be sent elsewhere.
"""

from importlib import resources

from fastapi import FastAPI, Request
from starlette.responses import RedirectResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

DASHBOARD_PATH = "/dashboard"

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    # Revalidate every time (the ETag makes that cheap), so an upgrade is seen at once.
    "Cache-Control": "no-cache",
}


class DashboardFiles(StaticFiles):
    """``StaticFiles`` that adds the dashboard's security headers to every answer."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers.update(SECURITY_HEADERS)
        return response


def mount_dashboard(app: FastAPI) -> None:
    """Serve the dashboard at ``/dashboard/``; ``/dashboard`` redirects there, so the page's
    relative URLs (its assets, and ``../api/v2``) resolve under any ``root_path``."""
    static = resources.files(__name__) / "static"

    @app.get(DASHBOARD_PATH, include_in_schema=False)
    def dashboard_entry(request: Request) -> RedirectResponse:
        root = request.scope.get("root_path", "")
        return RedirectResponse(f"{root}{DASHBOARD_PATH}/", status_code=308)

    app.mount(DASHBOARD_PATH, DashboardFiles(directory=str(static), html=True), name="dashboard")
