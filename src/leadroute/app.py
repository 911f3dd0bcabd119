"""The application factory: one ``Settings``, one ``Database``, every router."""

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import partial
from importlib import resources
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from leadroute import __version__
from leadroute.auth.key_cache import ApiKeyCache
from leadroute.dashboard import mount_dashboard
from leadroute.db.engine import create_db_engine
from leadroute.db.session import Database
from leadroute.errors import install_error_handlers
from leadroute.limits import BodySizeLimit
from leadroute.nul_guard import RejectNulCharacters
from leadroute.rate_limits import WorkspaceRateLimiter, build_rate_limiter
from leadroute.routers import api_routers
from leadroute.settings import Settings

DOCS_ASSETS_PATH = "/docs-assets"

LifecycleHook = Callable[[FastAPI], None]


def create_app(
    settings: Settings | None = None,
    *,
    database: Database | None = None,
    rate_limiter: WorkspaceRateLimiter | None = None,
    on_startup: LifecycleHook | None = None,
    on_shutdown: LifecycleHook | None = None,
) -> FastAPI:
    """Build the API.

    ``database`` lets a caller share one engine between the app and something else (a test,
    the embedded workers); by default the app makes its own from ``settings``. The hooks run
    inside the app's lifespan: ``leadroute serve`` starts and stops its embedded workers there.
    ``rate_limiter`` replaces the one built from ``settings`` (a test gives its own Redis key
    prefix); the auth dependency reads it from ``app.state.rate_limiter`` (None: no limits).
    """
    settings = settings or Settings()
    owns_database = database is None
    database = database or Database(create_db_engine(settings))
    owns_rate_limiter = rate_limiter is None
    rate_limiter = rate_limiter or build_rate_limiter(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if on_startup:
            on_startup(app)
        try:
            yield
        finally:
            if on_shutdown:
                on_shutdown(app)
            if owns_database:
                database.dispose()
            if owns_rate_limiter and rate_limiter is not None:
                rate_limiter.close()

    app = FastAPI(
        title="leadroute",
        version=__version__,
        description=(
            "Lead routing with an HTTP API wire-compatible with Instantly's API v2. "
            "Authenticate with `Authorization: Bearer <API key>`."
        ),
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.database = database
    app.state.rate_limiter = rate_limiter
    app.state.api_keys = ApiKeyCache(settings.api_key_cache_seconds)

    install_error_handlers(app)
    for router in api_routers():
        app.include_router(router)
    app.openapi = partial(openapi_with_error_envelope, app)  # type: ignore[method-assign]
    _mount_offline_docs(app)
    mount_dashboard(app)
    # Inside the body-size limit, which so bounds what the NUL guard buffers.
    app.add_middleware(RejectNulCharacters)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    return app


ERROR_RESPONSES = {
    "400": "Invalid body or parameter (the message names the field)",
    "401": "Missing, unknown or revoked API key",
    "403": "The API key lacks the scope",
    "404": "Not found in the caller's workspace",
    "409": "Conflict with the current state (a duplicate, a job not in the right state)",
    "413": "Request body too large",
    "429": "Rate limited (see `Retry-After`)",
}
ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "statusCode": {"type": "integer"},
        "error": {"type": "string"},
        "message": {"type": "string"},
    },
    "required": ["statusCode", "error", "message"],
}


def openapi_with_error_envelope(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document, with the error envelope in place of its 422 (never sent here)."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    components["Error"] = ERROR_SCHEMA
    error_content = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)
            for code, description in ERROR_RESPONSES.items():
                responses.setdefault(code, {"description": description, "content": error_content})
    app.openapi_schema = schema
    return schema


def _mount_offline_docs(app: FastAPI) -> None:
    """Swagger UI from a package's files, so /docs works with no internet access."""
    assets = resources.files("fastapi_offline") / "static"
    app.mount(DOCS_ASSETS_PATH, StaticFiles(directory=str(assets)), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}/openapi.json",
            title="leadroute API",
            swagger_js_url=f"{root}{DOCS_ASSETS_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{DOCS_ASSETS_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{root}{DOCS_ASSETS_PATH}/favicon.png",
        )
