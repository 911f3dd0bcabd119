"""The router every API module builds its endpoints on: a request's unit of work commits,
and its response is written, in the thread that did the work.

FastAPI runs a plain ``def`` endpoint in a worker thread and a generator dependency's
cleanup in another hop through the event loop. If the session dependency committed there,
an SQLite writer would hold the database's one write lock from its first statement, across
the return to the event loop and the wait for the next free worker thread, until that
commit: under load every write request would queue behind that slack. So a sync endpoint
that takes a ``Session`` commits it itself, right after returning, in the same thread; the
session dependency (:func:`leadroute.db.session.get_session`) then only closes it, or rolls
it back if the endpoint raised. A commit still happens before the response is sent.

FastAPI then validates a sync endpoint's return value against its response model in a
second trip through the thread pool, and serializes it on the event loop. Each trip hands
Python's GIL to another thread twice; for a small response it is a tenth of the request's
instructions (``python -m bench.instructions``). So the same thread also validates and
serializes the response, exactly as FastAPI would (the route's response model and its
options, status code and the headers set on the request's ``Response``), and FastAPI passes
the finished response through.
"""

import functools
import inspect
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Response
from fastapi.datastructures import DefaultPlaceholder
from fastapi.exceptions import ResponseValidationError
from fastapi.routing import APIRoute
from fastapi.utils import is_body_allowed_for_status_code
from sqlalchemy.orm import Session
from starlette._utils import get_route_path
from starlette.routing import Match
from starlette.types import Scope

# The request's ``Response`` (its status code and headers), asked for by the wrapper.
SUB_RESPONSE = "_leadroute_sub_response"


def _is_response_class(annotation: Any) -> bool:
    return inspect.isclass(annotation) and issubclass(annotation, Response)


class UnitOfWorkRoute(APIRoute):
    """An ``APIRoute`` whose sync endpoint commits its session and writes its response in
    its own thread."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        if not inspect.iscoroutinefunction(endpoint):
            endpoint = self._in_one_thread(endpoint)
        super().__init__(path, endpoint, **kwargs)

    def _in_one_thread(self, endpoint: Callable[..., Any]) -> Callable[..., Any]:
        """``endpoint``, committing every ``Session`` it was given once it returns, then
        answering a ready response."""

        # FastAPI fills one parameter annotated ``Response`` with the request's own (the
        # object an endpoint or a dependency sets a status or headers on): the endpoint's, or
        # one added to its signature here.
        signature = inspect.signature(endpoint)
        parameters = list(signature.parameters.values())
        declared = next((p.name for p in parameters if _is_response_class(p.annotation)), None)
        if declared is None:
            last = len(parameters)
            if parameters and parameters[-1].kind is inspect.Parameter.VAR_KEYWORD:
                last -= 1
            keyword = inspect.Parameter.KEYWORD_ONLY
            parameters.insert(last, inspect.Parameter(SUB_RESPONSE, keyword, annotation=Response))

        @functools.wraps(endpoint)
        def run(*args: Any, **kwargs: Any) -> Any:
            if declared is None:
                sub_response: Response = kwargs.pop(SUB_RESPONSE)
            else:
                sub_response = kwargs[declared]
            result = endpoint(*args, **kwargs)
            for value in (*args, *kwargs.values()):
                if isinstance(value, Session):
                    value.commit()
            return self._ready_response(result, sub_response)

        run.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
        return run

    def _ready_response(self, result: Any, sub_response: Response) -> Any:
        """What FastAPI's request handler would make of ``result``, made here.

        A ``Response`` already is one; a route with no response model, or with a response
        class of its own, is left to FastAPI. The route's own settings are read, not those an
        including router or the app could add (a ``default_response_class``): leadroute's
        routers and app set none.
        """
        field = self.response_field
        if (
            isinstance(result, Response)
            or field is None
            or not isinstance(self.response_class, DefaultPlaceholder)
        ):
            return result
        value, errors = field.validate(result, {}, loc=("response",))
        if errors:
            raise ResponseValidationError(errors, body=result)
        status_code = sub_response.status_code or self.status_code or 200
        content = None
        if is_body_allowed_for_status_code(status_code):
            content = field.serialize_json(
                value,
                include=self.response_model_include,
                exclude=self.response_model_exclude,
                by_alias=self.response_model_by_alias,
                exclude_unset=self.response_model_exclude_unset,
                exclude_defaults=self.response_model_exclude_defaults,
                exclude_none=self.response_model_exclude_none,
            )
        response = Response(content, status_code=status_code, media_type="application/json")
        response.headers.raw.extend(sub_response.headers.raw)
        return response


class PrefixRouter(APIRouter):
    """An ``APIRouter`` that declines a path outside its prefix without trying its routes.

    FastAPI matches a request against every route of every included router in turn, so a
    request for a late router paid one regular-expression match (and FastAPI's scope
    bookkeeping) per route of all the routers before it: a bulk-assign, 36 of them, about
    5% of its CPU in-process (docs/benchmarks.md).
    """

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if self.prefix and not get_route_path(scope).startswith(self.prefix):
            return Match.NONE, {}
        return super().matches(scope)


def api_router(**kwargs: Any) -> APIRouter:
    """A :class:`PrefixRouter` of :class:`UnitOfWorkRoute`: what every API module uses."""
    return PrefixRouter(route_class=UnitOfWorkRoute, **kwargs)
