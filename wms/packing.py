"""Packing: an order's picked units verified by scan into cartons, closed, labelled, queued.

The packer opens an order by scanning its number, its tote or its cart slot (``CART/3``). The
screen lists what must go in the parcel: every picked unit, per order line and lot. Each unit
(or case, by its case GTIN) is scanned into the open parcel; a unit the order does not hold, one
too many, the wrong lot or a serial already packed is refused with a reason code the web layer
translates. A parcel is closed with its carton and weight; an order may be split over several
parcels. Closing the last parcel of an order moves every packed unit in the ledger (kind
``pack``, from where it was picked to the outbound staging lane), sets the order packed,
gives B2B parcels their SSCC, renders every parcel's label and stores the print jobs, all in the
caller's one transaction. Labels wait for the last parcel because "parcel x of y" needs y.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from labels.documents import (
    Address,
    Carton,
    LabelDocument,
    LogisticLabel,
    PackingList,
    PackingListLine,
    ShippingLabel,
)
from labels.errors import LabelError
from labels.gs1 import normalise_gtin
from labels.sscc import SsccScheme
from labels.templates import TemplateRegistry
from labels.zpl import label_drawing
from wms import print_jobs
from wms.db import ledger
from wms.db.schema import (
    BatchOrder,
    Item,
    ItemGtin,
    Location,
    Movement,
    Order,
    Parcel,
    ParcelContent,
    PickBatch,
)
from wms.errors import Conflict, InvalidInput, NotFound, WmsError
from wms.ledger import MovementRequest
from wms.model import LocationType, MovementKind, OrderKind, OrderStatus, ParcelStatus
from wms.orders import set_status
from wms.scanning import ScanError, parse_scan
from wms.sscc_sequence import allocate_ssccs

# --- cartons ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CartonSpec:
    """A carton's inside size in millimetres, the weight it may carry and its own weight."""

    code: str
    length_mm: int
    width_mm: int
    height_mm: int
    max_weight_g: int
    tare_g: int = 0
    name: str = ""

    @property
    def volume_mm3(self) -> int:
        """Inside volume."""
        return self.length_mm * self.width_mm * self.height_mm


@dataclass(frozen=True)
class UnitSize:
    """Units of one item: their size, weight and how many."""

    length_mm: int
    width_mm: int
    height_mm: int
    weight_g: int
    quantity: int

    @property
    def volume_mm3(self) -> int:
        """Volume of all these units."""
        return self.length_mm * self.width_mm * self.height_mm * self.quantity


def _fits_one(carton: CartonSpec, unit: UnitSize) -> bool:
    sides = sorted((unit.length_mm, unit.width_mm, unit.height_mm))
    room = sorted((carton.length_mm, carton.width_mm, carton.height_mm))
    return all(s <= r for s, r in zip(sides, room, strict=True))


def suggest_carton(cartons: Sequence[CartonSpec], units: Sequence[UnitSize]) -> CartonSpec | None:
    """The smallest carton (by volume) that holds the units by volume, size and weight.

    Volume is a necessary, not a sufficient, test (units do not pack without gaps); the packer
    sees the suggestion and may choose a bigger carton. Units without dimensions count as none.
    """
    volume = sum(unit.volume_mm3 for unit in units)
    weight = sum(unit.weight_g * unit.quantity for unit in units)
    for carton in sorted(cartons, key=lambda c: (c.volume_mm3, c.max_weight_g, c.code)):
        if (
            volume <= carton.volume_mm3
            and weight + carton.tare_g <= carton.max_weight_g
            and all(_fits_one(carton, unit) for unit in units)
        ):
            return carton
    return None


# --- what the packer sees ---------------------------------------------------------------------


@dataclass(frozen=True)
class PackLine:
    """One order line at the pack station: picked, packed so far, in the open parcel."""

    line_id: int
    line_no: int
    sku: str
    name: str
    gtin: str
    ordered: int
    picked: int
    packed: int
    in_parcel: int
    lot_tracked: bool
    lots: tuple[str, ...]

    @property
    def remaining(self) -> int:
        """Units still to scan into a parcel."""
        return self.picked - self.packed


