"""Helpers the order-flow API tests share: a small floor, stock, and clients of each role."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from flask import Flask
from sqlalchemy import select
from werkzeug.test import TestResponse

from tests.web.test_api_support import PREFIX, ApiClient, item_body
from wms.access import create_api_token
from wms.catalog import ensure_zone
from wms.db import Database, ledger
from wms.db.schema import Item, Location, User
from wms.model import Role, ZoneKind

# Zone A: two aisles of five pick faces, x 0 and 3 m, a bay every metre from the front.
PICK_FACES = [(f"A-{aisle}-{bay:02d}", aisle, x, bay) for aisle, x in (("01", 0.0), ("02", 3.0))
              for bay in range(1, 6)]  # fmt: skip
RESERVE = [f"R-01-{bay:02d}" for bay in range(1, 4)]
SKUS = ("MUG", "PLATE", "BOWL", "CUP", "SPOON")


@dataclass
class FlowClient(ApiClient):
    """The API client with PATCH too."""

    def patch(self, path: str, body: Any = None, **kwargs: Any) -> TestResponse:
        """PATCH ``body`` as JSON to ``path`` under the API prefix."""
        headers = self._headers(kwargs.pop("headers", None))
        return self.client.patch(PREFIX + path, json=body, headers=headers, **kwargs)

    def ok(self, method: str, path: str, body: Any = None, status: int = 200) -> Any:
        """Send a request, check its status, and return the JSON answer."""
        if method == "get":
            response = self.get(path)
        elif method == "patch":
            response = self.patch(path, body)
        else:
            response = self.post(path, body)
        assert response.status_code == status, (path, response.get_json())
        return response.get_json()


def client_for(app: Flask, database: Database, role: Role) -> FlowClient:
    """A client with an API token of the test user of ``role``."""
    with database.write() as session:
        user = session.scalar(select(User).where(User.username == role.value))
        assert user is not None
        token = create_api_token(session, user, f"tests-{role.value}")
    return FlowClient(app.test_client(), token)


def build_floor(integration: FlowClient, database: Database) -> None:
    """Pick faces in zone A, reserve in R, a pack station in S, and the items, via the API."""
    with database.write() as session:
        ensure_zone(session, "S", "Pack and ship", ZoneKind.SHIPPING)
    for walk, (code, aisle, x, bay) in enumerate(PICK_FACES, start=1):
        body = {
            "code": code,
            "zone": "A",
            "type": "pick_face",
            "aisle": aisle,
            "bay": str(bay),
            "walk_sequence": walk,
            "x": x,
            "y": float(bay),
        }
        integration.ok("post", "/locations", body, 201)
    for bay, code in enumerate(RESERVE, start=1):
        body = {"code": code, "zone": "R", "type": "reserve", "aisle": "R1", "y": float(bay)}
        integration.ok("post", "/locations", body, 201)
    integration.ok(
        "post", "/locations", {"code": "PACK-1", "zone": "S", "type": "pack_station"}, 201
    )
    for sku in SKUS:
        integration.ok("post", "/items", item_body(sku), 201)
    integration.ok("post", "/items", item_body("MILK", lot_tracked=True, expiry_tracked=True), 201)


def receive(
    database: Database,
    sku: str,
    location: str,
    quantity: int,
    *,
    lot: str = "",
    expiry: dt.date | None = None,
) -> None:
    """Book stock in at a location (a receipt in the ledger)."""
    with database.write() as session:
        item_id = session.scalar(select(Item.id).where(Item.sku == sku))
        location_id = session.scalar(select(Location.id).where(Location.code == location))
        assert item_id is not None and location_id is not None
        ledger.receive(
            session,
            item_id=item_id,
            location_id=location_id,
            quantity=quantity,
            lot=lot,
            expiry=expiry,
        )


def stock_at(api: FlowClient, sku: str) -> dict[str, tuple[int, int]]:
    """(on hand, reserved) of ``sku`` per location, read through GET /stock."""
    answer = api.ok("get", f"/stock?sku={sku}&page_size=500")
    return {row["location"]: (row["on_hand"], row["reserved"]) for row in answer["items"]}


def order(number: str, *lines: tuple[str, int], **extra: Any) -> dict[str, Any]:
    """A B2C order body."""
    return {
        "number": number,
        "kind": "b2c",
        "lines": [{"sku": sku, "quantity": quantity} for sku, quantity in lines],
        **extra,
    }
