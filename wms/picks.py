"""Carrying out pick work: confirm a pick, report a short, replenish, cancel an order."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from picking.allocation import Shortage
from wms.allocation import SHORTAGE_TEXT, allocate_line, allocate_order, release_reservations
from wms.db import ledger
from wms.db.schema import (
    FloorException,
    Location,
    Order,
    OrderLine,
    PickBatch,
    PickTask,
    ReplenishmentTask,
    Reservation,
    Stock,
)
from wms.errors import Conflict, InvalidInput, NotFound
from wms.ledger import MovementRequest
from wms.model import (
    BatchStatus,
    ExceptionKind,
    ExceptionStatus,
    LocationType,
    MovementKind,
    OrderStatus,
    ReservationStatus,
    TaskStatus,
)
from wms.orders import set_status
from wms.release import ReleaseOptions, ReleaseResult, release_orders

CLOSED = (TaskStatus.DONE, TaskStatus.SHORT, TaskStatus.CANCELLED)
BELOW_MIN = "below_min"


@dataclass(frozen=True, slots=True)
class PickResult:
    """What confirming a pick did."""

    task_id: int
    picked: int
    movement_id: int
    task_done: bool
    order_status: OrderStatus
    batch_done: bool
    replenishment_id: int | None


@dataclass(frozen=True, slots=True)
class ShortResult:
    """What reporting a short pick did."""

    task_id: int
    picked: int
    missing: int
    reallocated: int
    backordered: int
    exception_id: int
    release: ReleaseResult | None


def _task(session: Session, task_id: int) -> PickTask:
    task = session.get(PickTask, task_id, with_for_update=True)
    if task is None:
        raise NotFound(f"pick task {task_id} does not exist", task_id=task_id)
    if task.status is not TaskStatus.OPEN:
        raise Conflict(f"pick task {task_id} is already {task.status.value}", task_id=task_id)
    if task.waits_for_id is not None:
        waiting = session.get_one(ReplenishmentTask, task.waits_for_id)
        if waiting.status is TaskStatus.OPEN:
            raise Conflict(
                f"location {task.location.code} is waiting for replenishment "
                f"{waiting.id}; pick after it is done",
                task_id=task_id,
                replenishment_id=waiting.id,
            )
    return task


def _destination(session: Session, order: Order) -> int:
    """Picked units travel to the order's pack station (or the first staging lane)."""
    if order.pack_station_id is not None:
        return order.pack_station_id
    staging = session.scalar(
        select(Location.id)
        .where(Location.type.in_((LocationType.STAGING, LocationType.PACK_STATION)))
        .order_by(Location.type, Location.id)
        .limit(1)
    )
    if staging is None:
        raise InvalidInput("no staging lane or pack station exists to take picked units")
    return staging


def _take_from_task(
    session: Session, task: PickTask, quantity: int, user_id: int | None, scan_id: str | None
) -> int:
    """Move ``quantity`` of the task's reserved stock into the order's tote."""
    reservation = session.get_one(Reservation, task.reservation_id)
    stock = session.get_one(Stock, reservation.stock_id)
    movement_id = ledger.post_movement(
        session,
        MovementRequest(
            MovementKind.PICK,
            task.item_id,
            quantity,
            from_location_id=stock.location_id,
            to_location_id=_destination(session, task.order),
            lot=task.lot,
            consume_reserved=quantity,
        ),
        expiry=stock.expiry,
        order_id=task.order_id,
        order_line_id=task.order_line_id,
        user_id=user_id,
        scan_id=scan_id,
    )
    session.execute(
        update(OrderLine)
        .where(OrderLine.id == task.order_line_id)
        .values(
            allocated_quantity=OrderLine.allocated_quantity - quantity,
            picked_quantity=OrderLine.picked_quantity + quantity,
        )
    )
    if reservation.quantity == quantity:
        reservation.status = ReservationStatus.PICKED  # it ends as what was picked from it
        reservation.quantity = task.picked_quantity + quantity
    else:
        reservation.quantity -= quantity
    task.picked_quantity += quantity
    return movement_id


