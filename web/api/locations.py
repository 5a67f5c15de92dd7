"""Locations: pick faces, reserve slots, put-wall slots, pack stations and docks."""

from __future__ import annotations

from typing import Any

from flask import url_for
from marshmallow import Schema, fields, validate
from sqlalchemy import Select, select
from sqlalchemy.orm import contains_eager

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
from wms.catalog import NewLocation, create_location, location_by_code
from wms.db.schema import Location, Zone
from wms.model import LocationType, ZoneKind

blp = api_blueprint(
    "Locations",
    __name__,
    "/api/v1/locations",
    "Places that hold stock, in zones, with their walking sequence.",
)

_PART = validate.Length(max=8)


class LocationInSchema(Schema):
    """A location to create."""

    code = Text(required=True, validate=validate.Length(min=1, max=32))
    zone = Text(
        required=True,
        validate=validate.Length(min=1, max=16),
        metadata={"description": "Code of an existing zone (zones come from config.yaml)"},
    )
    type = fields.Enum(LocationType, by_value=True, required=True)
    barcode = Text(
        load_default=None,
        allow_none=True,
        validate=validate.Length(min=1, max=48),
        metadata={"description": "What the location's label scans as; defaults to the code"},
    )
    aisle = Text(load_default="", validate=_PART)
    bay = Text(load_default="", validate=_PART)
    level = Text(load_default="", validate=_PART)
    slot = Text(load_default="", validate=_PART)
    walk_sequence = fields.Integer(
        strict=True,
        load_default=0,
        validate=validate.Range(min=0, max=MAX_INT),
        metadata={"description": "Order in which a picker walks past the locations"},
    )
    x = fields.Float(load_default=0.0, metadata={"description": "Floor plan x, metres"})
    y = fields.Float(load_default=0.0, metadata={"description": "Floor plan y, metres"})


class LocationSchema(Schema):
    """A location as the API answers it."""

    code = fields.String(required=True)
    barcode = fields.String()
    zone = fields.String(required=True)
    zone_kind = fields.Enum(ZoneKind, by_value=True)
    type = fields.Enum(LocationType, by_value=True, required=True)
    aisle = fields.String()
    bay = fields.String()
    level = fields.String()
    slot = fields.String()
    walk_sequence = fields.Integer()
    x = fields.Float()
    y = fields.Float()
    active = fields.Boolean()


class LocationPageSchema(PageSchema):
    """One page of locations."""

    items = fields.List(fields.Nested(LocationSchema), required=True)


class LocationListArgs(PageArgs):
    """Filters of the location list."""

    zone = Text(metadata={"description": "Only locations in this zone (code)"})
    type = fields.Enum(LocationType, by_value=True, metadata={"description": "Only this type"})
    aisle = Text(metadata={"description": "Only locations in this aisle"})


def location_out(location: Location, zone: Zone) -> dict[str, Any]:
    """A location row as the API answers it."""
    return {
        "code": location.code,
        "barcode": location.barcode,
        "zone": zone.code,
        "zone_kind": zone.kind,
        "type": location.type,
        "aisle": location.aisle,
        "bay": location.bay,
        "level": location.level,
        "slot": location.slot,
        "walk_sequence": location.walk_sequence,
        "x": location.x,
        "y": location.y,
        "active": location.active,
    }


def _filtered(args: dict[str, Any]) -> Select[Location]:
    query = select(Location).join(Location.zone)
    if args.get("zone"):
        query = query.where(Zone.code == args["zone"])
    if args.get("type"):
        query = query.where(Location.type == args["type"])
    if args.get("aisle"):
        query = query.where(Location.aisle == args["aisle"])
    return query


@blp.route("", methods=["GET"])
@allow(blp, *READERS)
@blp.arguments(LocationListArgs, location="query")
@blp.response(200, LocationPageSchema)
def list_locations(args: dict[str, Any]) -> dict[str, Any]:
    """List locations in walking order, with filters and paging."""
    with get_db().read() as session:
        query = _filtered(args)
        total = count(session, query)
        rows = session.scalars(
            limit_page(
                query.options(contains_eager(Location.zone)).order_by(
                    Zone.code, Location.walk_sequence, Location.code
                ),
                args,
            )
        ).all()
        return {**page_info(args, total), "items": [location_out(r, r.zone) for r in rows]}


@blp.route("", methods=["POST"])
@allow(blp, *MASTER_DATA_WRITERS)
@reads_json(blp, 409)
@blp.arguments(LocationInSchema)
@blp.response(201, LocationSchema, headers={"Location": {"schema": {"type": "string"}}})
def create(body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Create a location in an existing zone; a code or barcode already in use is a 409."""
    new = NewLocation(**body)
    clash = clash_is_conflict(f"location {new.code} or its barcode already exists")
    with clash, get_db().write() as session:
        location = create_location(session, new)
        payload = location_out(location, session.get_one(Zone, location.zone_id))
    return payload, {"Location": url_for("Locations.get_location", code=new.code)}


@blp.route("/<path:code>", methods=["GET"])
@allow(blp, *READERS)
@blp.alt_response(404, response="NOT_FOUND")
@blp.response(200, LocationSchema)
def get_location(code: str) -> dict[str, Any]:
    """One location by its code or barcode."""
    with get_db().read() as session:
        location = location_by_code(session, code)
        return location_out(location, location.zone)
