"""Shipping: parcels loaded at a dock door by scanning their labels, then shipped.

A shipment is one carrier's parcels at one dock door; the first parcel loaded at a door for a
carrier opens it. Loading checks the scanned label (SSCC or tracking number) against closed
parcels and the order's dock, if it has one. Shipping a shipment needs every closed parcel of
each of its orders loaded on it (a truck does not leave with half an order); it moves the
stock out of the building in the ledger (kind ``ship``), marks parcels and orders shipped and
records the tracking numbers in the order's history.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from wms.db import ledger
from wms.db.schema import Location, Movement, Order, Parcel, ParcelContent, Shipment
from wms.errors import NotFound
from wms.ledger import MovementRequest
from wms.model import LocationType, MovementKind, OrderStatus, ParcelStatus, ShipmentStatus
from wms.orders import set_status
from wms.packing import PackRefusal
from wms.print_jobs import utc_iso
from wms.scanning import ScanError, parse_scan


def _dock(session: Session, dock: str) -> Location:
    location = session.scalar(
        select(Location).where(Location.code == dock, Location.type == LocationType.DOCK)
    )
    if location is None:
        raise PackRefusal("unknown_dock", {"dock": dock})
    return location


def _parcel_of_scan(session: Session, raw: str) -> tuple[Parcel, str]:
    try:
        scan = parse_scan(raw)
    except ScanError as error:
        raise PackRefusal("unreadable", {"detail": str(error)}) from error
    label = scan.sscc or scan.value
    query = select(Parcel).with_for_update()
    parcel = session.scalar(
        query.where(Parcel.sscc == scan.sscc)
        if scan.sscc
        else query.where(Parcel.tracking_number == label)
    )
    if parcel is None:
        raise PackRefusal("unknown_parcel", {"scanned": label})
    return parcel, label


def load_parcel(
    session: Session,
    dock: str,
    raw: str,
    *,
    user_id: int | None = None,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """Put the scanned parcel on the open shipment of its carrier at ``dock``."""
    now = now or dt.datetime.now(dt.UTC)
    door = _dock(session, dock)
    parcel, label = _parcel_of_scan(session, raw)
    order = session.get_one(Order, parcel.order_id)
    if parcel.status is ParcelStatus.OPEN:
        raise PackRefusal("parcel_not_closed", {"number": parcel.number, "order": order.number})
    if parcel.status is ParcelStatus.SHIPPED:
        raise PackRefusal("already_shipped", {"scanned": label})
    if parcel.status is ParcelStatus.LOADED:
        loaded_at = session.get_one(Shipment, parcel.shipment_id).dock if parcel.shipment_id else ""
        raise PackRefusal("already_loaded", {"scanned": label, "dock": loaded_at})
    if order.dock and order.dock != door.code:
        raise PackRefusal(
            "wrong_dock", {"order": order.number, "expected": order.dock, "dock": door.code}
        )
    shipment = session.scalar(
        select(Shipment).where(
            Shipment.status == ShipmentStatus.OPEN,
            Shipment.carrier == order.carrier,
            Shipment.dock == door.code,
        )
    )
    if shipment is None:
        shipment = Shipment(carrier=order.carrier, dock=door.code, status=ShipmentStatus.OPEN)
        session.add(shipment)
        session.flush()
    parcel.status = ParcelStatus.LOADED
    parcel.shipment_id = shipment.id
    parcel.loaded_at, parcel.loaded_by = now, user_id
    session.flush()
    waiting = session.scalars(
        select(Parcel.number).where(
            Parcel.order_id == order.id, Parcel.status == ParcelStatus.CLOSED
        )
    ).all()
    return {
        "parcel": parcel_view(parcel),
        "order": order.number,
        "shipment": shipment_view(session, shipment),
        "order_parcels_to_load": list(waiting),
    }


def ship(
    session: Session,
    shipment_id: int,
    *,
    user_id: int | None = None,
    now: dt.datetime | None = None,
) -> None:
    """The truck leaves: stock out of the building, parcels and orders shipped."""
    now = now or dt.datetime.now(dt.UTC)
    shipment = session.get(Shipment, shipment_id, with_for_update=True)
    if shipment is None:
        raise NotFound(f"shipment {shipment_id} does not exist", shipment_id=shipment_id)
    if shipment.status is not ShipmentStatus.OPEN:
        raise PackRefusal("shipment_shipped", {"shipment": shipment.id})
    parcels = session.scalars(select(Parcel).where(Parcel.shipment_id == shipment.id)).all()
    if not parcels:
        raise PackRefusal("shipment_empty", {"shipment": shipment.id})
    order_ids = sorted({p.order_id for p in parcels})
    left_behind = session.execute(
        select(Order.number, Parcel.number)
        .join(Order, Order.id == Parcel.order_id)
        .where(
            Parcel.order_id.in_(order_ids),
            Parcel.status.in_((ParcelStatus.OPEN, ParcelStatus.CLOSED)),
        )
        .order_by(Order.number, Parcel.number)
    ).all()
    if left_behind:
        listing = ", ".join(f"{number} #{parcel}" for number, parcel in left_behind)
        raise PackRefusal("parcels_not_loaded", {"parcels": listing})
    for order_id in order_ids:
        order = session.get_one(Order, order_id, with_for_update=True)
        _move_out(session, order, user_id)
        tracking = sorted(p.tracking_number or "" for p in parcels if p.order_id == order_id)
        set_status(
            session,
            order,
            OrderStatus.SHIPPED,
            f"{shipment.carrier} from {shipment.dock}: {', '.join(tracking)}"[:200],
        )
    for parcel in parcels:
        parcel.status = ParcelStatus.SHIPPED
    shipment.status = ShipmentStatus.SHIPPED
    shipment.shipped_at, shipment.shipped_by = now, user_id
    session.flush()


def _move_out(session: Session, order: Order, user_id: int | None) -> None:
    """Ship every packed unit of the order from where packing put it."""
    packed: dict[tuple[int, int, str], int] = defaultdict(int)
    for content in session.scalars(
        select(ParcelContent).join(Parcel).where(Parcel.order_id == order.id)
    ):
        packed[(content.order_line_id, content.item_id, content.lot)] += content.quantity
    for (line_id, item_id, lot), quantity in sorted(packed.items()):
        source = session.scalar(
            select(Movement.to_location_id)
            .where(
                Movement.order_line_id == line_id,
                Movement.lot == lot,
                Movement.kind.in_((MovementKind.PACK, MovementKind.PICK)),
            )
            .order_by(Movement.id.desc())
            .limit(1)
        )
        ledger.post_movement(
            session,
            MovementRequest(MovementKind.SHIP, item_id, quantity, from_location_id=source, lot=lot),
            order_id=order.id,
            order_line_id=line_id,
            user_id=user_id,
        )


def parcel_view(parcel: Parcel) -> dict[str, Any]:
    """A parcel for the API."""
    return {
        "id": parcel.id,
        "number": parcel.number,
        "status": parcel.status.value,
        "carton": parcel.carton,
        "weight_g": parcel.weight_g,
        "sscc": parcel.sscc,
        "tracking_number": parcel.tracking_number,
        "shipment_id": parcel.shipment_id,
        "closed_at": utc_iso(parcel.closed_at),
        "loaded_at": utc_iso(parcel.loaded_at),
    }


def shipment_view(session: Session, shipment: Shipment) -> dict[str, Any]:
    """A shipment with its parcels and their orders, for the API."""
    rows = session.execute(
        select(Parcel, Order.number)
        .join(Order, Order.id == Parcel.order_id)
        .where(Parcel.shipment_id == shipment.id)
        .order_by(Order.number, Parcel.number)
    ).all()
    return {
        "id": shipment.id,
        "carrier": shipment.carrier,
        "dock": shipment.dock,
        "status": shipment.status.value,
        "created_at": utc_iso(shipment.created_at),
        "shipped_at": utc_iso(shipment.shipped_at),
        "parcels": [{**parcel_view(parcel), "order": number} for parcel, number in rows],
    }
