"""Orders: intake confirmed at once with its allocation, changes, status and history."""

from __future__ import annotations

from typing import Any

from flask import url_for
from marshmallow import Schema, fields, validate
from sqlalchemy import Select, select
from sqlalchemy.orm import Session, joinedload, selectinload
from webargs.fields import DelimitedList

from web.api.common import (
    MAX_INT,
    ORDER_WRITERS,
    READERS,
    Instant,
    JsonObject,
    PageArgs,
    PageSchema,
    Text,
    allow,
    api_blueprint,
    clash_is_conflict,
    count,
    limit_page,
    page_info,
    reads_json,
    utc,
)
from web.api.flow import (
    SUPERVISORS,
    NoFieldsSchema,
    ReleaseResultSchema,
    optional_json,
    permit,
    release_options,
    release_out,
)
from web.extensions import get_db
from wms.allocation import OrderAllocation, allocate_order
from wms.db.schema import Customer, Order, OrderEvent, OrderLine
from wms.errors import Conflict
from wms.model import OrderKind, OrderStatus
from wms.orders import NewOrder, NewOrderLine, create_order, order_by_number
from wms.picks import cancel_order, change_line_quantity
from wms.release import expedite_order, hold_order

# Before release: allocation may be retried, lines changed, the order held.
BEFORE_RELEASE = (
    OrderStatus.RECEIVED,
    OrderStatus.ALLOCATED,
    OrderStatus.PARTLY_ALLOCATED,
    OrderStatus.BACKORDERED,
)
# Nothing is left to hurry once an order is picked, packed, shipped or cancelled.
DONE_WITH = (OrderStatus.PICKED, OrderStatus.PACKED, OrderStatus.SHIPPED, OrderStatus.CANCELLED)

blp = api_blueprint(
    "Orders",
    __name__,
    "/api/v1/orders",
    "Customer orders: create them (confirmed at once with the allocation of each line), "
    "change, hold, expedite or cancel them, follow their status and history.",
)


# --- input --------------------------------------------------------------------------------


class LineInSchema(Schema):
    """One line of an order to create."""

    sku = Text(
        required=True,
        validate=validate.Length(min=1, max=40),
        metadata={"description": "SKU of an existing item"},
    )
    quantity = fields.Integer(
        strict=True,
        required=True,
        validate=validate.Range(min=1, max=MAX_INT),
        metadata={"description": "Units ordered, at least 1"},
    )


class ShipToSchema(Schema):
    """Where the order goes."""

    name = Text(load_default="", validate=validate.Length(max=120))
    address = Text(load_default="", validate=validate.Length(max=2000))
    postcode = Text(load_default="", validate=validate.Length(max=16))
    city = Text(load_default="", validate=validate.Length(max=80))
    country = Text(
        load_default="",
        validate=validate.Regexp(
            r"^([A-Za-z]{2})?$", error="Use the two-letter ISO 3166 country code, e.g. 'BE'."
        ),
        metadata={"description": "ISO 3166-1 alpha-2 code"},
    )


class WindowSchema(Schema):
    """A B2B delivery slot; either end may be open."""

    start = Instant(load_default=None, allow_none=True)
    end = Instant(load_default=None, allow_none=True)


class OrderInSchema(Schema):
    """An order to create; it is recorded whole or not at all."""

    number = Text(
        required=True,
        validate=validate.Length(min=1, max=40),
        metadata={"description": "Your order number; unique", "example": "WEB-100234"},
    )
    kind = fields.Enum(OrderKind, by_value=True, required=True)
    customer = Text(
        load_default=None,
        allow_none=True,
        validate=validate.Length(min=1, max=32),
        metadata={"description": "Code of a known B2B customer or channel"},
    )
    ship_to = fields.Nested(ShipToSchema, load_default=lambda: ShipToSchema().load({}))
    priority = fields.Integer(
        strict=True,
        load_default=0,
        validate=validate.Range(min=-100, max=100),
        metadata={"description": "Higher goes first, -100 to 100"},
    )
    cut_off = Instant(
        load_default=None,
        allow_none=True,
        metadata={"description": "When it must leave the building (ISO 8601; UTC if no offset)"},
    )
    carrier = Text(load_default="", validate=validate.Length(max=40))
    service = Text(load_default="", validate=validate.Length(max=40))
    delivery_window = fields.Nested(WindowSchema, load_default=None, allow_none=True)
    dock = Text(load_default=None, allow_none=True, validate=validate.Length(min=1, max=32))
    label_requirements = JsonObject(
        load_default=dict,
        metadata={"description": 'Customer labelling rules, e.g. {"sscc": true}'},
    )
    lines = fields.List(fields.Nested(LineInSchema), required=True)