def _after_task(session: Session, task: PickTask, now: dt.datetime) -> tuple[OrderStatus, bool]:
    """Advance the order and the batch once a task is closed."""
    order = task.order
    open_for_order = session.scalar(
        select(func.count())
        .select_from(PickTask)
        .where(PickTask.order_id == order.id, PickTask.status == TaskStatus.OPEN)
    )
    if order.status in (OrderStatus.RELEASED,) and task.picked_quantity:
        set_status(session, order, OrderStatus.PICKING)
    if (
        not open_for_order
        and order.status in (OrderStatus.RELEASED, OrderStatus.PICKING)
        and any(line.picked_quantity for line in order.lines)
    ):
        set_status(session, order, OrderStatus.PICKED)
    batch = task.batch
    if batch.started_at is None:
        batch.started_at = now
        batch.status = BatchStatus.IN_PROGRESS
    open_in_batch = session.scalar(
        select(func.count())
        .select_from(PickTask)
        .where(PickTask.batch_id == batch.id, PickTask.status == TaskStatus.OPEN)
    )
    if not open_in_batch:
        batch.status = BatchStatus.DONE
        batch.completed_at = now
    return order.status, batch.status is BatchStatus.DONE


def confirm_pick(
    session: Session,
    task_id: int,
    quantity: int,
    *,
    user_id: int | None = None,
    scan_id: str | None = None,
    now: dt.datetime | None = None,
) -> PickResult:
    """Confirm the whole remaining quantity of a task; stock moves in the ledger."""
    now = now or dt.datetime.now(dt.UTC)
    task = _task(session, task_id)
    remaining = task.quantity - task.picked_quantity
    if quantity != remaining:
        raise InvalidInput(
            f"this pick is for {remaining}; confirm {remaining}, or report a short pick "
            f"if only {quantity} can be found",
            expected=remaining,
            quantity=quantity,
        )
    movement_id = _take_from_task(session, task, quantity, user_id, scan_id)
    task.status = TaskStatus.DONE
    task.done_at, task.done_by = now, user_id
    order_status, batch_done = _after_task(session, task, now)
    replenishment = check_replenishment(session, task.location_id, task.item_id, now=now)
    return PickResult(
        task.id,
        quantity,
        movement_id,
        True,
        order_status,
        batch_done,
        replenishment.id if replenishment else None,
    )


def report_short(
    session: Session,
    task_id: int,
    found: int,
    *,
    kind: ExceptionKind = ExceptionKind.SHORT_PICK,
    user_id: int | None = None,
    scan_id: str | None = None,
    options: ReleaseOptions | None = None,
    now: dt.datetime | None = None,
) -> ShortResult:
    """Pick what was found; write off the rest at that location; re-allocate or backorder it."""
    now = now or dt.datetime.now(dt.UTC)
    task = _task(session, task_id)
    remaining = task.quantity - task.picked_quantity
    if not 0 <= found < remaining:
        raise InvalidInput(
            f"a short pick finds between 0 and {remaining - 1} of the {remaining} asked",
            found=found,
        )
    if found:
        _take_from_task(session, task, found, user_id, scan_id)
    missing = remaining - found
    reservation = session.get_one(Reservation, task.reservation_id)
    stock = session.get_one(Stock, reservation.stock_id)
    ledger.release_part(session, reservation.id, missing, picked_before=task.picked_quantity)
    # What the picker did not find (or found damaged) is not there to sell: write it off,
    # so that it is not allocated again from the same place.
    session.refresh(stock)
    free = stock.on_hand - stock.reserved
    write_off = min(missing, free)
    if write_off:
        ledger.post_movement(
            session,
            MovementRequest(
                MovementKind.ADJUSTMENT,
                task.item_id,
                write_off,
                from_location_id=stock.location_id,
                lot=task.lot,
                reason=f"{kind.value}: reported at pick task {task.id}",
            ),
            expiry=stock.expiry,
            order_id=task.order_id,
            user_id=user_id,
            scan_id=scan_id,
        )
    task.status = TaskStatus.SHORT
    task.done_at, task.done_by = now, user_id
    order = task.order
    line = session.get_one(OrderLine, task.order_line_id)
    session.refresh(line)
    before = line.allocated_quantity
    plan = allocate_line(
        session, order, line, today=now.date(), exclude_location_ids=frozenset({stock.location_id})
    )
    reallocated = line.allocated_quantity - before
    backordered = missing - reallocated
    release = None
    if reallocated:
        release = release_orders(session, [order], options=options, now=now)
    outcome = "reallocated" if not backordered else ("backordered" if not reallocated else "partly")
    detail = f"{kind.value} at {task.location.code}: found {found} of {remaining}"
    if backordered:
        detail += (
            f"; {backordered} backordered ({SHORTAGE_TEXT[plan.reason or Shortage.NOT_ENOUGH]})"
        )
    exception = FloorException(
        kind=kind,
        status=ExceptionStatus.OPEN,
        order_id=order.id,
        order_line_id=line.id,
        task_id=task.id,
        location_id=stock.location_id,
        item_id=task.item_id,
        quantity=missing,
        outcome=outcome,
        detail=detail[:300],
        reported_by=user_id,
        created_at=now,
    )
    session.add(exception)
    session.flush()
    _after_task(session, task, now)
    return ShortResult(task.id, found, missing, reallocated, backordered, exception.id, release)


