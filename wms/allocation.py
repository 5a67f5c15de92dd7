"""Allocate orders: reserve stock for each line, and say per line what came of it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from picking.allocation import (
    AllocationPlan,
    LineDemand,
    Shortage,
    StockCandidate,
    plan_allocation,
)
from wms.db import ledger
from wms.db.schema import Item, ItemGtin, Location, Order, OrderLine, Reservation, Stock
from wms.errors import InsufficientStock
from wms.model import LocationType, OrderKind, OrderStatus, ReservationStatus
from wms.orders import set_status

# Stock that can be allocated: where pickers can reach it, directly or after replenishment.
ALLOCATABLE = (LocationType.PICK_FACE, LocationType.RESERVE)
# Another transaction may take the stock between planning and reserving (PostgreSQL);
# the conditional update refuses, and the line is planned again on fresh figures.
MAX_ATTEMPTS = 5

SHORTAGE_TEXT = {
    Shortage.NONE: "",
    Shortage.NO_STOCK: "no stock of this item in the warehouse",
    Shortage.EXPIRED_ONLY: "only expired lots in stock",
    Shortage.SHELF_LIFE_TOO_SHORT: "no lot with the shelf life this customer requires",
    Shortage.NOT_ENOUGH: "not enough free stock",
}


@dataclass(frozen=True, slots=True)
class LineAllocation:
    """What allocation did for one line."""

    line_no: int
    sku: str
    quantity: int
    allocated: int
    status: str  # allocated, partly_allocated or backordered
    reason: str


@dataclass(frozen=True, slots=True)
class OrderAllocation:
    """What allocation did for an order: its new status and each line."""

    number: str
    status: OrderStatus
    lines: tuple[LineAllocation, ...]


def _candidates(
    session: Session, item_id: int, exclude_location_ids: frozenset[int]
) -> list[StockCandidate]:
    rows = session.execute(
        select(Stock, Location.type, Location.handling_unit, Location.walk_sequence)
        .join(Location, Stock.location_id == Location.id)
        .where(
            Stock.item_id == item_id,
            Stock.on_hand > Stock.reserved,
            Location.type.in_(ALLOCATABLE),
            Location.active.is_(True),
        )
    ).all()
    return [
        StockCandidate(
            stock_id=stock.id,
            location_id=stock.location_id,
            available=stock.on_hand - stock.reserved,
            received_at=stock.received_at,
            unit=unit,
            pick_face=location_type is LocationType.PICK_FACE,
            walk_sequence=walk,
            lot=stock.lot,
            expiry=stock.expiry,
        )
        for stock, location_type, unit, walk in rows
        if stock.location_id not in exclude_location_ids
    ]


@dataclass(frozen=True, slots=True)
class _ItemRules:
    case_quantity: int | None
    pallet_quantity: int | None
    dated: bool


def _item_rules(session: Session, item_ids: set[int]) -> dict[int, _ItemRules]:
    """Pack sizes and dating of several items in two queries."""
    cases: dict[int, int] = {}
    for item_id, pack in session.execute(
        select(ItemGtin.item_id, func.min(ItemGtin.pack_quantity))
        .where(ItemGtin.item_id.in_(item_ids), ItemGtin.pack_quantity > 1)
        .group_by(ItemGtin.item_id)
    ):
        cases[item_id] = int(pack)
    return {
        item_id: _ItemRules(cases.get(item_id), pallet, dated)
        for item_id, pallet, dated in session.execute(
            select(Item.id, Item.pallet_quantity, Item.expiry_tracked).where(Item.id.in_(item_ids))
        )
    }


def _demand(order: Order, rules: _ItemRules, quantity: int) -> LineDemand:
    return LineDemand(
        quantity=quantity,
        bulk=order.kind is OrderKind.B2B,
        case_quantity=rules.case_quantity,
        pallet_quantity=rules.pallet_quantity,
        dated=rules.dated,
        min_shelf_life_days=order.customer.min_shelf_life_days if order.customer else 0,
    )


def allocate_line(
    session: Session,
    order: Order,
    line: OrderLine,
    *,
    today: dt.date,
    exclude_location_ids: frozenset[int] = frozenset(),
    rules: _ItemRules | None = None,
) -> AllocationPlan:
    """Reserve what can be had for the unallocated part of a line; return the plan carried out."""
    wanted = line.quantity - line.allocated_quantity - line.picked_quantity
    if wanted <= 0:
        return AllocationPlan((), 0, Shortage.NONE)
    rules = rules or _item_rules(session, {line.item_id})[line.item_id]
    plan = AllocationPlan((), wanted, Shortage.NO_STOCK)
    for _attempt in range(MAX_ATTEMPTS):
        plan = plan_allocation(
            _demand(order, rules, wanted),
            _candidates(session, line.item_id, exclude_location_ids),
            today,
        )
        try:
            for take in plan.takes:
                ledger.reserve(session, line.id, take.stock_id, take.quantity, take.unit)
                wanted -= take.quantity
                # The ledger updated the row in SQL; keep the loaded object in step.
                set_committed_value(
                    line, "allocated_quantity", line.allocated_quantity + take.quantity
                )
        except InsufficientStock:
            continue  # keep what was reserved; plan the rest again on fresh figures
        break
    return plan


def _line_status(line: OrderLine) -> str:
    held = line.allocated_quantity + line.picked_quantity
    if held >= line.quantity:
        return "allocated"
    return "partly_allocated" if held else "backordered"


def allocate_order(
    session: Session, order: Order, *, today: dt.date | None = None
) -> OrderAllocation:
    """Allocate every line of an order, set its status, and report each line."""
    return allocate_orders(session, [order], today=today)[0]


def _candidates_for(session: Session, item_ids: set[int]) -> dict[int, list[StockCandidate]]:
    """Free stock of many items in one query (the bulk path of :func:`_candidates`)."""
    found: dict[int, list[StockCandidate]] = {item_id: [] for item_id in item_ids}
    for chunk in _chunks(sorted(item_ids)):
        rows = session.execute(
            select(Stock, Location.type, Location.handling_unit, Location.walk_sequence)
            .join(Location, Stock.location_id == Location.id)
            .where(
                Stock.item_id.in_(chunk),
                Stock.on_hand > Stock.reserved,
                Location.type.in_(ALLOCATABLE),
                Location.active.is_(True),
            )
        ).all()
        for stock, location_type, unit, walk in rows:
            found[stock.item_id].append(
                StockCandidate(
                    stock_id=stock.id,
                    location_id=stock.location_id,
                    available=stock.on_hand - stock.reserved,
                    received_at=stock.received_at,
                    unit=unit,
                    pick_face=location_type is LocationType.PICK_FACE,
                    walk_sequence=walk,
                    lot=stock.lot,
                    expiry=stock.expiry,
                )
            )
    return found


def _items_on_hand(session: Session, item_ids: set[int]) -> set[int]:
    """Items with any stock in allocatable locations, free or not."""
    found: set[int] = set()
    for chunk in _chunks(sorted(item_ids)):
        found.update(
            session.scalars(
                select(Stock.item_id)
                .join(Location, Stock.location_id == Location.id)
                .where(
                    Stock.item_id.in_(chunk),
                    Stock.on_hand > 0,
                    Location.type.in_(ALLOCATABLE),
                )
                .distinct()
            )
        )
    return found


def _chunks(values: list[int], size: int = 2000) -> list[list[int]]:
    return [values[i : i + size] for i in range(0, len(values), size)]


def allocate_orders(
    session: Session, orders: list[Order], *, today: dt.date | None = None
) -> list[OrderAllocation]:
    """Allocate many orders in turn (most urgent first is the caller's choice of order).

    Stock is read once for all their items and kept up to date in memory as lines take it;
    the conditional reserve in the ledger still guards every take, and a refused take
    (another transaction was quicker) sends that line back to a fresh read.
    """
    today = today or dt.datetime.now(dt.UTC).date()
    order_ids = [order.id for order in orders]
    lines_by_order: dict[int, list[OrderLine]] = {order_id: [] for order_id in order_ids}
    for chunk in _chunks(order_ids):
        for line in session.scalars(
            select(OrderLine).where(OrderLine.order_id.in_(chunk)).order_by(OrderLine.line_no)
        ):
            lines_by_order[line.order_id].append(line)
    item_ids = {line.item_id for lines in lines_by_order.values() for line in lines}
    rules = _item_rules(session, item_ids)
    skus = dict(session.execute(select(Item.id, Item.sku).where(Item.id.in_(item_ids))).all())
    stock = _candidates_for(session, item_ids)
    free = {c.stock_id: c.available for candidates in stock.values() for c in candidates}
    stocked = _items_on_hand(session, item_ids)
    answers = []
    with session.no_autoflush:
        for order in orders:
            results = []
            for line in lines_by_order[order.id]:
                plan = _allocate_from_memory(
                    session, order, line, rules[line.item_id], stock[line.item_id], free, today
                )
                if plan.reason is Shortage.NO_STOCK and line.item_id in stocked:
                    plan = replace(plan, reason=Shortage.NOT_ENOUGH)  # there, but all taken
                status = _line_status(line)
                results.append(
                    LineAllocation(
                        line_no=line.line_no,
                        sku=skus[line.item_id],
                        quantity=line.quantity,
                        allocated=line.allocated_quantity + line.picked_quantity,
                        status=status,
                        reason=SHORTAGE_TEXT[plan.reason] if status != "allocated" else "",
                    )
                )
            answers.append(_settle(session, order, results))
    return answers


def _allocate_from_memory(
    session: Session,
    order: Order,
    line: OrderLine,
    rules: _ItemRules,
    candidates: list[StockCandidate],
    free: dict[int, int],
    today: dt.date,
) -> AllocationPlan:
    wanted = line.quantity - line.allocated_quantity - line.picked_quantity
    if wanted <= 0:
        return AllocationPlan((), 0, Shortage.NONE)
    current = [replace(c, available=free[c.stock_id]) for c in candidates if free[c.stock_id] > 0]
    plan = plan_allocation(_demand(order, rules, wanted), current, today)
    for index, take in enumerate(plan.takes):
        try:
            ledger.reserve(session, line.id, take.stock_id, take.quantity, take.unit)
        except InsufficientStock:
            # Someone else took it meanwhile: finish this line on a fresh read.
            for later in plan.takes[index:]:
                free[later.stock_id] = 0
            return allocate_line(session, order, line, today=today, rules=rules)
        free[take.stock_id] -= take.quantity
        set_committed_value(line, "allocated_quantity", line.allocated_quantity + take.quantity)
    return plan


def _settle(session: Session, order: Order, results: list[LineAllocation]) -> OrderAllocation:
    """Set the order's status from its lines' results, with the summary in its history."""
    statuses = {r.status for r in results}
    if statuses == {"allocated"}:
        new_status = OrderStatus.ALLOCATED
    elif statuses == {"backordered"}:
        new_status = OrderStatus.BACKORDERED
    else:
        new_status = OrderStatus.PARTLY_ALLOCATED
    if order.status in (
        OrderStatus.RECEIVED,
        OrderStatus.ALLOCATED,
        OrderStatus.PARTLY_ALLOCATED,
        OrderStatus.BACKORDERED,
    ) and (order.status is not new_status):
        summary = ", ".join(f"{r.sku} {r.allocated}/{r.quantity}" for r in results)
        set_status(session, order, new_status, summary[:200])
    return OrderAllocation(order.number, order.status, tuple(results))


def release_reservations(session: Session, order: Order) -> int:
    """Give back every open reservation of an order; return how many units were freed."""
    freed = 0
    line_ids = [line.id for line in order.lines]
    for reservation in session.scalars(
        select(Reservation).where(
            Reservation.order_line_id.in_(line_ids),
            Reservation.status == ReservationStatus.OPEN,
        )
    ):
        freed += reservation.quantity
        ledger.release(session, reservation.id)
    for line in order.lines:
        session.refresh(line)
    return freed
