"""The router every API module builds its endpoints on: a request's unit of work commits in
the thread that did the work.

FastAPI runs a plain ``def`` endpoint in a worker thread and a generator dependency's
cleanup in another hop through the event loop. If the session dependency committed there,
an SQLite writer would hold the database's one write lock from its first statement, across
the return to the event loop and the wait for the next free worker thread, until that
commit: under load every write request would queue behind that slack. So a sync endpoint
that takes a ``Session`` commits it itself, right after returning, in the same thread; the
session dependency (:func:`leadroute.db.session.get_session`) then only closes it, or rolls
it back if the endpoint raised. A commit still happens before the response is sent.
"""

import functools
import inspect
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session
from starlette._utils import get_route_path
from starlette.routing import Match
from starlette.types import Scope


def commit_on_return(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """``endpoint``, committing every ``Session`` it was given once it returns."""

    @functools.wraps(endpoint)
    def run(*args: Any, **kwargs: Any) -> Any:
        result = endpoint(*args, **kwargs)
        for value in (*args, *kwargs.values()):
            if isinstance(value, Session):
                value.commit()
        return result

    return run


class UnitOfWorkRoute(APIRoute):
    """An ``APIRoute`` whose sync endpoint commits its session in its own thread."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        if not inspect.iscoroutinefunction(endpoint):
            endpoint = commit_on_return(endpoint)
        super().__init__(path, endpoint, **kwargs)


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
