"""Helpers the API tests share: a client that sends the integration's bearer token."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

PREFIX = "/api/v1"


@dataclass
class ApiClient:
    """The Flask test client with ``Authorization: Bearer <token>`` on every request."""

    client: FlaskClient
    token: str

    def _headers(self, extra: dict[str, str] | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", **(extra or {})}

    def get(self, path: str, **kwargs: Any) -> TestResponse:
        """GET ``path`` under the API prefix."""
        headers = self._headers(kwargs.pop("headers", None))
        return self.client.get(PREFIX + path, headers=headers, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> TestResponse:
        """POST ``body`` as JSON (or raw ``data=``) to ``path`` under the API prefix."""
        headers = self._headers(kwargs.pop("headers", None))
        if "data" in kwargs:
            return self.client.post(PREFIX + path, headers=headers, **kwargs)
        return self.client.post(PREFIX + path, json=body, headers=headers, **kwargs)


def item_body(sku: str, **extra: Any) -> dict[str, Any]:
    """A valid item to create."""
    return {"sku": sku, "name": f"Item {sku}", **extra}


def order_body(number: str, *lines: tuple[str, int], **extra: Any) -> dict[str, Any]:
    """A valid B2C order to create."""
    return {
        "number": number,
        "kind": "b2c",
        "lines": [{"sku": sku, "quantity": quantity} for sku, quantity in lines],
        **extra,
    }
