"""Carrying out pick work: confirm a pick, report a short, replenish, cancel an order."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, Table, bindparam, func, insert, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from picking.allocation import AllocationPlan, Shortage
from wms.allocation import SHORTAGE_TEXT, allocate_line, allocate_order, release_reservations
from wms.db import ledger
from wms.db.direct import execute
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
    metadata,
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


# The pick path runs on every confirmation from every handheld and light button, so it is
# written in prebuilt Core statements: the ORM's loads and flushes cost ten times the SQL.
_task_t: Table = metadata.tables["pick_task"]
_reservation_t: Table = metadata.tables["reservation"]
_stock_t: Table = metadata.tables["stock"]
_order_t: Table = metadata.tables["order"]
_line_t: Table = metadata.tables["order_line"]
_batch_t: Table = metadata.tables["pick_batch"]
_event_t: Table = metadata.tables["order_event"]

_PICK_ROW = (
    select(
        _task_t.c.id,
        _task_t.c.status,
        _task_t.c.quantity,
        _task_t.c.picked_quantity,
        _task_t.c.waits_for_id,
        _task_t.c.reservation_id,
        _task_t.c.order_id,
        _task_t.c.order_line_id,
        _task_t.c.batch_id,
        _task_t.c.item_id,
        _task_t.c.lot,
        _task_t.c.location_id,
        _reservation_t.c.quantity.label("reserved"),
        _stock_t.c.location_id.label("stock_location_id"),
        _stock_t.c.expiry,
        _order_t.c.pack_station_id,
    )
    .select_from(
        _task_t.join(_reservation_t, _reservation_t.c.id == _task_t.c.reservation_id)
        .join(_stock_t, _stock_t.c.id == _reservation_t.c.stock_id)
        .join(_order_t, _order_t.c.id == _task_t.c.order_id)
    )
    .where(_task_t.c.id == bindparam("p_task"))
    .with_for_update(of=_task_t)
)
_WAITING_FOR = select(
    select(ReplenishmentTask.__table__.c.status)
    .where(ReplenishmentTask.__table__.c.id == bindparam("p_replenishment"))
    .scalar_subquery()
    .label("status"),
    select(Location.__table__.c.code)
    .where(Location.__table__.c.id == bindparam("p_location"))
    .scalar_subquery()
    .label("code"),
)
_STAGING = (
    select(Location.__table__.c.id)
    .where(
        or_(
            Location.__table__.c.type == LocationType.STAGING,
            Location.__table__.c.type == LocationType.PACK_STATION,
        )
    )
    .order_by(Location.__table__.c.type, Location.__table__.c.id)
    .limit(1)
)
_LINE_PICKED = (
    update(_line_t)
    .where(_line_t.c.id == bindparam("p_line"))
    .values(
        allocated_quantity=_line_t.c.allocated_quantity - bindparam("p_quantity"),
        picked_quantity=_line_t.c.picked_quantity + bindparam("p_quantity"),
    )
)
_RESERVATION_PICKED = (
    update(_reservation_t)
    .where(_reservation_t.c.id == bindparam("p_reservation"))
    .values(status=bindparam("p_status"), quantity=bindparam("p_quantity"))
)
_TASK_PICKED = (
    update(_task_t)
    .where(_task_t.c.id == bindparam("p_task"))
    .values(picked_quantity=_task_t.c.picked_quantity + bindparam("p_quantity"))
)
_TASK_CLOSED = (
    update(_task_t)
    .where(_task_t.c.id == bindparam("p_task"))
    .values(status=bindparam("p_status"), done_at=bindparam("p_now"), done_by=bindparam("p_user"))
)
# Two counts, each on its own index (order_id; batch_id): one WHERE with an OR made SQLite
# walk every open task of the floor through the status index, on every pick.
_OPEN_TASKS = select(
    select(func.count())
    .where(_task_t.c.order_id == bindparam("p_order"), _task_t.c.status == TaskStatus.OPEN)
    .scalar_subquery(),
    select(func.count())
    .where(_task_t.c.batch_id == bindparam("p_batch"), _task_t.c.status == TaskStatus.OPEN)
    .scalar_subquery(),
)
_ORDER_AND_BATCH = select(
    select(_order_t.c.status).where(_order_t.c.id == bindparam("p_order")).scalar_subquery(),
    select(_batch_t.c.started_at).where(_batch_t.c.id == bindparam("p_batch")).scalar_subquery(),
    select(func.count())
    .where(_line_t.c.order_id == bindparam("p_order"), _line_t.c.picked_quantity > 0)
    .scalar_subquery(),
)
_ORDER_STATUS = (
    update(_order_t)
    .where(_order_t.c.id == bindparam("p_order"))
    .values(status=bindparam("p_status"), updated_at=bindparam("p_now"))
)
_ORDER_EVENT = insert(_event_t).values(
    order_id=bindparam("p_order"), status=bindparam("p_status"), detail="", at=bindparam("p_now")
)
_BATCH_STARTED = (
    update(_batch_t)
    .where(_batch_t.c.id == bindparam("p_batch"))
    .values(started_at=bindparam("p_now"), status=BatchStatus.IN_PROGRESS)
)
_BATCH_DONE = (
    update(_batch_t)
    .where(_batch_t.c.id == bindparam("p_batch"))
    .values(status=BatchStatus.DONE, completed_at=bindparam("p_now"))
)


def _pick_row(session: Session, task_id: int) -> Row[Any]:
    """The open task with what picking it touches, locked; NotFound/Conflict otherwise."""
    connection = session.connection()
    row = execute(connection, _PICK_ROW, {"p_task": task_id}).first()
    if row is None:
        raise NotFound(f"pick task {task_id} does not exist", task_id=task_id)
    if row.status is not TaskStatus.OPEN:
        raise Conflict(f"pick task {task_id} is already {row.status.value}", task_id=task_id)
    if row.waits_for_id is not None:
        waiting = execute(
            connection,
            _WAITING_FOR,
            {"p_replenishment": row.waits_for_id, "p_location": row.location_id},
        ).one()
        if waiting.status is TaskStatus.OPEN:
            raise Conflict(
                f"location {waiting.code} is waiting for replenishment "
                f"{row.waits_for_id}; pick after it is done",
                task_id=task_id,
                replenishment_id=row.waits_for_id,
            )
    return row  # type: ignore[no-any-return]  # a named tuple, typed as SQLAlchemy's Row


def _task(session: Session, task_id: int) -> PickTask:
    _pick_row(session, task_id)  # the checks and the lock
    return session.get_one(PickTask, task_id)


def _destination(session: Session, pack_station_id: int | None) -> int:
    """Picked units travel to the order's pack station (or the first staging lane)."""
    if pack_station_id is not None:
        return pack_station_id
    staging = execute(session.connection(), _STAGING).scalar()
    if staging is None:
        raise InvalidInput("no staging lane or pack station exists to take picked units")
    return int(staging)