@dataclass(frozen=True)
class ParcelView:
    """A parcel of the order: number, state, carton, weight, SSCC, tracking, contents."""

    id: int
    number: int
    status: str
    carton: str
    weight_g: int | None
    sscc: str | None
    tracking_number: str | None
    units: int
    contents: tuple[tuple[int, str, str, str, int], ...]  # id, sku, lot, serial, quantity


@dataclass(frozen=True)
class PackView:
    """Everything the pack screen shows for one order."""

    order_id: int
    number: str
    kind: str
    status: str
    ship_to: str
    carrier: str
    service: str
    dock: str | None
    lines: tuple[PackLine, ...]
    parcels: tuple[ParcelView, ...]
    suggested_carton: str | None
    estimated_weight_g: int

    @property
    def remaining(self) -> int:
        """Units picked and not yet in any parcel."""
        return sum(line.remaining for line in self.lines)

    @property
    def open_parcel(self) -> ParcelView | None:
        """The parcel being filled, if any."""
        return next((p for p in self.parcels if p.status == ParcelStatus.OPEN.value), None)

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return {
            "order_id": self.order_id,
            "number": self.number,
            "kind": self.kind,
            "status": self.status,
            "ship_to": self.ship_to,
            "carrier": self.carrier,
            "service": self.service,
            "dock": self.dock,
            "remaining": self.remaining,
            "suggested_carton": self.suggested_carton,
            "estimated_weight_g": self.estimated_weight_g,
            "lines": [
                {
                    "line_id": line.line_id,
                    "line_no": line.line_no,
                    "sku": line.sku,
                    "name": line.name,
                    "gtin": line.gtin,
                    "ordered": line.ordered,
                    "picked": line.picked,
                    "packed": line.packed,
                    "in_parcel": line.in_parcel,
                    "remaining": line.remaining,
                    "lot_tracked": line.lot_tracked,
                    "lots": list(line.lots),
                }
                for line in self.lines
            ],
            "parcels": [
                {
                    "id": p.id,
                    "number": p.number,
                    "status": p.status,
                    "carton": p.carton,
                    "weight_g": p.weight_g,
                    "sscc": p.sscc,
                    "tracking_number": p.tracking_number,
                    "units": p.units,
                    "contents": [
                        {"id": i, "sku": sku, "lot": lot, "serial": serial, "quantity": quantity}
                        for i, sku, lot, serial, quantity in p.contents
                    ],
                }
                for p in self.parcels
            ],
        }


def _order(session: Session, order_id: int, *, lock: bool = False) -> Order:
    order = session.get(Order, order_id, with_for_update=lock)
    if order is None:
        raise NotFound(f"order {order_id} does not exist", order_id=order_id)
    return order


def _picked_by_lot(session: Session, order_id: int) -> dict[tuple[int, str], int]:
    """Units picked for each (order line, lot), from the ledger."""
    rows = session.execute(
        select(Movement.order_line_id, Movement.lot, func.sum(Movement.quantity))
        .where(Movement.order_id == order_id, Movement.kind == MovementKind.PICK)
        .group_by(Movement.order_line_id, Movement.lot)
    ).all()
    return {(int(line), lot): int(total) for line, lot, total in rows if line is not None}


def _contents(session: Session, order_id: int) -> list[tuple[ParcelContent, Parcel]]:
    rows = session.execute(
        select(ParcelContent, Parcel)
        .join(Parcel, Parcel.id == ParcelContent.parcel_id)
        .where(Parcel.order_id == order_id)
        .order_by(ParcelContent.id)
    ).all()
    return [(content, parcel) for content, parcel in rows]