class OrderListArgs(PageArgs):
    """Filters of the order list."""

    status = DelimitedList(
        fields.Enum(OrderStatus, by_value=True),
        metadata={"description": "One status or several, comma-separated"},
    )
    kind = fields.Enum(OrderKind, by_value=True)
    customer = Text(metadata={"description": "Customer code"})
    carrier = Text()
    cut_off_after = Instant(metadata={"description": "Cut-off at or after this instant"})
    cut_off_before = Instant(metadata={"description": "Cut-off strictly before this instant"})


# --- output -------------------------------------------------------------------------------


class LineSchema(Schema):
    """One line of an order and how far it has got."""

    line_no = fields.Integer(required=True)
    sku = fields.String(required=True)
    quantity = fields.Integer(required=True)
    allocated_quantity = fields.Integer(required=True)
    picked_quantity = fields.Integer(required=True)


class ShipToOutSchema(Schema):
    """Where the order goes."""

    name = fields.String()
    address = fields.String()
    postcode = fields.String()
    city = fields.String()
    country = fields.String()


class WindowOutSchema(Schema):
    """A B2B delivery slot."""

    start = fields.DateTime(format="iso", allow_none=True)
    end = fields.DateTime(format="iso", allow_none=True)


class EventSchema(Schema):
    """A step in an order's life."""

    status = fields.Enum(OrderStatus, by_value=True, required=True)
    detail = fields.String()
    at = fields.DateTime(format="iso", required=True)


class OrderSchema(Schema):
    """An order as the API answers it in lists."""

    number = fields.String(required=True)
    kind = fields.Enum(OrderKind, by_value=True, required=True)
    status = fields.Enum(OrderStatus, by_value=True, required=True)
    held = fields.Boolean(metadata={"description": "Held back from release by a supervisor"})
    customer = fields.String(allow_none=True, metadata={"description": "Customer code"})
    ship_to = fields.Nested(ShipToOutSchema)
    priority = fields.Integer()
    cut_off = fields.DateTime(format="iso", allow_none=True)
    carrier = fields.String()
    service = fields.String()
    delivery_window = fields.Nested(WindowOutSchema, allow_none=True)
    dock = fields.String(allow_none=True)
    label_requirements = fields.Dict()
    lines = fields.List(fields.Nested(LineSchema))
    created_at = fields.DateTime(format="iso")
    updated_at = fields.DateTime(format="iso")


class OrderDetailSchema(OrderSchema):
    """One order with its history, oldest step first."""

    history = fields.List(fields.Nested(EventSchema))


class LineAllocationSchema(Schema):
    """What allocation did for one line."""

    line_no = fields.Integer(required=True)
    sku = fields.String(required=True)
    quantity = fields.Integer(required=True, metadata={"description": "Units ordered"})
    allocated = fields.Integer(
        required=True, metadata={"description": "Units reserved (or already picked)"}
    )
    status = fields.String(
        required=True,
        validate=validate.OneOf(["allocated", "partly_allocated", "backordered"]),
        metadata={"description": "allocated, partly_allocated or backordered"},
    )
    reason = fields.String(
        required=True,
        metadata={
            "description": "Why not all could be reserved ('' when allocated), e.g. "
            "'not enough free stock', 'only expired lots in stock'"
        },
    )


class AllocationSchema(Schema):
    """What allocation did for an order: its status and each line."""

    status = fields.Enum(OrderStatus, by_value=True, required=True)
    lines = fields.List(fields.Nested(LineAllocationSchema), required=True)


class OrderAllocatedSchema(OrderDetailSchema):
    """An order with the allocation result of each of its lines."""

    allocation = fields.Nested(AllocationSchema, required=True)


