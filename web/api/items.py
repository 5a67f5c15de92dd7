"""Items: the catalogue of SKUs with their unit, case and pallet GTINs."""

from __future__ import annotations

from typing import Any

from flask import url_for
from marshmallow import Schema, fields, validate
from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload

from labels.gs1 import normalise_gtin
from web.api.common import (
    MASTER_DATA_WRITERS,
    MAX_INT,
    READERS,
    PageArgs,
    PageSchema,
    Text,
    allow,
    api_blueprint,
    clash_is_conflict,
    count,
    limit_page,
    page_info,
    reads_json,
)
from web.extensions import get_db
from wms.catalog import NewGtin, NewItem, create_item, item_by_sku
from wms.db.schema import Item, ItemGtin

blp = api_blueprint(
    "Items", __name__, "/api/v1/items", "The catalogue: SKUs, their GTINs and tracking rules."
)


def _size(description: str) -> fields.Integer:
    return fields.Integer(
        strict=True,
        load_default=0,
        validate=validate.Range(min=0, max=MAX_INT),
        metadata={"description": description},
    )


class GtinSchema(Schema):
    """A barcode of an item and how many units it stands for."""

    gtin = Text(
        required=True,
        metadata={
            "description": "GTIN-8, -12, -13 or -14 with a correct check digit; "
            "answered as 14 digits",
            "example": "05412345000013",
        },
    )
    pack_quantity = fields.Integer(
        strict=True,
        load_default=1,
        validate=validate.Range(min=1, max=MAX_INT),
        metadata={"description": "Units this GTIN stands for: 1 for the unit, 12 for a case..."},
    )


class ItemInSchema(Schema):
    """An item to create."""

    sku = Text(required=True, validate=validate.Length(min=1, max=40))
    name = Text(required=True, validate=validate.Length(min=1, max=120))
    description = Text(load_default="", validate=validate.Length(max=4000))
    gtins = fields.List(
        fields.Nested(GtinSchema),
        load_default=list,
        metadata={"description": "Unit GTIN (pack_quantity 1) and case/pallet GTINs"},
    )
    length_mm = _size("Length in millimetres")
    width_mm = _size("Width in millimetres")
    height_mm = _size("Height in millimetres")
    weight_g = _size("Weight in grams")
    lot_tracked = fields.Boolean(load_default=False)
    expiry_tracked = fields.Boolean(load_default=False)


class ItemSchema(Schema):
    """An item as the API answers it."""

    sku = fields.String(required=True)
    name = fields.String(required=True)
    description = fields.String()
    gtins = fields.List(fields.Nested(GtinSchema))
    length_mm = fields.Integer()
    width_mm = fields.Integer()
    height_mm = fields.Integer()
    weight_g = fields.Integer()
    lot_tracked = fields.Boolean()
    expiry_tracked = fields.Boolean()
    active = fields.Boolean()


class ItemPageSchema(PageSchema):
    """One page of items."""

    items = fields.List(fields.Nested(ItemSchema), required=True)


class ItemListArgs(PageArgs):
    """Filters of the item list."""

    sku_prefix = Text(metadata={"description": "Only SKUs that start with this text"})
    gtin = Text(metadata={"description": "Only the item with this GTIN (any length form)"})
    lot_tracked = fields.Boolean(metadata={"description": "Only lot-tracked items, or only not"})


def item_out(item: Item) -> dict[str, Any]:
    """An item row as the API answers it."""
    return {
        "sku": item.sku,
        "name": item.name,
        "description": item.description,
        "gtins": [
            {"gtin": g.gtin, "pack_quantity": g.pack_quantity}
            for g in sorted(item.gtins, key=lambda g: (g.pack_quantity, g.gtin))
        ],
        "length_mm": item.length_mm,
        "width_mm": item.width_mm,
        "height_mm": item.height_mm,
        "weight_g": item.weight_g,
        "lot_tracked": item.lot_tracked,
        "expiry_tracked": item.expiry_tracked,
        "active": item.active,
    }


def _filtered(args: dict[str, Any]) -> Select[Item]:
    query = select(Item)
    if args.get("sku_prefix"):
        query = query.where(Item.sku.startswith(args["sku_prefix"], autoescape=True))
    if args.get("gtin"):
        query = query.where(
            Item.id.in_(
                select(ItemGtin.item_id).where(ItemGtin.gtin == normalise_gtin(args["gtin"]))
            )
        )
    if "lot_tracked" in args:
        query = query.where(Item.lot_tracked.is_(args["lot_tracked"]))
    return query


@blp.route("", methods=["GET"])
@allow(blp, *READERS)
@blp.arguments(ItemListArgs, location="query")
@blp.response(200, ItemPageSchema)
def list_items(args: dict[str, Any]) -> dict[str, Any]:
    """List items, by SKU, with filters and paging."""
    with get_db().read() as session:
        query = _filtered(args)
        total = count(session, query)
        items = session.scalars(
            limit_page(query.order_by(Item.sku), args).options(selectinload(Item.gtins))
        ).all()
        return {**page_info(args, total), "items": [item_out(i) for i in items]}


@blp.route("", methods=["POST"])
@allow(blp, *MASTER_DATA_WRITERS)
@reads_json(blp, 409)
@blp.arguments(ItemInSchema)
@blp.response(201, ItemSchema, headers={"Location": {"schema": {"type": "string"}}})
def create(body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Create an item with its GTINs; a SKU or GTIN already in use is a 409."""
    new = NewItem(
        sku=body["sku"],
        name=body["name"],
        description=body["description"],
        gtins=tuple(NewGtin(g["gtin"], g["pack_quantity"]) for g in body["gtins"]),
        length_mm=body["length_mm"],
        width_mm=body["width_mm"],
        height_mm=body["height_mm"],
        weight_g=body["weight_g"],
        lot_tracked=body["lot_tracked"],
        expiry_tracked=body["expiry_tracked"],
    )
    clash = clash_is_conflict(f"item {new.sku} or one of its GTINs already exists")
    with clash, get_db().write() as session:
        payload = item_out(create_item(session, new))
    return payload, {"Location": url_for("Items.get_item", sku=new.sku)}


@blp.route("/<path:sku>", methods=["GET"])
@allow(blp, *READERS)
@blp.alt_response(404, response="NOT_FOUND")
@blp.response(200, ItemSchema)
def get_item(sku: str) -> dict[str, Any]:
    """One item by its SKU."""
    with get_db().read() as session:
        return item_out(item_by_sku(session, sku))