def _unit_gtins(session: Session, item_ids: Sequence[int]) -> dict[int, str]:
    rows = session.execute(
        select(ItemGtin.item_id, ItemGtin.gtin)
        .where(ItemGtin.item_id.in_(item_ids), ItemGtin.pack_quantity == 1)
        .order_by(ItemGtin.gtin)
    ).all()
    found: dict[int, str] = {}
    for item_id, gtin in rows:
        found.setdefault(item_id, gtin)
    return found


def pack_view(session: Session, order_id: int, cartons: Sequence[CartonSpec] = ()) -> PackView:
    """What must go into the order's parcels, what is in them, and the carton to use."""
    order = _order(session, order_id)
    picked = _picked_by_lot(session, order.id)
    packed: dict[int, int] = defaultdict(int)
    packed_lots: dict[tuple[int, str], int] = defaultdict(int)
    in_parcel: dict[int, int] = defaultdict(int)
    parcels: dict[int, Parcel] = {}
    parcel_contents: dict[int, list[tuple[int, str, str, str, int]]] = defaultdict(list)
    items = {line.id: line.item for line in order.lines}
    for content, parcel in _contents(session, order.id):
        packed[content.order_line_id] += content.quantity
        packed_lots[(content.order_line_id, content.lot)] += content.quantity
        if parcel.status is ParcelStatus.OPEN:
            in_parcel[content.order_line_id] += content.quantity
        item = items.get(content.order_line_id)
        parcel_contents[parcel.id].append(
            (content.id, item.sku if item else "?", content.lot, content.serial, content.quantity)
        )
    for parcel in session.scalars(
        select(Parcel).where(Parcel.order_id == order.id).order_by(Parcel.number)
    ):
        parcels[parcel.id] = parcel
    gtins = _unit_gtins(session, [line.item_id for line in order.lines])
    lines = []
    units: list[UnitSize] = []
    for line in order.lines:
        line_picked = sum(q for (line_id, _lot), q in picked.items() if line_id == line.id)
        lots = tuple(
            sorted(
                lot
                for (line_id, lot), q in picked.items()
                if line_id == line.id and lot and q > packed_lots[(line.id, lot)]
            )
        )
        pack_line = PackLine(
            line.id,
            line.line_no,
            line.item.sku,
            line.item.name,
            gtins.get(line.item_id, ""),
            line.quantity,
            line_picked,
            packed[line.id],
            in_parcel[line.id],
            line.item.lot_tracked,
            lots,
        )
        lines.append(pack_line)
        # The suggestion is for what this parcel will hold: what it has plus what is left.
        quantity = pack_line.remaining + in_parcel[line.id]
        if quantity > 0:
            item = line.item
            units.append(
                UnitSize(item.length_mm, item.width_mm, item.height_mm, item.weight_g, quantity)
            )
    suggestion = suggest_carton(cartons, units)
    return PackView(
        order.id,
        order.number,
        order.kind.value,
        order.status.value,
        order.ship_to_name or (order.customer.name if order.customer else ""),
        order.carrier,
        order.service,
        order.dock,
        tuple(lines),
        tuple(
            ParcelView(
                p.id,
                p.number,
                p.status.value,
                p.carton,
                p.weight_g,
                p.sscc,
                p.tracking_number,
                sum(q for *_rest, q in parcel_contents[p.id]),
                tuple(parcel_contents[p.id]),
            )
            for p in parcels.values()
        ),
        suggestion.code if suggestion else None,
        sum(u.weight_g * u.quantity for u in units) + (suggestion.tare_g if suggestion else 0),
    )


# --- opening an order -------------------------------------------------------------------------


