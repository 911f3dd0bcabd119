"""Every API router, in the order they appear in the OpenAPI document."""

from fastapi import APIRouter


def api_routers() -> list[APIRouter]:
    from leadroute.lead_lists.router import router as lead_lists

    return [lead_lists]
