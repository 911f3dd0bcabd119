"""Scopes are `<resource>:<action>`, widened by `<resource>:all`, `all:<action>`, `all:all`."""

from collections.abc import Iterable
from typing import Literal

Action = Literal["read", "create", "update", "delete"]


def scopes_granting(resource: str, action: Action) -> frozenset[str]:
    """Every scope that grants ``action`` on ``resource``."""
    return frozenset({f"{resource}:{action}", f"{resource}:all", f"all:{action}", "all:all"})


def grants(scopes: Iterable[str], resource: str, action: Action) -> bool:
    return not scopes_granting(resource, action).isdisjoint(scopes)