# What each refusal means, in English for logs and the API; the screens translate by reason.
REFUSALS = {
    "unreadable": "The barcode could not be read",
    "unknown_order": "No order, tote or cart slot %(scanned)s",
    "already_packed": "Order %(order)s is already packed",
    "not_picked": "Order %(order)s is %(status)s, not picked: it cannot be packed yet",
    "not_an_item": "%(scanned)s is a parcel label, not an item",
    "unknown_barcode": "No item has the barcode %(scanned)s",
    "wrong_item": "%(sku)s is not in order %(order)s",
    "too_many": "One too many %(sku)s: %(remaining)s left to pack, this scan is %(quantity)s",
    "lot_needed": "%(sku)s is lot-tracked: scan the barcode that carries the lot",
    "wrong_lot": "Lot %(lot)s of %(sku)s was not picked for this order (picked: %(expected)s)",
    "serial_twice": "Serial %(serial)s of %(sku)s is already packed",
    "unknown_carton": "No carton %(carton)s (cartons: %(cartons)s)",
    "weight_needed": "Enter the parcel's weight",
    "too_heavy": "%(weight_g)s g is more than carton %(carton)s may carry (%(max)s g)",
    "parcel_empty": "The parcel is empty: scan its units first",
    "missing": "%(units)s unit(s) not packed: %(items)s",
    "label_error": "The label cannot be made: %(detail)s",
    "unknown_dock": "No dock door %(dock)s",
    "unknown_parcel": "No closed parcel has the label %(scanned)s",
    "parcel_not_closed": "Parcel %(number)s of order %(order)s is not closed yet",
    "already_loaded": "Parcel %(scanned)s is already loaded at %(dock)s",
    "already_shipped": "Parcel %(scanned)s has already left",
    "wrong_dock": "Order %(order)s leaves from dock %(expected)s, not %(dock)s",
    "shipment_shipped": "Shipment %(shipment)s has already left",
    "shipment_empty": "Shipment %(shipment)s has no parcel loaded",
    "parcels_not_loaded": "Not every parcel is loaded: %(parcels)s",
}


class PackRefusal(WmsError):
    """A scan or a close the packer must correct; ``reason`` is a code the screen translates."""

    code = "pack_refused"
    http_status = 422

    def __init__(self, reason: str, params: dict[str, Any] | None = None) -> None:
        self.reason = reason
        self.params = dict(params or {})
        try:
            text = REFUSALS[reason] % self.params
        except (KeyError, TypeError, ValueError):
            text = reason
        super().__init__(text, reason=reason, **self.params)


PACKABLE = (OrderStatus.PICKED,)


def find_order(session: Session, scan: str) -> Order:
    """The order a scan names: its number, its tote's barcode, or its cart slot ``CART/3``."""
    value = scan.strip()
    if not value:
        raise PackRefusal("unreadable")
    order = session.scalar(select(Order).where(Order.number == value))
    if order is None:
        order = session.scalar(
            select(Order)
            .join(BatchOrder, BatchOrder.order_id == Order.id)
            .where(BatchOrder.tote_barcode == value)
            .order_by(BatchOrder.batch_id.desc())
            .limit(1)
        )
    if order is None and "/" in value:
        cart, _, slot = value.rpartition("/")
        if slot.isdigit():
            order = session.scalar(
                select(Order)
                .join(BatchOrder, BatchOrder.order_id == Order.id)
                .join(PickBatch, PickBatch.id == BatchOrder.batch_id)
                .where(PickBatch.code == cart, BatchOrder.tote_position == int(slot))
            )
    if order is None:
        raise PackRefusal("unknown_order", {"scanned": value})
    _check_packable(order)
    return order


def _check_packable(order: Order) -> None:
    """Refuse an order that is not picked: already packed, or not picked yet."""
    if order.status in (OrderStatus.PACKED, OrderStatus.SHIPPED):
        raise PackRefusal("already_packed", {"order": order.number})
    if order.status not in PACKABLE:
        raise PackRefusal("not_picked", {"order": order.number, "status": order.status.value})


# --- verifying units --------------------------------------------------------------------------


@dataclass(frozen=True)
class UnitScanned:
    """A unit (or case) accepted into the open parcel."""

    parcel_id: int
    parcel_number: int
    sku: str
    quantity: int
    lot: str
    packed: int
    picked: int