def _take_from_task(
    session: Session, row: Row[Any], quantity: int, user_id: int | None, scan_id: str | None
) -> int:
    """Move ``quantity`` of the task's reserved stock into the order's tote."""
    movement_id = ledger.post_movement(
        session,
        MovementRequest(
            MovementKind.PICK,
            row.item_id,
            quantity,
            from_location_id=row.stock_location_id,
            to_location_id=_destination(session, row.pack_station_id),
            lot=row.lot,
            consume_reserved=quantity,
        ),
        expiry=row.expiry,
        order_id=row.order_id,
        order_line_id=row.order_line_id,
        user_id=user_id,
        scan_id=scan_id,
    )
    connection = session.connection()
    execute(connection, _LINE_PICKED, {"p_line": row.order_line_id, "p_quantity": quantity})
    if row.reserved == quantity:
        # The reservation ends as what was picked from it.
        status, left = ReservationStatus.PICKED, row.picked_quantity + quantity
    else:
        status, left = ReservationStatus.OPEN, row.reserved - quantity
    execute(
        connection,
        _RESERVATION_PICKED,
        {"p_reservation": row.reservation_id, "p_status": status, "p_quantity": left},
    )
    execute(connection, _TASK_PICKED, {"p_task": row.id, "p_quantity": quantity})
    return movement_id


def _after_task(
    session: Session, row: Row[Any], now: dt.datetime, picked: bool
) -> tuple[OrderStatus, bool]:
    """Advance the order and the batch once a task is closed."""
    session.flush()  # a caller's ORM changes (a task closed short) count in the queries below
    connection = session.connection()
    ids = {"p_order": row.order_id, "p_batch": row.batch_id}
    open_for_order, open_in_batch = execute(connection, _OPEN_TASKS, ids).one()
    status, started_at, lines_picked = execute(connection, _ORDER_AND_BATCH, ids).one()
    steps = []
    if status is OrderStatus.RELEASED and picked:
        steps.append(OrderStatus.PICKING)
    if (
        not open_for_order
        and status in (OrderStatus.RELEASED, OrderStatus.PICKING)
        and lines_picked
    ):
        steps.append(OrderStatus.PICKED)
    for step in steps:
        values = {"p_order": row.order_id, "p_status": step, "p_now": now}
        execute(connection, _ORDER_STATUS, values)
        execute(connection, _ORDER_EVENT, values)
        status = step
    if started_at is None:
        execute(connection, _BATCH_STARTED, {"p_batch": row.batch_id, "p_now": now})
    if not open_in_batch:
        execute(connection, _BATCH_DONE, {"p_batch": row.batch_id, "p_now": now})
    _forget(session, row)
    return status, not open_in_batch


