"""Supervisor use cases with no home elsewhere: hold a wave, resolve a floor exception.

The dashboard's other actions call the existing use cases (release a wave, expedite or cancel
an order, reassign a batch); ``web/api/actions.py`` writes every one to the audit log.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from wms.allocation import allocate_line
from wms.db import ledger
from wms.db.schema import FloorException, Order, OrderLine, Stock, Wave
from wms.errors import Conflict, InvalidInput, NotFound
from wms.ledger import MovementRequest
from wms.model import ExceptionStatus, MovementKind, OrderStatus, WaveStatus
from wms.release import ReleaseOptions, hold_order, release_orders

# Orders that can still get new pick tasks for a re-allocated remainder.
STILL_PICKING = (
    OrderStatus.RELEASED,
    OrderStatus.PICKING,
    OrderStatus.PICKED,
    OrderStatus.ALLOCATED,
    OrderStatus.PARTLY_ALLOCATED,
    OrderStatus.BACKORDERED,
)


class Resolution(StrEnum):
    """How a supervisor closes a floor exception."""

    REALLOCATE = "reallocate"  # try again to find the missing units elsewhere, and pick them
    BACKORDER = "backorder"  # the missing units wait for stock; the order goes on without them
    ADJUST_STOCK = "adjust_stock"  # the count at the location was wrong: correct it, with a reason


@dataclass(frozen=True, slots=True)
class Resolved:
    """What resolving an exception did."""

    exception_id: int
    resolution: Resolution
    reallocated: int = 0
    tasks: int = 0
    adjusted: int = 0


def hold_wave(session: Session, code: str) -> list[str]:
    """Hold back a planned wave with its orders (they stay in it); return their numbers.

    Releasing the wave later lifts the holds and releases it whole; lifting one order's hold
    takes that order out of the held wave, to be planned again.
    """
    wave = session.scalar(select(Wave).where(Wave.code == code))
    if wave is None:
        raise NotFound(f"wave {code!r} does not exist", wave=code)
    if wave.status is not WaveStatus.PLANNED:
        raise Conflict(
            f"wave {code} is already {wave.status.value}; only a planned wave can be held",
            wave=code,
        )
    orders = session.scalars(
        select(Order).where(Order.wave_id == wave.id, Order.held.is_(False)).order_by(Order.id)
    ).all()
    for order in orders:
        hold_order(session, order, True, keep_wave=True)
    wave.status = WaveStatus.HELD
    return [order.number for order in orders]


def resolve_exception(
    session: Session,
    exception_id: int,
    resolution: Resolution,
    *,
    user_id: int | None,
    reason: str = "",
    counted: int | None = None,
    options: ReleaseOptions | None = None,
    now: dt.datetime | None = None,
) -> Resolved:
    """Close an open exception the way the supervisor decided.

    ``adjust_stock`` needs ``counted``: the units really at the exception's location now,
    and a ``reason``; the difference with the ledger becomes an adjustment movement.
    """
    now = now or dt.datetime.now(dt.UTC)
    exception = session.get(FloorException, exception_id, with_for_update=True)
    if exception is None:
        raise NotFound(f"floor exception {exception_id} does not exist", exception=exception_id)
    if exception.status is not ExceptionStatus.OPEN:
        raise Conflict(f"floor exception {exception_id} is already resolved")
    reallocated = tasks = adjusted = 0
    if resolution is Resolution.REALLOCATE:
        reallocated, tasks = _reallocate(session, exception, options, now)
    elif resolution is Resolution.ADJUST_STOCK:
        adjusted = _adjust(session, exception, counted, reason, user_id)
    exception.status = ExceptionStatus.RESOLVED
    exception.outcome = resolution.value
    exception.resolved_at = now
    exception.resolved_by = user_id
    if reason.strip():
        exception.detail = f"{exception.detail}; {resolution.value}: {reason.strip()}"[:300]
    return Resolved(exception.id, resolution, reallocated, tasks, adjusted)


def _reallocate(
    session: Session,
    exception: FloorException,
    options: ReleaseOptions | None,
    now: dt.datetime,
) -> tuple[int, int]:
    if exception.order_line_id is None or exception.order_id is None:
        raise InvalidInput("this exception is not about an order line; nothing to re-allocate")
    order = session.get_one(Order, exception.order_id)
    if order.status not in STILL_PICKING:
        raise Conflict(f"order {order.number} is {order.status.value}; it cannot take more picks")
    line = session.get_one(OrderLine, exception.order_line_id)
    before = line.allocated_quantity
    # Not from the location the picker found short: adjust its stock first if it was a miscount.
    away = frozenset({exception.location_id}) if exception.location_id else frozenset()
    allocate_line(session, order, line, today=now.date(), exclude_location_ids=away)
    reallocated = line.allocated_quantity - before
    if not reallocated:
        raise Conflict(
            f"no free stock of this item for order {order.number}; backorder it or adjust stock"
        )
    result = release_orders(session, [order], options=options, now=now)
    return reallocated, result.tasks


def _adjust(
    session: Session,
    exception: FloorException,
    counted: int | None,
    reason: str,
    user_id: int | None,
) -> int:
    if exception.location_id is None or exception.item_id is None:
        raise InvalidInput("this exception names no location and item; nothing to count")
    if counted is None or counted < 0:
        raise InvalidInput("give the units counted at the location (0 or more)")
    if not reason.strip():
        raise InvalidInput("a stock adjustment needs a reason")
    stocks = session.scalars(
        select(Stock).where(
            Stock.location_id == exception.location_id, Stock.item_id == exception.item_id
        )
    ).all()
    on_hand = sum(s.on_hand for s in stocks)
    lot = stocks[0].lot if len(stocks) == 1 else ""
    difference = counted - on_hand
    if difference == 0:
        return 0
    request = MovementRequest(
        MovementKind.ADJUSTMENT,
        exception.item_id,
        abs(difference),
        from_location_id=exception.location_id if difference < 0 else None,
        to_location_id=exception.location_id if difference > 0 else None,
        lot=lot,
        reason=f"count after exception {exception.id}: {reason.strip()}"[:200],
    )
    ledger.post_movement(session, request, order_id=exception.order_id, user_id=user_id)
    return difference