def _open_parcel(session: Session, order: Order, station: str) -> Parcel:
    parcel = session.scalar(
        select(Parcel).where(Parcel.order_id == order.id, Parcel.status == ParcelStatus.OPEN)
    )
    if parcel is not None:
        return parcel
    number = session.scalar(
        select(func.coalesce(func.max(Parcel.number), 0)).where(Parcel.order_id == order.id)
    )
    parcel = Parcel(
        order_id=order.id,
        number=int(number or 0) + 1,
        status=ParcelStatus.OPEN,
        station=station,
        carton="",
    )
    session.add(parcel)
    session.flush()
    return parcel


def scan_unit(
    session: Session,
    order_id: int,
    raw: str,
    *,
    station: str = "",
    user_id: int | None = None,
) -> UnitScanned:
    """Verify one scanned unit or case against the order and put it in the open parcel."""
    del user_id  # kept in the signature: the scan log will record who packed it
    order = _order(session, order_id, lock=True)
    _check_packable(order)
    try:
        scan = parse_scan(raw)
    except ScanError as error:
        raise PackRefusal("unreadable", {"detail": str(error)}) from error
    if scan.sscc and not scan.gtin:
        raise PackRefusal("not_an_item", {"scanned": scan.value})
    per_unit = 1
    item: Item | None = None
    if scan.gtin:
        gtin_row = session.get(ItemGtin, normalise_gtin(scan.gtin))
        if gtin_row is None:
            raise PackRefusal("unknown_barcode", {"scanned": scan.gtin})
        item, per_unit = gtin_row.item, gtin_row.pack_quantity
    else:
        item = session.scalar(select(Item).where(Item.sku == scan.value))
        if item is None:
            raise PackRefusal("unknown_barcode", {"scanned": scan.value})
    view = pack_view(session, order.id)
    lines = [line for line in view.lines if line.sku == item.sku]
    if not lines:
        raise PackRefusal("wrong_item", {"sku": item.sku, "order": order.number})
    remaining = sum(line.remaining for line in lines)
    if per_unit > remaining:
        raise PackRefusal(
            "too_many", {"sku": item.sku, "quantity": per_unit, "remaining": remaining}
        )
    lot = ""
    if item.lot_tracked:
        if not scan.lot:
            raise PackRefusal("lot_needed", {"sku": item.sku})
        if not any(scan.lot in line.lots for line in lines):
            expected = ", ".join(sorted({lot for line in lines for lot in line.lots}))
            raise PackRefusal("wrong_lot", {"lot": scan.lot, "sku": item.sku, "expected": expected})
        lot = scan.lot
        lines = [line for line in lines if lot in line.lots]
    serial = scan.serial or ""
    if serial:
        if per_unit != 1:
            raise PackRefusal("too_many", {"sku": item.sku, "quantity": per_unit, "remaining": 1})
        twice = session.scalar(
            select(ParcelContent.id)
            .join(Parcel, Parcel.id == ParcelContent.parcel_id)
            .where(
                Parcel.order_id == order.id,
                ParcelContent.item_id == item.id,
                ParcelContent.serial == serial,
            )
        )
        if twice is not None:
            raise PackRefusal("serial_twice", {"serial": serial, "sku": item.sku})
    line = next(line for line in lines if line.remaining > 0)
    if per_unit > line.remaining:
        raise PackRefusal(
            "too_many", {"sku": item.sku, "quantity": per_unit, "remaining": line.remaining}
        )
    if lot:
        picked_lot = _picked_by_lot(session, order.id).get((line.line_id, lot), 0)
        packed_lot = session.scalar(
            select(func.coalesce(func.sum(ParcelContent.quantity), 0))
            .join(Parcel, Parcel.id == ParcelContent.parcel_id)
            .where(ParcelContent.order_line_id == line.line_id, ParcelContent.lot == lot)
        )
        left = picked_lot - int(packed_lot or 0)
        if per_unit > left:
            raise PackRefusal(
                "too_many", {"sku": item.sku, "quantity": per_unit, "remaining": left}
            )
    parcel = _open_parcel(session, order, station)
    existing = None
    if not serial:
        existing = session.scalar(
            select(ParcelContent).where(
                ParcelContent.parcel_id == parcel.id,
                ParcelContent.order_line_id == line.line_id,
                ParcelContent.lot == lot,
                ParcelContent.serial == "",
            )
        )
    if existing is not None:
        existing.quantity += per_unit
    else:
        session.add(
            ParcelContent(
                parcel_id=parcel.id,
                order_line_id=line.line_id,
                item_id=item.id,
                lot=lot,
                serial=serial,
                quantity=per_unit,
                scanned=scan.value[:100],
            )
        )
    session.flush()
    return UnitScanned(
        parcel.id, parcel.number, item.sku, per_unit, lot, line.packed + per_unit, line.picked
    )


