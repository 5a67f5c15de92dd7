"""Read-only figures for the overview screen: what is on the floor right now."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from wms.db.schema import Item, Location, Order, Stock, Zone
from wms.model import OrderKind, OrderStatus


@dataclass(frozen=True, slots=True)
class ZoneFigures:
    """Locations and stock of one zone."""

    code: str
    name: str
    kind: str
    locations: int
    units_on_hand: int


@dataclass(frozen=True, slots=True)
class FloorSummary:
    """Counts for the overview screen."""

    orders_by_status: dict[OrderStatus, int]
    orders_by_kind: dict[OrderKind, int]
    items: int
    locations: int
    units_on_hand: int
    units_reserved: int
    zones: list[ZoneFigures]


def floor_summary(session: Session) -> FloorSummary:
    """Count orders by status and kind, and stock by zone."""
    by_status = {
        status: count
        for status, count in session.execute(
            select(Order.status, func.count()).group_by(Order.status)
        )
    }
    by_kind = {
        kind: count
        for kind, count in session.execute(select(Order.kind, func.count()).group_by(Order.kind))
    }
    on_hand, reserved = session.execute(
        select(
            func.coalesce(func.sum(Stock.on_hand), 0), func.coalesce(func.sum(Stock.reserved), 0)
        )
    ).one()
    location_counts = dict(
        session.execute(select(Location.zone_id, func.count()).group_by(Location.zone_id)).all()
    )
    stock_by_zone = dict(
        session.execute(
            select(Location.zone_id, func.sum(Stock.on_hand))
            .join(Location, Stock.location_id == Location.id)
            .group_by(Location.zone_id)
        ).all()
    )
    zones = [
        ZoneFigures(
            zone.code,
            zone.name,
            zone.kind.value,
            int(location_counts.get(zone.id, 0)),
            int(stock_by_zone.get(zone.id) or 0),
        )
        for zone in session.scalars(select(Zone).order_by(Zone.code))
    ]
    return FloorSummary(
        orders_by_status=by_status,
        orders_by_kind=by_kind,
        items=int(session.scalar(select(func.count()).select_from(Item)) or 0),
        locations=sum(z.locations for z in zones),
        units_on_hand=int(on_hand),
        units_reserved=int(reserved),
        zones=zones,
    )
