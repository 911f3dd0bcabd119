"""The error envelope ``{"statusCode", "error", "message"}`` and the exceptions behind it.

Services raise :class:`ApiError` subclasses; the handlers installed by
:func:`install_error_handlers` turn them, FastAPI's validation errors and Starlette's HTTP
errors into the envelope, so a client sees one shape for every failure.
"""

import logging
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

logger = logging.getLogger(__name__)


class ApiError(Exception):
    status_code: int = 500

    def __init__(self, message: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.headers = headers


class BadRequest(ApiError):
    status_code = 400


class Unauthorized(ApiError):
    status_code = 401


class Forbidden(ApiError):
    status_code = 403


class NotFound(ApiError):
    status_code = 404


class Conflict(ApiError):
    status_code = 409


class PayloadTooLarge(ApiError):
    status_code = 413


class TooManyRequests(ApiError):
    status_code = 429


def error_body(status_code: int, message: str) -> dict[str, Any]:
    return {
        "statusCode": status_code,
        "error": HTTPStatus(status_code).phrase,
        "message": message,
    }


def error_response(
    status_code: int, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(error_body(status_code, message), status_code=status_code, headers=headers)


# Where FastAPI says a bad value came from; the client knows its fields by name alone.
REQUEST_PARTS = frozenset({"body", "query", "path", "header", "cookie"})


def describe_validation_errors(errors: Sequence[Any]) -> str:
    """One line per problem, each naming the field the way the client wrote it."""
    parts = []
    for error in errors:
        location = [str(part) for part in error.get("loc", ())]
        if location and location[0] in REQUEST_PARTS:
            location = location[1:]
        field = ".".join(location) or "body"
        message = str(error.get("msg", "is invalid")).removeprefix("Value error, ")
        if error.get("type") == "json_invalid":
            field, message = "body", "is not valid JSON"
        parts.append(f"`{field}`: {message}")
    return "; ".join(parts) or "invalid request"


def install_error_handlers(app: FastAPI) -> None:
    async def handle_api_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        return error_response(exc.status_code, exc.message, exc.headers)

    async def handle_validation_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return error_response(400, describe_validation_errors(exc.errors()))

    async def handle_http_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        message = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
        if exc.status_code == 404 and message == "Not Found":
            message = "Route not found"
        return error_response(exc.status_code, message, getattr(exc, "headers", None))

    async def handle_unexpected(_request: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled error", exc_info=exc)
        return error_response(500, "Internal server error")

    app.add_exception_handler(ApiError, handle_api_error)
    app.add_exception_handler(RequestValidationError, handle_validation_error)
    app.add_exception_handler(StarletteHTTPException, handle_http_error)
    app.add_exception_handler(Exception, handle_unexpected)
