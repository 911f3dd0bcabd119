"""leadroute: self-hosted lead routing with an Instantly API v2 compatible HTTP API."""

__version__ = "0.1.0"