def _forget(session: Session, row: Row[Any]) -> None:
    """Reload what the session holds of the rows the Core statements just changed.

    The hot path holds none, so this costs nothing there; a caller that loaded the task or
    its order first sees them as they now are (refreshed, not expired: they may be read
    after the session closes). Pending ORM changes are flushed first, or the refresh would
    throw them away.
    """
    session.flush()
    keys = (
        (PickTask, row.id),
        (Reservation, row.reservation_id),
        (OrderLine, row.order_line_id),
        (Order, row.order_id),
        (PickBatch, row.batch_id),
    )
    for model, key in keys:
        loaded = session.identity_map.get(identity_key(model, key))
        if loaded is not None:
            session.refresh(loaded)


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
    row = _pick_row(session, task_id)
    remaining = row.quantity - row.picked_quantity
    if quantity != remaining:
        raise InvalidInput(
            f"this pick is for {remaining}; confirm {remaining}, or report a short pick "
            f"if only {quantity} can be found",
            expected=remaining,
            quantity=quantity,
        )
    movement_id = _take_from_task(session, row, quantity, user_id, scan_id)
    execute(
        session.connection(),
        _TASK_CLOSED,
        {"p_task": task_id, "p_status": TaskStatus.DONE, "p_now": now, "p_user": user_id},
    )
    order_status, batch_done = _after_task(session, row, now, picked=True)
    replenishment = check_replenishment(session, row.location_id, row.item_id, now=now)
    return PickResult(
        task_id,
        quantity,
        movement_id,
        True,
        order_status,
        batch_done,
        replenishment.id if replenishment else None,
    )


def _reallocate(
    session: Session,
    order: Order,
    line: OrderLine,
    away_from: int,
    *,
    options: ReleaseOptions | None,
    now: dt.datetime,
) -> tuple[int, AllocationPlan, ReleaseResult | None]:
    """Allocate what a line lost again (not at ``away_from``); release it to the floor if found."""
    session.refresh(line)
    before = line.allocated_quantity
    plan = allocate_line(
        session, order, line, today=now.date(), exclude_location_ids=frozenset({away_from})
    )
    reallocated = line.allocated_quantity - before
    release = release_orders(session, [order], options=options, now=now) if reallocated else None
    return reallocated, plan, release


@dataclass(frozen=True, slots=True)
class CancelResult:
    """What cancelling one pick task did to its units."""

    task_id: int
    released: int
    reallocated: int
    backordered: int
    batch_done: bool


def cancel_task(
    session: Session,
    task_id: int,
    *,
    user_id: int | None = None,
    options: ReleaseOptions | None = None,
    now: dt.datetime | None = None,
) -> CancelResult:
    """A supervisor takes one open pick off the floor (a blocked aisle, a damaged rack).

    What is still to pick is given back to stock at that location (nothing is written off:
    the units are there, just not to be picked from there now), and the line is allocated
    again elsewhere and released, or backordered when no other stock is free.
    """
    now = now or dt.datetime.now(dt.UTC)
    row = _pick_row(session, task_id)
    remaining = row.quantity - row.picked_quantity
    ledger.release_part(session, row.reservation_id, remaining, picked_before=row.picked_quantity)
    execute(
        session.connection(),
        _TASK_CLOSED,
        {"p_task": task_id, "p_status": TaskStatus.CANCELLED, "p_now": now, "p_user": user_id},
    )
    _forget(session, row)
    order = session.get_one(Order, row.order_id)
    line = session.get_one(OrderLine, row.order_line_id)
    reallocated, _plan, _release = _reallocate(
        session, order, line, row.stock_location_id, options=options, now=now
    )
    _status, batch_done = _after_task(session, row, now, picked=row.picked_quantity > 0)
    return CancelResult(task_id, remaining, reallocated, remaining - reallocated, batch_done)


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
    row = _pick_row(session, task_id)
    remaining = row.quantity - row.picked_quantity
    if not 0 <= found < remaining:
        raise InvalidInput(
            f"a short pick finds between 0 and {remaining - 1} of the {remaining} asked",
            found=found,
        )
    if found:
        _take_from_task(session, row, found, user_id, scan_id)
        _forget(session, row)
    task = session.get_one(PickTask, task_id)
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
    reallocated, plan, release = _reallocate(
        session, order, line, stock.location_id, options=options, now=now
    )
    backordered = missing - reallocated
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
    _after_task(session, row, now, picked=row.picked_quantity + found > 0)
    return ShortResult(task.id, found, missing, reallocated, backordered, exception.id, release)


_location_t: Table = metadata.tables["location"]
_FACE_LEVEL = select(
    _location_t.c.type,
    _location_t.c.replenish_min,
    _location_t.c.replenish_max,
    select(func.coalesce(func.sum(_stock_t.c.on_hand), 0))
    .where(_stock_t.c.location_id == _location_t.c.id, _stock_t.c.item_id == bindparam("p_item"))
    .scalar_subquery()
    .label("on_hand"),
).where(_location_t.c.id == bindparam("p_location"))


def check_replenishment(
    session: Session, location_id: int, item_id: int, *, now: dt.datetime | None = None
) -> ReplenishmentTask | None:
    """A pick face under its minimum gets a replenishment from reserve, up to its maximum."""
    # Every pick asks this: one Core read of the face and what it holds (no ORM load).
    face = execute(
        session.connection(), _FACE_LEVEL, {"p_location": location_id, "p_item": item_id}
    ).one_or_none()
    if face is None:
        raise NotFound(f"location {location_id} does not exist", location_id=location_id)
    if face.type is not LocationType.PICK_FACE or face.replenish_min is None:
        return None
    on_hand = int(face.on_hand or 0)
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
