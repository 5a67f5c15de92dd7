"""Stock: on-hand, reserved and available quantity per location, item and lot."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields
from sqlalchemy import Select, func, select

from web.api.common import (
    READERS,
    PageArgs,
    PageSchema,
    Text,
    allow,
    api_blueprint,
    limit_page,
    page_info,
)
from web.extensions import get_db
from wms.db.schema import Item, Location, Stock, Zone

blp = api_blueprint(
    "Stock",
    __name__,
    "/api/v1/stock",
    "What is on hand, reserved for orders and free to allocate, at each location.",
)


class StockRowSchema(Schema):
    """The stock of one item and lot at one location."""

    location = fields.String(required=True, metadata={"description": "Location code"})
    zone = fields.String(required=True, metadata={"description": "Zone code"})
    sku = fields.String(required=True)
    item_name = fields.String()
    lot = fields.String(allow_none=True, metadata={"description": "null if not lot-tracked"})
    expiry = fields.Date(allow_none=True, metadata={"description": "ISO 8601 date"})
    on_hand = fields.Integer(required=True)
    reserved = fields.Integer(required=True, metadata={"description": "Held for orders"})
    available = fields.Integer(required=True, metadata={"description": "on_hand - reserved"})


class StockTotalsSchema(Schema):
    """Sums over every row that matches the filters (not only this page)."""

    on_hand = fields.Integer(required=True)
    reserved = fields.Integer(required=True)
    available = fields.Integer(required=True)


class StockPageSchema(PageSchema):
    """One page of stock rows, with the sums over all matching rows."""

    items = fields.List(fields.Nested(StockRowSchema), required=True)
    totals = fields.Nested(StockTotalsSchema, required=True)


class StockListArgs(PageArgs):
    """Filters of the stock list."""

    sku = Text(metadata={"description": "Only this item"})
    location = Text(metadata={"description": "Only this location (code)"})
    zone = Text(metadata={"description": "Only locations in this zone (code)"})
    lot = Text(metadata={"description": "Only this lot"})
    include_empty = fields.Boolean(
        load_default=False,
        metadata={"description": "Also rows whose on-hand is 0 (left by picks and moves)"},
    )


def _filtered(args: dict[str, Any]) -> Select:  # type: ignore[type-arg]
    query = (
        select(
            Stock.lot,
            Stock.expiry,
            Stock.on_hand,
            Stock.reserved,
            Location.code.label("location"),
            Zone.code.label("zone"),
            Item.sku,
            Item.name.label("item_name"),
        )
        .join(Location, Stock.location_id == Location.id)
        .join(Zone, Location.zone_id == Zone.id)
        .join(Item, Stock.item_id == Item.id)
    )
    if not args["include_empty"]:
        query = query.where(Stock.on_hand > 0)
    if args.get("sku"):
        query = query.where(Item.sku == args["sku"])
    if args.get("location"):
        query = query.where(Location.code == args["location"])
    if args.get("zone"):
        query = query.where(Zone.code == args["zone"])
    if "lot" in args:
        query = query.where(Stock.lot == args["lot"])
    return query


@blp.route("", methods=["GET"])
@allow(blp, *READERS)
@blp.arguments(StockListArgs, location="query")
@blp.response(200, StockPageSchema)
def list_stock(args: dict[str, Any]) -> dict[str, Any]:
    """List stock by SKU, location and lot, with the sums over every matching row."""
    with get_db().read() as session:
        query = _filtered(args)
        matching = query.subquery()
        total, on_hand, reserved = session.execute(
            select(
                func.count(),
                func.coalesce(func.sum(matching.c.on_hand), 0),
                func.coalesce(func.sum(matching.c.reserved), 0),
            )
        ).one()
        rows = session.execute(
            limit_page(query.order_by(Item.sku, Location.code, Stock.lot, Stock.id), args)
        ).all()
    return {
        **page_info(args, int(total)),
        "totals": {
            "on_hand": int(on_hand),
            "reserved": int(reserved),
            "available": int(on_hand) - int(reserved),
        },
        "items": [
            {
                "location": row.location,
                "zone": row.zone,
                "sku": row.sku,
                "item_name": row.item_name,
                "lot": row.lot or None,
                "expiry": row.expiry,
                "on_hand": row.on_hand,
                "reserved": row.reserved,
                "available": row.on_hand - row.reserved,
            }
            for row in rows
        ],
    }