def remove_from_parcel(session: Session, order_id: int, content_id: int) -> None:
    """Take a scanned line out of the open parcel again (a unit put in by mistake)."""
    content = session.get(ParcelContent, content_id)
    if content is None:
        raise NotFound(f"parcel content {content_id} does not exist", content_id=content_id)
    parcel = session.get_one(Parcel, content.parcel_id)
    if parcel.order_id != order_id or parcel.status is not ParcelStatus.OPEN:
        raise Conflict("only units of the open parcel can be taken out", content_id=content_id)
    session.delete(content)
    session.flush()


# --- closing ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PackContext:
    """What closing needs from the site: cartons, SSCC numbering, sender, printer, templates."""

    cartons: Sequence[CartonSpec]
    sscc_scheme: SsccScheme
    ship_from: Address
    printer: str | None = None
    registry: TemplateRegistry | None = None


@dataclass(frozen=True)
class CloseResult:
    """A closed parcel; when it was the last, the order is packed and its labels queued."""

    parcel_id: int
    parcel_number: int
    order_packed: bool
    remaining: int
    print_job_ids: tuple[int, ...] = ()
    printer: str | None = None


def _carton(context: PackContext, code: str) -> CartonSpec:
    carton = next((c for c in context.cartons if c.code == code), None)
    if carton is None:
        raise PackRefusal(
            "unknown_carton",
            {"carton": code, "cartons": ", ".join(c.code for c in context.cartons)},
        )
    return carton


def _staging_lane(session: Session) -> int:
    lane = session.scalar(
        select(Location.id)
        .where(Location.type == LocationType.STAGING, Location.active.is_(True))
        .order_by(Location.code)
        .limit(1)
    )
    if lane is None:
        raise InvalidInput("no staging lane exists to take packed parcels")
    return lane


def _picked_at(session: Session, line_id: int, lot: str) -> int:
    """Where the units of an order line were picked to (the pack station, usually)."""
    location = session.scalar(
        select(Movement.to_location_id)
        .where(
            Movement.order_line_id == line_id,
            Movement.kind == MovementKind.PICK,
            Movement.lot == lot,
        )
        .order_by(Movement.id.desc())
        .limit(1)
    )
    if location is None:
        raise Conflict(f"no pick of order line {line_id} lot {lot!r} is recorded", line=line_id)
    return int(location)