def check_replenishment(
    session: Session, location_id: int, item_id: int, *, now: dt.datetime | None = None
) -> ReplenishmentTask | None:
    """A pick face under its minimum gets a replenishment from reserve, up to its maximum."""
    face = session.get_one(Location, location_id)
    if face.type is not LocationType.PICK_FACE or face.replenish_min is None:
        return None
    on_hand = int(
        session.scalar(
            select(func.coalesce(func.sum(Stock.on_hand), 0)).where(
                Stock.location_id == location_id, Stock.item_id == item_id
            )
        )
        or 0
    )
    if on_hand >= face.replenish_min:
        return None
    pending = session.scalar(
        select(ReplenishmentTask.id).where(
            ReplenishmentTask.to_location_id == location_id,
            ReplenishmentTask.item_id == item_id,
            ReplenishmentTask.status == TaskStatus.OPEN,
        )
    )
    if pending is not None:
        return None
    source = session.execute(
        select(Stock)
        .join(Location, Stock.location_id == Location.id)
        .where(
            Stock.item_id == item_id,
            Location.type == LocationType.RESERVE,
            Stock.on_hand > Stock.reserved,
        )
        .order_by(Stock.expiry.is_(None), Stock.expiry, Stock.received_at)
        .limit(1)
    ).scalar_one_or_none()
    if source is None:
        return None
    wanted = (face.replenish_max or face.replenish_min * 2) - on_hand
    quantity = min(wanted, source.on_hand - source.reserved)
    if quantity <= 0:
        return None
    # Hold the units at the source so that no allocation takes them before the move is done.
    ledger.hold(session, source.id, quantity)
    task = ReplenishmentTask(
        status=TaskStatus.OPEN,
        item_id=item_id,
        lot=source.lot,
        from_location_id=source.location_id,
        to_location_id=location_id,
        quantity=quantity,
        carries_reserved=0,
        reason=BELOW_MIN,
        priority=0,
        created_at=now or dt.datetime.now(dt.UTC),
    )
    session.add(task)
    session.flush()
    return task


def complete_replenishment(
    session: Session, task_id: int, *, user_id: int | None = None, now: dt.datetime | None = None
) -> int:
    """Move the stock to the pick face; picks that waited for it may now be made."""
    now = now or dt.datetime.now(dt.UTC)
    task = session.get(ReplenishmentTask, task_id, with_for_update=True)
    if task is None:
        raise NotFound(f"replenishment {task_id} does not exist", task_id=task_id)
    if task.status is not TaskStatus.OPEN:
        raise Conflict(f"replenishment {task_id} is already {task.status.value}")
    source = session.execute(
        select(Stock).where(
            Stock.location_id == task.from_location_id,
            Stock.item_id == task.item_id,
            Stock.lot == task.lot,
        )
    ).scalar_one()
    movement_id = ledger.post_movement(
        session,
        MovementRequest(
            MovementKind.TRANSFER,
            task.item_id,
            task.quantity,
            from_location_id=task.from_location_id,
            to_location_id=task.to_location_id,
            lot=task.lot,
            reason=f"replenishment {task.id}",
            # Reserved at the source: the picks it carries, or (below minimum) the whole move.
            consume_reserved=task.quantity if task.reason == BELOW_MIN else task.carries_reserved,
        ),
        expiry=source.expiry,
        user_id=user_id,
    )
    if task.carries_reserved:
        target = session.execute(
            select(Stock).where(
                Stock.location_id == task.to_location_id,
                Stock.item_id == task.item_id,
                Stock.lot == task.lot,
            )
        ).scalar_one()
        ledger.hold(session, target.id, task.carries_reserved)
        waiting = session.scalars(
            select(PickTask.reservation_id).where(PickTask.waits_for_id == task.id)
        ).all()
        session.execute(
            update(Reservation).where(Reservation.id.in_(waiting)).values(stock_id=target.id)
        )
    task.status = TaskStatus.DONE
    task.done_at, task.done_by = now, user_id
    return movement_id


