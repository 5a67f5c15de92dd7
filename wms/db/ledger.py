"""The inventory ledger in SQL: one movement row and the stock totals, in one transaction.

Oversell safety comes from conditional updates (``... WHERE on_hand - reserved >= :q``)
checked by row count, which are atomic on PostgreSQL under READ COMMITTED and serialised by
``BEGIN IMMEDIATE`` on SQLite; CHECK constraints on ``stock`` are the last line of defence.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import CursorResult, Table, bindparam, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from wms.db import direct
from wms.db.schema import Location, Reservation, metadata
from wms.errors import InsufficientStock, InvalidInput, NotFound
from wms.ledger import MovementRequest, check_movement
from wms.model import HandlingUnit, MovementKind, ReservationStatus

_stock: Table = metadata.tables["stock"]
_movement: Table = metadata.tables["movement"]
_order_line: Table = metadata.tables["order_line"]
_reservation: Table = metadata.tables["reservation"]


@dataclass(frozen=True, slots=True)
class LedgerMismatch:
    """A stock row whose on-hand is not what its movements add up to."""

    location_id: int
    item_id: int
    lot: str
    on_hand: int
    ledger_total: int


def _rowcount(result: object) -> int:
    assert isinstance(result, CursorResult | direct.Rows)
    return int(result.rowcount)


def _execute(session: Session, statement: Any, params: dict[str, Any] | None = None) -> Any:
    """Run a prebuilt Core statement on the session's connection.

    ``Session.execute`` costs about as much again as the statement on the hot pick path; the
    flush first keeps its autoflush: pending ORM rows (a new stock row, say) are written
    before a statement that reads or refers to them.
    """
    session.flush()
    return session.connection().execute(statement, params)


def _run(session: Session, statement: Any, params: dict[str, Any]) -> direct.Rows:
    """:func:`_execute` for the pick path's module statements, on the driver's cursor."""
    session.flush()
    return direct.execute(session.connection(), statement, params)


def _location_code(session: Session, location_id: int) -> str:
    code = session.scalar(select(Location.code).where(Location.id == location_id))
    if code is None:
        raise NotFound(f"location {location_id} does not exist", location_id=location_id)
    return code


# The statements are built once: building SQLAlchemy constructs on every call cost three
# times the database work itself (benchmarks/ledger_write_rate.py). Bind names differ
# from column names because SQLAlchemy reserves those in SET and VALUES.
_TAKE = (
    update(_stock)
    .where(
        _stock.c.location_id == bindparam("p_location"),
        _stock.c.item_id == bindparam("p_item"),
        _stock.c.lot == bindparam("p_lot"),
        _stock.c.reserved >= bindparam("p_reserved"),
        _stock.c.on_hand - bindparam("p_quantity") >= _stock.c.reserved - bindparam("p_reserved"),
    )
    .values(
        on_hand=_stock.c.on_hand - bindparam("p_quantity"),
        reserved=_stock.c.reserved - bindparam("p_reserved"),
    )
)


def _upsert(dialect_insert: Callable[[Table], Any]) -> Any:
    statement = dialect_insert(_stock).values(
        location_id=bindparam("p_location"),
        item_id=bindparam("p_item"),
        lot=bindparam("p_lot"),
        expiry=bindparam("p_expiry"),
        on_hand=bindparam("p_quantity"),
        reserved=0,
        received_at=bindparam("p_now"),
    )
    return statement.on_conflict_do_update(
        index_elements=["location_id", "item_id", "lot"],
        set_={"on_hand": _stock.c.on_hand + statement.excluded.on_hand},
    )


_PUT = {"postgresql": _upsert(postgresql.insert), "sqlite": _upsert(sqlite.insert)}

_INSERT_MOVEMENT = (
    insert(_movement)
    .values(
        kind=bindparam("p_kind"),
        item_id=bindparam("p_item"),
        lot=bindparam("p_lot"),
        expiry=bindparam("p_expiry"),
        quantity=bindparam("p_quantity"),
        from_location_id=bindparam("p_from"),
        to_location_id=bindparam("p_to"),
        reason=bindparam("p_reason"),
        order_id=bindparam("p_order"),
        order_line_id=bindparam("p_order_line"),
        user_id=bindparam("p_user"),
        scan_id=bindparam("p_scan"),
        created_at=bindparam("p_now"),
    )
    .returning(_movement.c.id)
)

_RESERVE = (
    update(_stock)
    .where(
        _stock.c.id == bindparam("p_stock"),
        _stock.c.on_hand - _stock.c.reserved >= bindparam("p_quantity"),
    )
    .values(reserved=_stock.c.reserved + bindparam("p_quantity"))
)
_UNRESERVE = (
    update(_stock)
    .where(_stock.c.id == bindparam("p_stock"), _stock.c.reserved >= bindparam("p_quantity"))
    .values(reserved=_stock.c.reserved - bindparam("p_quantity"))
)
_ALLOCATE_LINE = (
    update(_order_line)
    .where(_order_line.c.id == bindparam("p_line"))
    .values(allocated_quantity=_order_line.c.allocated_quantity + bindparam("p_quantity"))
)
_INSERT_RESERVATION = (
    insert(_reservation)
    .values(
        order_line_id=bindparam("p_line"),
        stock_id=bindparam("p_stock"),
        quantity=bindparam("p_quantity"),
        status=ReservationStatus.OPEN,
        unit=bindparam("p_unit"),
        created_at=bindparam("p_now"),
    )
    .returning(_reservation.c.id)
)


def _take(session: Session, request: MovementRequest) -> None:
    """Decrement on-hand at the from-location, refusing to go below what is reserved."""
    q, r = request.quantity, request.consume_reserved
    result = _run(
        session,
        _TAKE,
        {
            "p_location": request.from_location_id,
            "p_item": request.item_id,
            "p_lot": request.lot,
            "p_quantity": q,
            "p_reserved": r,
        },
    )
    if _rowcount(result) == 1:
        return
    assert request.from_location_id is not None
    row = _execute(
        session,
        select(_stock.c.on_hand, _stock.c.reserved).where(
            _stock.c.location_id == request.from_location_id,
            _stock.c.item_id == request.item_id,
            _stock.c.lot == request.lot,
        ),
    ).first()
    on_hand, reserved = (row.on_hand, row.reserved) if row else (0, 0)
    code = _location_code(session, request.from_location_id)
    raise InsufficientStock(
        f"location {code} holds {on_hand} (of which {reserved} reserved); "
        f"{q} cannot be taken from it",
        location=code,
        on_hand=on_hand,
        reserved=reserved,
        requested=q,
    )


def _put(session: Session, request: MovementRequest, expiry: dt.date | None) -> None:
    """Increment on-hand at the to-location, creating the stock row if it is the first."""
    _run(
        session,
        _PUT[session.get_bind().dialect.name],
        {
            "p_location": request.to_location_id,
            "p_item": request.item_id,
            "p_lot": request.lot,
            "p_expiry": expiry,
            "p_quantity": request.quantity,
            "p_now": dt.datetime.now(dt.UTC),
        },
    )


def post_movement(
    session: Session,
    request: MovementRequest,
    *,
    expiry: dt.date | None = None,
    order_id: int | None = None,
    order_line_id: int | None = None,
    user_id: int | None = None,
    scan_id: str | None = None,
) -> int:
    """Record one movement and update the stock totals it touches; return the movement id."""
    check_movement(request)
    source, target = request.from_location_id, request.to_location_id
    # Touch the two stock rows in location order, so that two opposite transfers
    # running at once lock them in the same order and cannot deadlock on PostgreSQL.
    if source is not None and target is not None and target < source:
        _put(session, request, expiry)
        _take(session, request)
    else:
        if source is not None:
            _take(session, request)
        if target is not None:
            _put(session, request, expiry)
    result = _run(
        session,
        _INSERT_MOVEMENT,
        {
            "p_kind": request.kind,
            "p_item": request.item_id,
            "p_lot": request.lot,
            "p_expiry": expiry,
            "p_quantity": request.quantity,
            "p_from": source,
            "p_to": target,
            "p_reason": request.reason,
            "p_order": order_id,
            "p_order_line": order_line_id,
            "p_user": user_id,
            "p_scan": scan_id,
            "p_now": dt.datetime.now(dt.UTC),
        },
    )
    return int(result.scalar_one())


def reserve(
    session: Session,
    order_line_id: int,
    stock_id: int,
    quantity: int,
    unit: HandlingUnit = HandlingUnit.EACH,
) -> int:
    """Hold ``quantity`` of one stock row for an order line; return the reservation id."""
    if quantity <= 0:
        raise InvalidInput("a reservation needs a quantity of at least 1", quantity=quantity)
    result = _execute(session, _RESERVE, {"p_stock": stock_id, "p_quantity": quantity})
    if _rowcount(result) != 1:
        row = _execute(
            session, select(_stock.c.on_hand, _stock.c.reserved).where(_stock.c.id == stock_id)
        ).first()
        if row is None:
            raise NotFound(f"stock {stock_id} does not exist", stock_id=stock_id)
        raise InsufficientStock(
            f"only {row.on_hand - row.reserved} free to reserve; {quantity} asked",
            free=row.on_hand - row.reserved,
            requested=quantity,
        )
    _execute(session, _ALLOCATE_LINE, {"p_line": order_line_id, "p_quantity": quantity})
    inserted = _execute(
        session,
        _INSERT_RESERVATION,
        {
            "p_line": order_line_id,
            "p_stock": stock_id,
            "p_quantity": quantity,
            "p_unit": unit,
            "p_now": dt.datetime.now(dt.UTC),
        },
    )
    return int(inserted.scalar_one())


def release(session: Session, reservation_id: int) -> None:
    """Give back the stock an open reservation holds (order cancelled or changed)."""
    reservation = session.get(Reservation, reservation_id, with_for_update=True)
    if reservation is None:
        raise NotFound(f"reservation {reservation_id} does not exist")
    if reservation.status is not ReservationStatus.OPEN:
        return
    _execute(
        session, _UNRESERVE, {"p_stock": reservation.stock_id, "p_quantity": reservation.quantity}
    )
    _execute(
        session,
        _ALLOCATE_LINE,
        {"p_line": reservation.order_line_id, "p_quantity": -reservation.quantity},
    )
    reservation.status = ReservationStatus.RELEASED


def release_part(
    session: Session, reservation_id: int, quantity: int, *, picked_before: int = 0
) -> None:
    """Give back part of an open reservation (a short pick); the rest stays held."""
    reservation = session.get(Reservation, reservation_id, with_for_update=True)
    if reservation is None:
        raise NotFound(f"reservation {reservation_id} does not exist")
    if reservation.status is not ReservationStatus.OPEN or quantity <= 0:
        return
    quantity = min(quantity, reservation.quantity)
    _execute(session, _UNRESERVE, {"p_stock": reservation.stock_id, "p_quantity": quantity})
    _execute(
        session, _ALLOCATE_LINE, {"p_line": reservation.order_line_id, "p_quantity": -quantity}
    )
    if quantity < reservation.quantity:
        reservation.quantity -= quantity
    elif picked_before:
        # Nothing left to pick: it ends as what was picked from it.
        reservation.quantity = picked_before
        reservation.status = ReservationStatus.PICKED
    else:
        reservation.status = ReservationStatus.RELEASED


def hold(session: Session, stock_id: int, quantity: int) -> None:
    """Reserve ``quantity`` more of a stock row for reservations moved onto it."""
    result = _execute(session, _RESERVE, {"p_stock": stock_id, "p_quantity": quantity})
    if _rowcount(result) != 1:
        raise InsufficientStock(
            f"stock {stock_id} cannot hold {quantity} more reserved", requested=quantity
        )


def receive(
    session: Session,
    *,
    item_id: int,
    location_id: int,
    quantity: int,
    lot: str = "",
    expiry: dt.date | None = None,
    user_id: int | None = None,
) -> int:
    """Book goods in at a location (a receipt movement)."""
    return post_movement(
        session,
        MovementRequest(
            MovementKind.RECEIPT, item_id, quantity, to_location_id=location_id, lot=lot
        ),
        expiry=expiry,
        user_id=user_id,
    )


def ledger_totals(session: Session) -> dict[tuple[int, int, str], int]:
    """What the movements add up to, per (location, item, lot)."""
    totals: dict[tuple[int, int, str], int] = defaultdict(int)
    for column, sign in ((_movement.c.to_location_id, 1), (_movement.c.from_location_id, -1)):
        rows = _execute(
            session,
            select(column, _movement.c.item_id, _movement.c.lot, func.sum(_movement.c.quantity))
            .where(column.is_not(None))
            .group_by(column, _movement.c.item_id, _movement.c.lot),
        )
        for location_id, item_id, lot, total in rows:
            totals[(location_id, item_id, lot)] += sign * int(total)
    return totals


def verify_ledger(session: Session) -> list[LedgerMismatch]:
    """Every stock row whose on-hand differs from its ledger total (empty when consistent)."""
    totals = ledger_totals(session)
    mismatches = []
    seen = set()
    for row in _execute(
        session, select(_stock.c.location_id, _stock.c.item_id, _stock.c.lot, _stock.c.on_hand)
    ):
        key = (row.location_id, row.item_id, row.lot)
        seen.add(key)
        if totals.get(key, 0) != row.on_hand:
            mismatches.append(LedgerMismatch(*key, row.on_hand, totals.get(key, 0)))
    for key, total in totals.items():
        if key not in seen and total != 0:
            mismatches.append(LedgerMismatch(*key, 0, total))
    return mismatches
