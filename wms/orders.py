"""Use cases for customer orders: intake with validation, status changes and history."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from wms.db.schema import Customer, Item, Order, OrderEvent, OrderLine
from wms.errors import Conflict, InvalidInput, NotFound
from wms.model import OrderKind, OrderStatus


@dataclass(frozen=True, slots=True)
class NewOrderLine:
    """One line of an incoming order."""

    sku: str
    quantity: int


@dataclass(frozen=True, slots=True)
class NewOrder:
    """An order as it arrives from the webshop, the ERP or a CSV file."""

    number: str
    kind: OrderKind
    lines: Sequence[NewOrderLine]
    customer: str | None = None
    ship_to_name: str = ""
    ship_to_address: str = ""
    ship_to_postcode: str = ""
    ship_to_city: str = ""
    ship_to_country: str = ""
    priority: int = 0
    cut_off: dt.datetime | None = None
    carrier: str = ""
    service: str = ""
    delivery_window_start: dt.datetime | None = None
    delivery_window_end: dt.datetime | None = None
    dock: str | None = None
    label_requirements: dict[str, Any] = field(default_factory=dict)


def _check(new: NewOrder) -> None:
    if not new.number.strip():
        raise InvalidInput("an order needs a number", field="number")
    if not new.lines:
        raise InvalidInput(f"order {new.number} has no lines", field="lines")
    for index, line in enumerate(new.lines, start=1):
        quantity = line.quantity
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
            raise InvalidInput(
                f"order {new.number}, line {index} ({line.sku}): quantity {quantity!r} "
                "must be a whole number of at least 1",
                field=f"lines[{index}].quantity",
                value=quantity,
            )
    start, end = new.delivery_window_start, new.delivery_window_end
    if start is not None and end is not None and start > end:
        raise InvalidInput(
            f"order {new.number}: delivery window starts after it ends",
            field="delivery_window_start",
        )
    if not -100 <= new.priority <= 100:
        raise InvalidInput(f"order {new.number}: priority must be -100..100", field="priority")


def create_order(
    session: Session, new: NewOrder, items_by_sku: dict[str, int] | None = None
) -> Order:
    """Record a new order, whole or not at all; unknown SKUs and duplicates are refused."""
    _check(new)
    if session.scalar(select(Order.id).where(Order.number == new.number)) is not None:
        raise Conflict(f"order {new.number} already exists", number=new.number)
    skus = {line.sku for line in new.lines}
    if items_by_sku is None or not skus <= items_by_sku.keys():
        found = {
            sku: item_id
            for sku, item_id in session.execute(select(Item.sku, Item.id).where(Item.sku.in_(skus)))
        }
        items_by_sku = {**(items_by_sku or {}), **found}
    unknown = sorted(skus - items_by_sku.keys())
    if unknown:
        raise InvalidInput(
            f"order {new.number}: unknown SKU {', '.join(unknown)}; create the item first",
            field="lines",
            unknown_skus=unknown,
        )
    customer_id = None
    if new.customer:
        customer_id = session.scalar(select(Customer.id).where(Customer.code == new.customer))
        if customer_id is None:
            raise InvalidInput(
                f"order {new.number}: customer {new.customer!r} does not exist",
                field="customer",
            )
    now = dt.datetime.now(dt.UTC)
    order = Order(
        number=new.number,
        kind=new.kind,
        customer_id=customer_id,
        ship_to_name=new.ship_to_name,
        ship_to_address=new.ship_to_address,
        ship_to_postcode=new.ship_to_postcode,
        ship_to_city=new.ship_to_city,
        ship_to_country=new.ship_to_country,
        priority=new.priority,
        cut_off=new.cut_off,
        carrier=new.carrier,
        service=new.service,
        delivery_window_start=new.delivery_window_start,
        delivery_window_end=new.delivery_window_end,
        dock=new.dock,
        label_requirements=dict(new.label_requirements),
        status=OrderStatus.RECEIVED,
        created_at=now,
        updated_at=now,
        lines=[
            OrderLine(line_no=i, item_id=items_by_sku[line.sku], quantity=line.quantity)
            for i, line in enumerate(new.lines, start=1)
        ],
    )
    session.add(order)
    session.flush()
    session.add(OrderEvent(order_id=order.id, status=OrderStatus.RECEIVED, at=now))
    return order


def order_by_number(session: Session, number: str) -> Order:
    """The order with ``number`` or :class:`NotFound`."""
    order = session.scalar(select(Order).where(Order.number == number))
    if order is None:
        raise NotFound(f"order {number!r} does not exist", number=number)
    return order


def set_status(session: Session, order: Order, status: OrderStatus, detail: str = "") -> None:
    """Move an order to ``status`` and record the step in its history."""
    now = dt.datetime.now(dt.UTC)
    order.status = status
    order.updated_at = now
    session.add(OrderEvent(order_id=order.id, status=status, detail=detail, at=now))