def close_parcel(
    session: Session,
    order_id: int,
    context: PackContext,
    *,
    carton: str,
    weight_g: int,
    split: bool = False,
    station: str = "",
    user_id: int | None = None,
    now: dt.datetime | None = None,
) -> CloseResult:
    """Close the open parcel; the last one packs the order, moves its stock, queues labels.

    Units still unpacked are refused as missing unless ``split`` says they go in another
    parcel.
    """
    now = now or dt.datetime.now(dt.UTC)
    order = _order(session, order_id, lock=True)
    _check_packable(order)
    spec = _carton(context, carton)
    if weight_g <= 0:
        raise PackRefusal("weight_needed")
    if weight_g > spec.max_weight_g:
        raise PackRefusal(
            "too_heavy", {"carton": spec.code, "weight_g": weight_g, "max": spec.max_weight_g}
        )
    parcel = session.scalar(
        select(Parcel).where(Parcel.order_id == order.id, Parcel.status == ParcelStatus.OPEN)
    )
    if parcel is None or not session.scalar(
        select(func.count()).select_from(ParcelContent).where(ParcelContent.parcel_id == parcel.id)
    ):
        raise PackRefusal("parcel_empty")
    missing = _unpacked(session, order)
    if missing and not split:
        raise PackRefusal(
            "missing",
            {
                "units": sum(left for _sku, left in missing),
                "items": ", ".join(f"{left} x {sku}" for sku, left in missing),
            },
        )
    parcel.status = ParcelStatus.CLOSED
    parcel.carton = spec.code
    parcel.weight_g = weight_g
    parcel.station = station or parcel.station
    parcel.closed_at, parcel.closed_by = now, user_id
    if order.kind is OrderKind.B2B:
        parcel.sscc = allocate_ssccs(session, context.sscc_scheme)[0]
        parcel.tracking_number = parcel.sscc
    else:
        parcel.tracking_number = f"{order.number}-{parcel.number}"
    session.flush()
    if missing:
        return CloseResult(parcel.id, parcel.number, False, sum(left for _sku, left in missing))
    _move_packed_stock(session, order, user_id)
    set_status(session, order, OrderStatus.PACKED, f"packed at {station}" if station else "")
    job_ids = _queue_labels(session, order, context, user_id)
    return CloseResult(parcel.id, parcel.number, True, 0, job_ids, context.printer)


def _unpacked(session: Session, order: Order) -> list[tuple[str, int]]:
    """Each line's SKU and units picked but in no parcel yet (lines with some left only)."""
    packed = dict(
        session.execute(
            select(ParcelContent.order_line_id, func.sum(ParcelContent.quantity))
            .join(Parcel, Parcel.id == ParcelContent.parcel_id)
            .where(Parcel.order_id == order.id)
            .group_by(ParcelContent.order_line_id)
        ).all()
    )
    return [
        (line.item.sku, line.picked_quantity - int(packed.get(line.id) or 0))
        for line in order.lines
        if line.picked_quantity > int(packed.get(line.id) or 0)
    ]


def _move_packed_stock(session: Session, order: Order, user_id: int | None) -> None:
    lane = _staging_lane(session)
    totals: dict[tuple[int, int, str], int] = defaultdict(int)
    for content, _parcel in _contents(session, order.id):
        totals[(content.order_line_id, content.item_id, content.lot)] += content.quantity
    for (line_id, item_id, lot), quantity in sorted(totals.items()):
        source = _picked_at(session, line_id, lot)
        if source == lane:
            continue  # picked straight to the lane (no pack station): nothing moves
        ledger.post_movement(
            session,
            MovementRequest(
                MovementKind.PACK,
                item_id,
                quantity,
                from_location_id=source,
                to_location_id=lane,
                lot=lot,
            ),
            order_id=order.id,
            order_line_id=line_id,
            user_id=user_id,
        )


def _ship_to(order: Order) -> Address:
    return Address(
        order.ship_to_name or (order.customer.name if order.customer else order.number),
        tuple(line for line in order.ship_to_address.splitlines() if line.strip()),
        order.ship_to_postcode,
        order.ship_to_city,
        order.ship_to_country,
    )


def parcel_labels(
    session: Session, order: Order, context: PackContext
) -> list[tuple[Parcel, LabelDocument]]:
    """Each closed parcel of the order with the label it gets."""
    parcels = list(
        session.scalars(
            select(Parcel)
            .where(Parcel.order_id == order.id, Parcel.status != ParcelStatus.OPEN)
            .order_by(Parcel.number)
        )
    )
    customer = order.customer.code if order.customer else None
    documents: list[tuple[Parcel, LabelDocument]] = []
    for parcel in parcels:
        if order.kind is OrderKind.B2B and parcel.sscc:
            documents.append((parcel, _logistic_label(session, order, parcel, context, customer)))
        else:
            documents.append(
                (
                    parcel,
                    ShippingLabel(
                        order_number=order.number,
                        ship_to=_ship_to(order),
                        carrier=order.carrier or "-",
                        service=order.service,
                        package_number=parcel.number,
                        package_count=len(parcels),
                        tracking_number=parcel.tracking_number or "",
                        ship_from=context.ship_from,
                        weight_kg=Decimal(parcel.weight_g or 0) / 1000,
                        customer=customer,
                    ),
                )
            )
    return documents