class OrderCancelledSchema(OrderDetailSchema):
    """A cancelled order and the stock its cancellation gave back."""

    released_units = fields.Integer(
        required=True, metadata={"description": "Reserved units given back to stock"}
    )


class OrderExpeditedSchema(OrderDetailSchema):
    """An expedited order and the pick work released for it at once (zeros if none)."""

    release = fields.Nested(ReleaseResultSchema, required=True)


class OrderPageSchema(PageSchema):
    """One page of orders."""

    items = fields.List(fields.Nested(OrderSchema), required=True)


def order_out(order: Order) -> dict[str, Any]:
    """An order with its lines as the API answers it (lines, items, customer eager-loaded)."""
    start, end = utc(order.delivery_window_start), utc(order.delivery_window_end)
    return {
        "number": order.number,
        "kind": order.kind,
        "status": order.status,
        "held": order.held,
        "customer": order.customer.code if order.customer else None,
        "ship_to": {
            "name": order.ship_to_name,
            "address": order.ship_to_address,
            "postcode": order.ship_to_postcode,
            "city": order.ship_to_city,
            "country": order.ship_to_country,
        },
        "priority": order.priority,
        "cut_off": utc(order.cut_off),
        "carrier": order.carrier,
        "service": order.service,
        "delivery_window": {"start": start, "end": end} if start or end else None,
        "dock": order.dock,
        "label_requirements": order.label_requirements or {},
        "lines": [
            {
                "line_no": line.line_no,
                "sku": line.item.sku,
                "quantity": line.quantity,
                "allocated_quantity": line.allocated_quantity,
                "picked_quantity": line.picked_quantity,
            }
            for line in order.lines
        ],
        "created_at": utc(order.created_at),
        "updated_at": utc(order.updated_at),
    }


_EAGER = (
    joinedload(Order.customer),
    selectinload(Order.lines).joinedload(OrderLine.item),
)


def _detail(session: Session, number: str, *, fresh: bool = False) -> dict[str, Any]:
    """One order with lines and history, read in a fixed number of queries."""
    order_id = order_by_number(session, number).id
    order = session.scalars(
        select(Order)
        .where(Order.id == order_id)
        .options(*_EAGER)
        .execution_options(populate_existing=fresh)
    ).one()
    events = session.scalars(
        select(OrderEvent)
        .where(OrderEvent.order_id == order_id)
        .order_by(OrderEvent.at, OrderEvent.id)
    ).all()
    return {
        **order_out(order),
        "history": [{"status": e.status, "detail": e.detail, "at": utc(e.at)} for e in events],
    }


def allocation_out(allocation: OrderAllocation) -> dict[str, Any]:
    """An allocation result as the API answers it."""
    return {
        "status": allocation.status,
        "lines": [
            {
                "line_no": line.line_no,
                "sku": line.sku,
                "quantity": line.quantity,
                "allocated": line.allocated,
                "status": line.status,
                "reason": line.reason,
            }
            for line in allocation.lines
        ],
    }


def _locked(session: Session, number: str) -> Order:
    """The order with ``number``, its row locked until the transaction ends (PostgreSQL)."""
    order = order_by_number(session, number)
    session.refresh(order, with_for_update=True)
    return order


def _filtered(args: dict[str, Any]) -> Select[Order]:
    query = select(Order)
    if args.get("status"):
        query = query.where(Order.status.in_(args["status"]))
    if args.get("kind"):
        query = query.where(Order.kind == args["kind"])
    if args.get("customer"):
        query = query.where(
            Order.customer_id.in_(select(Customer.id).where(Customer.code == args["customer"]))
        )
    if args.get("carrier"):
        query = query.where(Order.carrier == args["carrier"])
    if args.get("cut_off_after"):
        query = query.where(Order.cut_off >= utc(args["cut_off_after"]))
    if args.get("cut_off_before"):
        query = query.where(Order.cut_off < utc(args["cut_off_before"]))
    return query