def cancel_order(session: Session, order: Order, *, reason: str = "") -> int:
    """Cancel an order not yet packed: open tasks cancelled, reservations given back."""
    if order.status in (OrderStatus.PACKED, OrderStatus.SHIPPED, OrderStatus.CANCELLED):
        raise Conflict(
            f"order {order.number} is {order.status.value} and can no longer be cancelled",
            number=order.number,
        )
    open_tasks = session.scalars(
        select(PickTask).where(PickTask.order_id == order.id, PickTask.status == TaskStatus.OPEN)
    ).all()
    # A replenishment that was to carry these picks' reservations now carries fewer.
    for task in open_tasks:
        if task.waits_for_id is None:
            continue
        move = session.get_one(ReplenishmentTask, task.waits_for_id)
        if move.status is TaskStatus.OPEN:
            carried = min(move.carries_reserved, task.quantity - task.picked_quantity)
            move.carries_reserved -= carried
            move.quantity -= carried
            if move.quantity <= 0:
                move.quantity = carried or 1  # keep the row valid; it is cancelled anyway
                move.status = TaskStatus.CANCELLED
    batches = {task.batch_id for task in open_tasks}
    for task in open_tasks:
        task.status = TaskStatus.CANCELLED
    session.flush()
    for batch_id in batches:
        _close_batch_if_empty(session, batch_id)
    freed = release_reservations(session, order)
    picked = sum(line.picked_quantity for line in order.lines)
    detail = reason or "cancelled"
    if picked:
        # Units already in a tote must go back to stock: the supervisor sees it.
        detail += f"; {picked} unit(s) already picked must be put back"
    set_status(session, order, OrderStatus.CANCELLED, detail[:200])
    return freed


def _close_batch_if_empty(session: Session, batch_id: int) -> None:
    """A batch left with no open task is done (or cancelled if nothing was picked from it)."""
    batch = session.get_one(PickBatch, batch_id)
    statuses = set(session.scalars(select(PickTask.status).where(PickTask.batch_id == batch_id)))
    if TaskStatus.OPEN in statuses or batch.status in (BatchStatus.DONE, BatchStatus.CANCELLED):
        return
    picked = bool(statuses & {TaskStatus.DONE, TaskStatus.SHORT})
    batch.status = BatchStatus.DONE if picked else BatchStatus.CANCELLED
    batch.completed_at = dt.datetime.now(dt.UTC)


def change_line_quantity(
    session: Session, order: Order, line_no: int, quantity: int, *, today: dt.date | None = None
) -> OrderLine:
    """Change how many a line asks for, before release: reservations are redone."""
    if order.status not in (
        OrderStatus.RECEIVED,
        OrderStatus.ALLOCATED,
        OrderStatus.PARTLY_ALLOCATED,
        OrderStatus.BACKORDERED,
    ):
        raise Conflict(
            f"order {order.number} is {order.status.value}; lines change only before release"
        )
    if quantity < 1:
        raise InvalidInput("quantity must be at least 1; cancel the order to drop it all")
    line = next((line for line in order.lines if line.line_no == line_no), None)
    if line is None:
        raise NotFound(f"order {order.number} has no line {line_no}")
    for reservation in session.scalars(
        select(Reservation).where(
            Reservation.order_line_id == line.id, Reservation.status == ReservationStatus.OPEN
        )
    ):
        ledger.release(session, reservation.id)
    session.refresh(line)
    line.quantity = quantity
    session.flush()
    # Allocating the whole order again allocates this line and settles the order's status.
    allocate_order(session, order, today=today)
    return line
