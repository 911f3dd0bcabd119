"""Pieces of the wire format shared by every domain's schemas."""

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, PlainSerializer

from leadroute.ids import format_timestamp

Timestamp = Annotated[
    datetime,
    PlainSerializer(format_timestamp, return_type=str, when_used="always"),
]


class WireModel(BaseModel):
    """A response body. Built from ORM rows by attribute."""

    model_config = ConfigDict(from_attributes=True)


class RequestModel(BaseModel):
    """A request body. Unknown fields are ignored, as Instantly does."""

    model_config = ConfigDict(extra="ignore")
