"""The versioned REST API for integrators, with its OpenAPI description."""

from __future__ import annotations

from flask import Flask

API_PREFIX = "/api/v1"


def init_api(app: Flask) -> None:
    """Register the API blueprints on ``app``."""