def _new_order(body: dict[str, Any]) -> NewOrder:
    ship_to = body["ship_to"]
    window = body["delivery_window"] or {}
    return NewOrder(
        number=body["number"],
        kind=body["kind"],
        lines=[NewOrderLine(line["sku"], line["quantity"]) for line in body["lines"]],
        customer=body["customer"],
        ship_to_name=ship_to["name"],
        ship_to_address=ship_to["address"],
        ship_to_postcode=ship_to["postcode"],
        ship_to_city=ship_to["city"],
        ship_to_country=ship_to["country"].upper(),
        priority=body["priority"],
        cut_off=utc(body["cut_off"]),
        carrier=body["carrier"],
        service=body["service"],
        delivery_window_start=utc(window.get("start")),
        delivery_window_end=utc(window.get("end")),
        dock=body["dock"],
        label_requirements=body["label_requirements"],
    )


@blp.route("", methods=["GET"])
@allow(blp, *READERS)
@blp.arguments(OrderListArgs, location="query")
@blp.response(200, OrderPageSchema)
def list_orders(args: dict[str, Any]) -> dict[str, Any]:
    """List orders, most urgent cut-off first, with filters and paging."""
    with get_db().read() as session:
        query = _filtered(args)
        total = count(session, query)
        orders = session.scalars(
            limit_page(
                query.options(*_EAGER).order_by(
                    Order.cut_off.is_(None), Order.cut_off, Order.priority.desc(), Order.id
                ),
                args,
            )
        ).all()
        return {**page_info(args, total), "items": [order_out(o) for o in orders]}