def _logistic_label(
    session: Session, order: Order, parcel: Parcel, context: PackContext, customer: str | None
) -> LogisticLabel:
    contents = session.scalars(
        select(ParcelContent).where(ParcelContent.parcel_id == parcel.id)
    ).all()
    kinds = {(c.item_id, c.lot) for c in contents}
    content_gtin, count, lot = None, None, ""
    if len(kinds) == 1:
        item_id, lot = next(iter(kinds))
        content_gtin = _unit_gtins(session, [item_id]).get(item_id)
        count = sum(c.quantity for c in contents) if content_gtin else None
        lot = lot if content_gtin else ""
    assert parcel.sscc is not None
    return LogisticLabel(
        sscc=parcel.sscc,
        content_gtin=content_gtin,
        count=count,
        lot=lot,
        order_number=order.number,
        purchase_order=str(order.label_requirements.get("purchase_order", "")),
        ship_from=context.ship_from,
        ship_to=_ship_to(order),
        company_prefix_length=len(context.sscc_scheme.company_prefix),
        customer=customer,
    )


def _queue_labels(
    session: Session, order: Order, context: PackContext, user_id: int | None
) -> tuple[int, ...]:
    if context.printer is None:
        return ()
    ids = []
    for parcel, document in parcel_labels(session, order, context):
        try:
            drawing = label_drawing(document, context.registry)
        except LabelError as error:
            raise PackRefusal("label_error", {"detail": str(error)}) from error
        job = print_jobs.enqueue(
            session,
            print_jobs.NewPrintJob(
                context.printer,
                f"{document.kind.value}_label",
                [drawing],
                order_id=order.id,
                parcel_id=parcel.id,
            ),
            user_id=user_id,
        )
        ids.append(job.id)
    return tuple(ids)


def packing_list(session: Session, order_id: int, ship_from: Address | None = None) -> PackingList:
    """The packing list of an order as packed: every parcel's lines, lots and cartons."""
    order = _order(session, order_id)
    parcels = session.scalars(
        select(Parcel).where(Parcel.order_id == order.id).order_by(Parcel.number)
    ).all()
    items = {line.id: line.item for line in order.lines}
    gtins = _unit_gtins(session, [item.id for item in items.values()])
    number_of = {parcel.id: parcel.number for parcel in parcels}
    lines: dict[tuple[int, str, int], int] = defaultdict(int)
    for content, parcel in _contents(session, order.id):
        lines[(content.order_line_id, content.lot, parcel.id)] += content.quantity
    packed_on = max((p.closed_at for p in parcels if p.closed_at), default=None)
    return PackingList(
        order_number=order.number,
        ship_to=_ship_to(order),
        lines=tuple(
            PackingListLine(
                items[line_id].sku,
                items[line_id].name,
                quantity,
                gtins.get(items[line_id].id),
                lot,
                number_of[parcel_id],
            )
            for (line_id, lot, parcel_id), quantity in sorted(
                lines.items(), key=lambda entry: (number_of[entry[0][2]], entry[0][0], entry[0][1])
            )
        ),
        cartons=tuple(
            Carton(
                parcel.number,
                parcel.sscc,
                Decimal(parcel.weight_g) / 1000 if parcel.weight_g else None,
                parcel.tracking_number or "",
            )
            for parcel in parcels
            if parcel.status is not ParcelStatus.OPEN
        ),
        ship_from=ship_from,
        purchase_order=str(order.label_requirements.get("purchase_order", "")),
        packed_on=packed_on.date() if packed_on else None,
    )
