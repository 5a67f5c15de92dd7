"""Use cases for the site's master data: zones, locations, items and their GTINs."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from labels.gs1 import is_valid_gtin, normalise_gtin
from wms.db.schema import Item, ItemGtin, Location, Zone
from wms.errors import Conflict, InvalidInput, NotFound
from wms.model import LocationType, ZoneKind


@dataclass(frozen=True, slots=True)
class NewGtin:
    """A GTIN for an item: pack quantity 1 for the unit, more for a case or pallet."""

    gtin: str
    pack_quantity: int = 1


@dataclass(frozen=True, slots=True)
class NewItem:
    """What is needed to create an item."""

    sku: str
    name: str
    description: str = ""
    gtins: tuple[NewGtin, ...] = ()
    length_mm: int = 0
    width_mm: int = 0
    height_mm: int = 0
    weight_g: int = 0
    lot_tracked: bool = False
    expiry_tracked: bool = False


@dataclass(frozen=True, slots=True)
class NewLocation:
    """What is needed to create a location."""

    code: str
    zone: str
    type: LocationType
    barcode: str | None = None
    aisle: str = ""
    bay: str = ""
    level: str = ""
    slot: str = ""
    walk_sequence: int = 0
    x: float = 0.0
    y: float = 0.0


def ensure_zone(session: Session, code: str, name: str, kind: ZoneKind) -> Zone:
    """Return the zone with ``code``, creating or updating it to match."""
    zone = session.scalar(select(Zone).where(Zone.code == code))
    if zone is None:
        zone = Zone(code=code, name=name, kind=kind)
        session.add(zone)
    else:
        zone.name, zone.kind = name, kind
    session.flush()
    return zone


def zone_by_code(session: Session, code: str) -> Zone:
    """The zone with ``code`` or :class:`NotFound`."""
    zone = session.scalar(select(Zone).where(Zone.code == code))
    if zone is None:
        raise NotFound(f"zone {code!r} does not exist", zone=code)
    return zone


def _check_item(new: NewItem) -> None:
    if not new.sku.strip():
        raise InvalidInput("an item needs a SKU", field="sku")
    if not new.name.strip():
        raise InvalidInput(f"item {new.sku}: a name is required", field="name")
    for name in ("length_mm", "width_mm", "height_mm", "weight_g"):
        if getattr(new, name) < 0:
            raise InvalidInput(f"item {new.sku}: {name} cannot be negative", field=name)
    seen: set[str] = set()
    for entry in new.gtins:
        if not is_valid_gtin(entry.gtin):
            raise InvalidInput(
                f"item {new.sku}: {entry.gtin!r} is not a valid GTIN "
                "(8, 12, 13 or 14 digits with a correct check digit)",
                field="gtins",
                value=entry.gtin,
            )
        if entry.pack_quantity < 1:
            raise InvalidInput(
                f"item {new.sku}: pack quantity of GTIN {entry.gtin} must be at least 1",
                field="gtins",
            )
        if normalise_gtin(entry.gtin) in seen:
            raise InvalidInput(f"item {new.sku}: GTIN {entry.gtin} is listed twice")
        seen.add(normalise_gtin(entry.gtin))


def create_item(session: Session, new: NewItem) -> Item:
    """Create an item with its GTINs; a SKU or GTIN already in use is a :class:`Conflict`."""
    _check_item(new)
    if session.scalar(select(Item.id).where(Item.sku == new.sku)) is not None:
        raise Conflict(f"an item with SKU {new.sku} already exists", sku=new.sku)
    gtins = [normalise_gtin(g.gtin) for g in new.gtins]
    if gtins:
        taken = session.execute(
            select(ItemGtin.gtin, Item.sku).join(Item).where(ItemGtin.gtin.in_(gtins))
        ).first()
        if taken is not None:
            raise Conflict(
                f"GTIN {taken.gtin} already belongs to item {taken.sku}", gtin=taken.gtin
            )
    item = Item(
        sku=new.sku,
        name=new.name,
        description=new.description,
        length_mm=new.length_mm,
        width_mm=new.width_mm,
        height_mm=new.height_mm,
        weight_g=new.weight_g,
        lot_tracked=new.lot_tracked,
        expiry_tracked=new.expiry_tracked,
        gtins=[
            ItemGtin(gtin=normalise_gtin(g.gtin), pack_quantity=g.pack_quantity) for g in new.gtins
        ],
    )
    session.add(item)
    session.flush()
    return item


def create_location(
    session: Session, new: NewLocation, zones: dict[str, Zone] | None = None
) -> Location:
    """Create a location in an existing zone; its barcode defaults to its code."""
    if not new.code.strip():
        raise InvalidInput("a location needs a code", field="code")
    if new.walk_sequence < 0:
        raise InvalidInput(f"location {new.code}: walk sequence cannot be negative")
    zone = zones.get(new.zone) if zones else None
    if zone is None:
        zone = session.scalar(select(Zone).where(Zone.code == new.zone))
    if zone is None:
        # A zone named in a new location is part of the request, so this is bad input.
        known = sorted(session.scalars(select(Zone.code)))
        raise InvalidInput(
            f"zone {new.zone!r} does not exist; use one of: {', '.join(known) or '(none)'}",
            field="zone",
            value=new.zone,
            known_zones=known,
        )
    barcode = new.barcode or new.code
    clash = session.scalar(
        select(Location.code).where((Location.code == new.code) | (Location.barcode == barcode))
    )
    if clash is not None:
        raise Conflict(f"location {clash} already uses code or barcode {new.code}/{barcode}")
    location = Location(
        code=new.code,
        barcode=barcode,
        zone_id=zone.id,
        type=new.type,
        aisle=new.aisle,
        bay=new.bay,
        level=new.level,
        slot=new.slot,
        walk_sequence=new.walk_sequence,
        x=new.x,
        y=new.y,
    )
    session.add(location)
    session.flush()
    return location


def item_by_sku(session: Session, sku: str) -> Item:
    """The item with ``sku`` or :class:`NotFound`."""
    item = session.scalar(select(Item).where(Item.sku == sku))
    if item is None:
        raise NotFound(f"no item has SKU {sku!r}", sku=sku)
    return item


def item_by_gtin(session: Session, gtin: str) -> tuple[Item, int]:
    """The item a GTIN belongs to, with the pack quantity that GTIN stands for."""
    row = session.execute(
        select(Item, ItemGtin.pack_quantity)
        .join(ItemGtin)
        .where(ItemGtin.gtin == normalise_gtin(gtin))
    ).first()
    if row is None:
        raise NotFound(f"no item has GTIN {gtin}", gtin=gtin)
    return row[0], int(row[1])


def location_by_code(session: Session, code: str) -> Location:
    """The location with ``code`` (or that barcode) or :class:`NotFound`."""
    location = session.scalar(
        select(Location).where((Location.code == code) | (Location.barcode == code))
    )
    if location is None:
        raise NotFound(f"location {code!r} does not exist", location=code)
    return location