@blp.route("", methods=["POST"])
@permit(blp, *ORDER_WRITERS)
@reads_json(blp, 409)
@blp.arguments(OrderInSchema)
@blp.response(201, OrderAllocatedSchema, headers={"Location": {"schema": {"type": "string"}}})
def create(body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Create an order, whole or not at all, and allocate it at once; its number must be new.

    The answer confirms the order with the allocation of each line: `allocated`,
    `partly_allocated` or `backordered`, and why. Order and reservations are recorded in one
    transaction: a refused order reserves nothing.
    """
    new = _new_order(body)
    with clash_is_conflict(f"order {new.number} already exists"), get_db().write() as session:
        order = create_order(session, new)
        session.flush()
        allocation = allocate_order(session, order)
        session.flush()
        payload = _detail(session, new.number, fresh=True)
    payload["allocation"] = allocation_out(allocation)
    return payload, {"Location": url_for("Orders.get_order", number=new.number)}


@blp.route("/<path:number>", methods=["GET"])
@permit(blp, *READERS)
@blp.alt_response(404, response="NOT_FOUND")
@blp.response(200, OrderDetailSchema)
def get_order(number: str) -> dict[str, Any]:
    """One order with its lines and its history."""
    with get_db().read() as session:
        return _detail(session, number)


# --- changes --------------------------------------------------------------------------------


class CancelInSchema(Schema):
    """Why the order is cancelled."""

    reason = Text(
        load_default="",
        validate=validate.Length(max=150),
        metadata={"description": "Recorded in the order's history"},
    )


class LineChangeSchema(Schema):
    """The new quantity of a line."""

    quantity = fields.Integer(
        strict=True,
        required=True,
        validate=validate.Range(min=1, max=MAX_INT),
        metadata={"description": "Units wanted, at least 1 (cancel the order to drop it all)"},
    )


@blp.route("/<path:number>/cancel", methods=["POST"])
@permit(blp, *ORDER_WRITERS)
@blp.alt_response(404, response="NOT_FOUND")
@optional_json(blp, 409)
@blp.arguments(CancelInSchema, required=False)
@blp.response(200, OrderCancelledSchema)
def cancel(body: dict[str, Any], number: str) -> dict[str, Any]:
    """Cancel an order not yet packed: open pick tasks are cancelled, reserved stock given back.

    Units already picked stay in their tote; the history says how many must be put back.
    A packed, shipped or cancelled order is a 409.
    """
    from web.publisher import push_handheld_snapshots
    from wms.handheld import pickers_of_orders

    with get_db().write() as session:
        order = _locked(session, number)
        pickers = pickers_of_orders(session, [order.id])
        freed = cancel_order(session, order, reason=body["reason"])
        session.flush()
        answer = {**_detail(session, number, fresh=True), "released_units": freed}
    push_handheld_snapshots(get_db(), pickers)  # their carts changed under them
    return answer


def _hold(number: str, held: bool) -> dict[str, Any]:
    with get_db().write() as session:
        order = _locked(session, number)
        if order.held is held:
            state = "already on hold" if held else "not on hold"
            raise Conflict(f"order {number} is {state}", number=number)
        hold_order(session, order, held)
        session.flush()
        return _detail(session, number, fresh=True)


@blp.route("/<path:number>/hold", methods=["POST"])
@permit(blp, *SUPERVISORS)
@blp.alt_response(404, response="NOT_FOUND")
@optional_json(blp, 409)
@blp.arguments(NoFieldsSchema, required=False)
@blp.response(200, OrderDetailSchema)
def hold(_body: dict[str, Any], number: str) -> dict[str, Any]:
    """Hold an order back from release (its reservations stay).

    Only before release; an order released, on hold already, or done with is a 409.
    """
    return _hold(number, True)


@blp.route("/<path:number>/unhold", methods=["POST"])
@permit(blp, *SUPERVISORS)
@blp.alt_response(404, response="NOT_FOUND")
@optional_json(blp, 409)
@blp.arguments(NoFieldsSchema, required=False)
@blp.response(200, OrderDetailSchema)
def unhold(_body: dict[str, Any], number: str) -> dict[str, Any]:
    """Let a held order be released again; one that is not on hold is a 409."""
    return _hold(number, False)


@blp.route("/<path:number>/expedite", methods=["POST"])
@permit(blp, *SUPERVISORS)
@blp.alt_response(404, response="NOT_FOUND")
@optional_json(blp, 409)
@blp.arguments(NoFieldsSchema, required=False)
@blp.response(200, OrderExpeditedSchema)
def expedite(_body: dict[str, Any], number: str) -> dict[str, Any]:
    """Put an order first: top priority, a hold lifted, and released at once if allocated.

    An order already released moves its batches to the top. One picked, packed, shipped or
    cancelled is a 409.
    """
    clash = clash_is_conflict(f"order {number} clashed with another release; expedite it again")
    with clash, get_db().write() as session:
        order = _locked(session, number)
        if order.status in DONE_WITH:
            raise Conflict(
                f"order {number} is {order.status.value}; there is nothing left to expedite",
                number=number,
            )
        result = expedite_order(session, order, options=release_options())
        session.flush()
        return {**_detail(session, number, fresh=True), "release": release_out(session, result)}


def _before_release(order: Order, what: str) -> None:
    if order.status not in BEFORE_RELEASE:
        raise Conflict(
            f"order {order.number} is {order.status.value}; {what} only before release",
            number=order.number,
            status=order.status.value,
        )


@blp.route("/<path:number>/lines/<int:line_no>", methods=["PATCH"])
@permit(blp, *ORDER_WRITERS)
@blp.alt_response(404, response="NOT_FOUND")
@reads_json(blp, 409)
@blp.arguments(LineChangeSchema)
@blp.response(200, OrderAllocatedSchema)
def change_line(body: dict[str, Any], number: str, line_no: int) -> dict[str, Any]:
    """Change the quantity of a line before release; its reservations are done again.

    Answers the order with its new allocation (other lines short of stock are tried again
    too). A released order is a 409; an unknown line a 404.
    """
    with get_db().write() as session:
        order = _locked(session, number)
        _before_release(order, "lines change")
        change_line_quantity(session, order, line_no, body["quantity"])
        allocation = allocate_order(session, order)
        session.flush()
        return {**_detail(session, number, fresh=True), "allocation": allocation_out(allocation)}


@blp.route("/<path:number>/allocate", methods=["POST"])
@permit(blp, *SUPERVISORS)
@blp.alt_response(404, response="NOT_FOUND")
@optional_json(blp, 409)
@blp.arguments(NoFieldsSchema, required=False)
@blp.response(200, OrderAllocatedSchema)
def allocate(_body: dict[str, Any], number: str) -> dict[str, Any]:
    """Try again to reserve stock for the backordered and partly allocated lines of an order.

    Only before release (after release a short pick re-allocates by itself); a released,
    picked, packed, shipped or cancelled order is a 409.
    """
    with get_db().write() as session:
        order = _locked(session, number)
        _before_release(order, "allocation is retried")
        allocation = allocate_order(session, order)
        session.flush()
        return {**_detail(session, number, fresh=True), "allocation": allocation_out(allocation)}
