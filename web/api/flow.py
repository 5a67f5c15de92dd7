"""The order flow on the floor: waves and continuous release, pick batches, tasks, replenishment."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Sequence
from functools import wraps
from typing import Any, TypeVar, cast

from flask import request
from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, aliased
from webargs.fields import DelimitedList

from web.api.common import (
    MAX_INT,
    ORDER_WRITERS,
    READERS,
    PageArgs,
    PageSchema,
    Text,
    _check_json_body,
    allow,
    api_blueprint,
    clash_is_conflict,
    count,
    limit_page,
    page_info,
    reads_json,
    utc,
)
from web.extensions import get_db, get_settings
from wms.db.schema import (
    BatchOrder,
    FloorException,
    Item,
    Location,
    Order,
    OrderLine,
    PickBatch,
    PickTask,
    ReplenishmentTask,
    User,
    Wave,
    Zone,
)
from wms.errors import NotFound
from wms.model import (
    BatchKind,
    BatchStatus,
    ExceptionKind,
    ExceptionStatus,
    HandlingUnit,
    OrderStatus,
    Role,
    TaskKind,
    TaskStatus,
    WaveStatus,
)
from wms.picks import complete_replenishment, confirm_pick, report_short
from wms.release import (
    ReleaseOptions,
    ReleaseResult,
    plan_waves,
    release_continuous,
    release_wave,
)

F = TypeVar("F", bound=Callable[..., Any])

SUPERVISORS = (Role.SUPERVISOR,)
# Integrations (and supervisors) confirm work until the handhelds' Socket.IO channel exists.
FLOOR_WRITERS = ORDER_WRITERS
SHORT_KINDS = (ExceptionKind.SHORT_PICK, ExceptionKind.DAMAGED, ExceptionKind.LOCATION_EMPTY)

release_blp = api_blueprint(
    "Release",
    __name__,
    "/api/v1",
    "Waves by cut-off, carrier and priority, released by a supervisor; and continuous "
    "(waveless) release within the work-in-progress limits of zones and pack stations.",
)
picking_blp = api_blueprint(
    "Picking",
    __name__,
    "/api/v1",
    "The work released orders became: routed pick batches and their tasks, replenishments "
    "that must run before the picks that wait for them, and floor exceptions.",
)
BLUEPRINTS: tuple[Blueprint, ...] = (release_blp, picking_blp)


def release_options() -> ReleaseOptions:
    """Cart size and one-way aisles from config.yaml's picking section."""
    picking = get_settings().picking
    return ReleaseOptions(
        totes_per_cart=picking.totes_per_cart,
        tote_max_units=picking.tote_max_units,
        one_way_aisles=picking.one_way_aisles,
    )


def optional_json(blp: Blueprint, *statuses: int) -> Callable[[F], F]:
    """Accept no body at all, or a JSON one (refused as usual when it is not JSON)."""

    def decorate(view: F) -> F:
        @wraps(view)
        def checked(*args: Any, **kwargs: Any) -> Any:
            if request.get_data(cache=True).strip():
                _check_json_body()
            return view(*args, **kwargs)

        guarded: Any = checked
        for status in (400, 415, *statuses):
            name = {400: "BAD_REQUEST", 409: "CONFLICT", 415: "UNSUPPORTED_MEDIA_TYPE"}[status]
            guarded = blp.alt_response(status, response=name)(guarded)
        return cast(F, guarded)

    return decorate


def permit(blp: Blueprint, *roles: Role) -> Callable[[F], F]:
    """Like :func:`allow`, keeping the docstring's explanation after the roles in the docs."""

    def decorate(view: F) -> F:
        guarded = allow(blp, *roles)(view)
        _summary, _blank, details = inspect.cleandoc(view.__doc__ or "").partition("\n\n")
        if not details:
            return guarded
        allowed = sorted({role.value for role in roles} | {Role.ADMIN.value})
        text = f"Roles: {', '.join(allowed)}.\n\n{details.strip()}"
        return cast(F, blp.doc(description=text)(guarded))

    return decorate


def _user_id() -> int:
    return int(current_user.id)


# --- release results ------------------------------------------------------------------------


class NoFieldsSchema(Schema):
    """No fields: the body may be left out, or be an empty JSON object."""


class ReleaseResultSchema(Schema):
    """What a release made."""

    wave = fields.String(
        allow_none=True,
        metadata={"description": "Wave the orders were released in (null for an expedite)"},
    )
    orders = fields.Integer(required=True, metadata={"description": "Orders released"})
    batches = fields.List(
        fields.String(), required=True, metadata={"description": "Codes of the new pick batches"}
    )
    tasks = fields.Integer(required=True, metadata={"description": "Pick tasks made"})
    replenishments = fields.Integer(
        required=True,
        metadata={"description": "Replenishments from reserve that must run before some picks"},
    )
    route_length_m = fields.Float(
        required=True, metadata={"description": "Walking distance of all new batches, metres"}
    )


def release_out(session: Session, result: ReleaseResult, wave: str | None = None) -> dict[str, Any]:
    """A :class:`ReleaseResult` as the API answers it, with the wave its batches belong to."""
    if wave is None and result.batches:
        wave = session.scalar(
            select(Wave.code)
            .join(PickBatch, PickBatch.wave_id == Wave.id)
            .where(PickBatch.code == result.batches[0])
        )
    return {
        "wave": wave,
        "orders": result.orders,
        "batches": list(result.batches),
        "tasks": result.tasks,
        "replenishments": result.replenishments,
        "route_length_m": result.route_length_m,
    }


# --- waves ----------------------------------------------------------------------------------


class WaveListArgs(PageArgs):
    """Filters of the wave list."""

    status = DelimitedList(
        fields.Enum(WaveStatus, by_value=True),
        metadata={"description": "One status or several, comma-separated"},
    )


class WaveSchema(Schema):
    """A wave: orders released together."""

    code = fields.String(required=True)
    status = fields.Enum(WaveStatus, by_value=True, required=True)
    cut_off = fields.DateTime(format="iso", allow_none=True)
    carrier = fields.String()
    priority = fields.Integer()
    orders = fields.Integer(required=True, metadata={"description": "Orders in the wave"})
    batches = fields.Integer(required=True, metadata={"description": "Pick batches made of it"})
    created_at = fields.DateTime(format="iso")
    released_at = fields.DateTime(format="iso", allow_none=True)
    released_by = fields.String(allow_none=True, metadata={"description": "Username"})


class WavePageSchema(PageSchema):
    """One page of waves."""

    items = fields.List(fields.Nested(WaveSchema), required=True)


class PlannedWavesSchema(Schema):
    """The waves just planned (none when no allocated order waits outside a wave)."""

    waves = fields.List(fields.Nested(WaveSchema), required=True)


def _counts(session: Session, column: Any, ids: Iterable[int], *where: Any) -> dict[int, int]:
    """Rows per value of a foreign-key ``column``, for ``ids`` (and ``where``), in one query."""
    ids = list(ids)
    if not ids:
        return {}
    rows = session.execute(
        select(column, func.count()).where(column.in_(ids), *where).group_by(column)
    )
    return {key: int(n) for key, n in rows}


def waves_out(session: Session, waves: Sequence[Wave]) -> list[dict[str, Any]]:
    """Waves as the API answers them, with their order and batch counts."""
    ids = [wave.id for wave in waves]
    orders = _counts(session, Order.wave_id, ids)
    batches = _counts(session, PickBatch.wave_id, ids)
    user_ids = {wave.released_by for wave in waves if wave.released_by is not None}
    users = (
        dict(session.execute(select(User.id, User.username).where(User.id.in_(user_ids))).all())
        if user_ids
        else {}
    )
    return [
        {
            "code": wave.code,
            "status": wave.status,
            "cut_off": utc(wave.cut_off),
            "carrier": wave.carrier,
            "priority": wave.priority,
            "orders": orders.get(wave.id, 0),
            "batches": batches.get(wave.id, 0),
            "created_at": utc(wave.created_at),
            "released_at": utc(wave.released_at),
            "released_by": users.get(wave.released_by) if wave.released_by else None,
        }
        for wave in waves
    ]


@release_blp.route("/waves", methods=["GET"])
@permit(release_blp, *READERS)
@release_blp.arguments(WaveListArgs, location="query")
@release_blp.response(200, WavePageSchema)
def list_waves(args: dict[str, Any]) -> dict[str, Any]:
    """List waves, newest first, with how many orders and batches each has."""
    with get_db().read() as session:
        query = select(Wave)
        if args.get("status"):
            query = query.where(Wave.status.in_(args["status"]))
        total = count(session, query)
        waves = session.scalars(
            limit_page(query.order_by(Wave.created_at.desc(), Wave.id.desc()), args)
        ).all()
        return {**page_info(args, total), "items": waves_out(session, waves)}


@release_blp.route("/waves/plan", methods=["POST"])
@permit(release_blp, *SUPERVISORS)
@optional_json(release_blp, 409)
@release_blp.arguments(NoFieldsSchema, required=False)
@release_blp.response(201, PlannedWavesSchema)
def plan(_body: dict[str, Any]) -> dict[str, Any]:
    """Group the allocated orders that are in no wave yet by cut-off, carrier and priority.

    Held orders stay out. The waves are only planned: release each one when it is time.
    """
    clash = clash_is_conflict("waves were being planned at the same moment; plan again")
    with clash, get_db().write() as session:
        waves = plan_waves(session)
        session.flush()
        return {"waves": waves_out(session, waves)}


@release_blp.route("/waves/<string:code>/release", methods=["POST"])
@permit(release_blp, *SUPERVISORS)
@release_blp.alt_response(404, response="NOT_FOUND")
@optional_json(release_blp, 409)
@release_blp.arguments(NoFieldsSchema, required=False)
@release_blp.response(200, ReleaseResultSchema)
def release(_body: dict[str, Any], code: str) -> dict[str, Any]:
    """Release a planned wave: its orders become routed pick batches and tasks.

    Held and cancelled orders of the wave are left out. A wave already released is a 409.
    """
    clash = clash_is_conflict(f"wave {code} clashed with another release; release it again")
    with clash, get_db().write() as session:
        result = release_wave(session, code, user_id=_user_id(), options=release_options())
        return release_out(session, result, code)


class ContinuousInSchema(Schema):
    """How much one pass of continuous release may take."""

    max_orders = fields.Integer(
        strict=True,
        load_default=500,
        validate=validate.Range(min=1, max=5000),
        metadata={"description": "Most orders released in this pass"},
    )


@release_blp.route("/release/continuous", methods=["POST"])
@permit(release_blp, *SUPERVISORS)
@optional_json(release_blp, 409)
@release_blp.arguments(ContinuousInSchema, required=False)
@release_blp.response(200, ReleaseResultSchema)
def continuous(body: dict[str, Any]) -> dict[str, Any]:
    """One pass of continuous (waveless) release: the most urgent orders, while there is room.

    A zone stops taking work at `picking.zone_wip_limit` open pick tasks (or the zone's own
    limit), and pack stations at `picking.pack_station_wip_limit` orders waiting, both from
    config.yaml; a flooded station slows the release instead of piling up totes. Orders in a
    planned wave and held orders are left out. Nothing to release answers zeros.
    """
    picking = get_settings().picking
    clash = clash_is_conflict("another release ran at the same moment; release again")
    with clash, get_db().write() as session:
        result = release_continuous(
            session,
            zone_wip_limit=picking.zone_wip_limit,
            pack_station_wip_limit=picking.pack_station_wip_limit,
            options=release_options(),
            max_orders=body["max_orders"],
        )
        return release_out(session, result)


# --- batches --------------------------------------------------------------------------------


class BatchListArgs(PageArgs):
    """Filters of the batch list."""

    status = DelimitedList(
        fields.Enum(BatchStatus, by_value=True),
        metadata={"description": "One status or several, comma-separated"},
    )
    zone = Text(metadata={"description": "Only batches in this zone (code)"})
    wave = Text(metadata={"description": "Only batches of this wave (code)"})


class BatchSchema(Schema):
    """A pick batch: one trip with a cart of totes (B2C), or one B2B order's picks."""

    code = fields.String(required=True)
    kind = fields.Enum(BatchKind, by_value=True, required=True)
    status = fields.Enum(BatchStatus, by_value=True, required=True)
    zone = fields.String(required=True, metadata={"description": "Zone code"})
    wave = fields.String(allow_none=True, metadata={"description": "Wave code"})
    picker = fields.String(allow_none=True, metadata={"description": "Username, once assigned"})
    totes = fields.Integer(metadata={"description": "Totes on the cart"})
    route_length_m = fields.Float(metadata={"description": "Walking distance of the route"})
    route_method = fields.String(metadata={"description": "Routing method that found it"})
    priority = fields.Integer()
    cut_off = fields.DateTime(format="iso", allow_none=True)
    order_count = fields.Integer(required=True, metadata={"description": "Orders in the batch"})
    task_count = fields.Integer(required=True, metadata={"description": "Pick tasks"})
    open_tasks = fields.Integer(required=True, metadata={"description": "Tasks still open"})
    created_at = fields.DateTime(format="iso")
    started_at = fields.DateTime(format="iso", allow_none=True)
    completed_at = fields.DateTime(format="iso", allow_none=True)


class BatchOrderSchema(Schema):
    """An order on the cart and its tote."""

    number = fields.String(required=True)
    status = fields.Enum(OrderStatus, by_value=True, required=True)
    tote_position = fields.Integer(required=True, metadata={"description": "Place on the cart"})
    tote_barcode = fields.String(allow_none=True, metadata={"description": "Once scanned"})


class TaskSchema(Schema):
    """One pick, in route order."""

    id = fields.Integer(required=True)
    sequence = fields.Integer(required=True, metadata={"description": "Place in the route"})
    kind = fields.Enum(TaskKind, by_value=True, metadata={"description": "Handheld or light"})
    status = fields.Enum(TaskStatus, by_value=True, required=True)
    location = fields.String(required=True, metadata={"description": "Location code"})
    sku = fields.String(required=True)
    item_name = fields.String()
    lot = fields.String(allow_none=True, metadata={"description": "null if not lot-tracked"})
    quantity = fields.Integer(required=True)
    picked_quantity = fields.Integer(required=True)
    unit = fields.Enum(HandlingUnit, by_value=True, metadata={"description": "Each, case, pallet"})
    tote = fields.Integer(required=True, metadata={"description": "Tote position on the cart"})
    order = fields.String(required=True, metadata={"description": "Order number"})
    line_no = fields.Integer(required=True)
    waits_for = fields.Integer(
        allow_none=True,
        metadata={"description": "Replenishment that must be done before this pick"},
    )
    done_at = fields.DateTime(format="iso", allow_none=True)


class BatchDetailSchema(BatchSchema):
    """A batch with its orders (tote positions) and its tasks in route order."""

    orders = fields.List(fields.Nested(BatchOrderSchema), required=True)
    tasks = fields.List(
        fields.Nested(TaskSchema), required=True, metadata={"description": "In route order"}
    )


class BatchPageSchema(PageSchema):
    """One page of batches."""

    items = fields.List(fields.Nested(BatchSchema), required=True)


_Picker = aliased(User)


def _batch_query() -> Select[PickBatch, str, str, str]:
    return (
        select(PickBatch, Zone.code, Wave.code, _Picker.username)
        .join(Zone, PickBatch.zone_id == Zone.id)
        .outerjoin(Wave, PickBatch.wave_id == Wave.id)
        .outerjoin(_Picker, PickBatch.picker_id == _Picker.id)
    )


def _batches_out(
    session: Session, rows: Sequence[tuple[PickBatch, str, str | None, str | None]]
) -> list[dict[str, Any]]:
    ids = [batch.id for batch, *_ in rows]
    orders = _counts(session, BatchOrder.batch_id, ids)
    tasks: dict[int, tuple[int, int]] = {}
    if ids:
        for batch_id, n, open_n in session.execute(
            select(
                PickTask.batch_id,
                func.count(),
                func.count().filter(PickTask.status == TaskStatus.OPEN),
            )
            .where(PickTask.batch_id.in_(ids))
            .group_by(PickTask.batch_id)
        ):
            tasks[batch_id] = (int(n), int(open_n))
    return [
        {
            "code": batch.code,
            "kind": batch.kind,
            "status": batch.status,
            "zone": zone,
            "wave": wave,
            "picker": picker,
            "totes": batch.totes,
            "route_length_m": batch.route_length_m,
            "route_method": batch.route_method,
            "priority": batch.priority,
            "cut_off": utc(batch.cut_off),
            "order_count": orders.get(batch.id, 0),
            "task_count": tasks.get(batch.id, (0, 0))[0],
            "open_tasks": tasks.get(batch.id, (0, 0))[1],
            "created_at": utc(batch.created_at),
            "started_at": utc(batch.started_at),
            "completed_at": utc(batch.completed_at),
        }
        for batch, zone, wave, picker in rows
    ]


@picking_blp.route("/batches", methods=["GET"])
@permit(picking_blp, *READERS)
@picking_blp.arguments(BatchListArgs, location="query")
@picking_blp.response(200, BatchPageSchema)
def list_batches(args: dict[str, Any]) -> dict[str, Any]:
    """List pick batches, most urgent first, with filters and paging."""
    with get_db().read() as session:
        query = _batch_query()
        if args.get("status"):
            query = query.where(PickBatch.status.in_(args["status"]))
        if args.get("zone"):
            query = query.where(Zone.code == args["zone"])
        if args.get("wave"):
            query = query.where(Wave.code == args["wave"])
        total = count(session, query)
        ordered = query.order_by(
            PickBatch.priority.desc(),
            PickBatch.cut_off.is_(None),
            PickBatch.cut_off,
            PickBatch.id,
        )
        rows = session.execute(limit_page(ordered, args)).all()
        return {**page_info(args, total), "items": _batches_out(session, rows)}


class ReassignInSchema(Schema):
    """Who takes the batch over."""

    picker = fields.String(
        required=True,
        allow_none=True,
        validate=validate.Length(min=1, max=40),
        metadata={"description": "Username of the picker, or null to put it back in the pool"},
    )


class ReassignedSchema(Schema):
    """The batch after the reassignment."""

    batch = fields.String(required=True)
    picker = fields.String(allow_none=True)


@picking_blp.route("/batches/<string:code>/reassign", methods=["POST"])
@permit(picking_blp, *SUPERVISORS)
@picking_blp.alt_response(404, response="NOT_FOUND")
@reads_json(picking_blp, 409)
@picking_blp.arguments(ReassignInSchema)
@picking_blp.response(200, ReassignedSchema)
def reassign_batch(body: dict[str, Any], code: str) -> dict[str, Any]:
    """Give a batch to another picker (or back to the pool); both handhelds update at once."""
    from web.publisher import push_handheld_snapshots
    from wms.db.schema import User
    from wms.handheld import reassign_batch as reassign

    username = body["picker"]
    with get_db().write() as session:
        picker_id = None
        if username is not None:
            picker_id = session.scalar(
                select(User.id).where(User.username == username, User.role == Role.PICKER)
            )
            if picker_id is None:
                raise NotFound(f"no picker has username {username!r}", picker=username)
        touched = reassign(session, code, picker_id)
    push_handheld_snapshots(get_db(), touched)
    return {"batch": code, "picker": username}


@picking_blp.route("/batches/<string:code>", methods=["GET"])
@permit(picking_blp, *READERS)
@picking_blp.alt_response(404, response="NOT_FOUND")
@picking_blp.response(200, BatchDetailSchema)
def get_batch(code: str) -> dict[str, Any]:
    """One batch with its orders (tote positions) and its tasks in route order."""
    with get_db().read() as session:
        row = session.execute(_batch_query().where(PickBatch.code == code)).first()
        if row is None:
            raise NotFound(f"batch {code!r} does not exist", batch=code)
        batch = row[0]
        orders = session.execute(
            select(Order.number, Order.status, BatchOrder.tote_position, BatchOrder.tote_barcode)
            .join(Order, BatchOrder.order_id == Order.id)
            .where(BatchOrder.batch_id == batch.id)
            .order_by(BatchOrder.tote_position, Order.number)
        ).all()
        tasks = session.execute(
            select(PickTask, Location.code, Item.sku, Item.name, Order.number, OrderLine.line_no)
            .join(Location, PickTask.location_id == Location.id)
            .join(Item, PickTask.item_id == Item.id)
            .join(Order, PickTask.order_id == Order.id)
            .join(OrderLine, PickTask.order_line_id == OrderLine.id)
            .where(PickTask.batch_id == batch.id)
            .order_by(PickTask.sequence, PickTask.id)
        ).all()
        return {
            **_batches_out(session, [row])[0],
            "orders": [
                {
                    "number": number,
                    "status": status,
                    "tote_position": tote,
                    "tote_barcode": barcode,
                }
                for number, status, tote, barcode in orders
            ],
            "tasks": [
                {
                    "id": task.id,
                    "sequence": task.sequence,
                    "kind": task.kind,
                    "status": task.status,
                    "location": location,
                    "sku": sku,
                    "item_name": name,
                    "lot": task.lot or None,
                    "quantity": task.quantity,
                    "picked_quantity": task.picked_quantity,
                    "unit": task.unit,
                    "tote": task.tote_position,
                    "order": number,
                    "line_no": line_no,
                    "waits_for": task.waits_for_id,
                    "done_at": utc(task.done_at),
                }
                for task, location, sku, name, number, line_no in tasks
            ],
        }


# --- tasks ----------------------------------------------------------------------------------


class ConfirmInSchema(Schema):
    """How many were picked: the task's whole remaining quantity."""

    quantity = fields.Integer(
        strict=True,
        required=True,
        validate=validate.Range(min=1, max=MAX_INT),
        metadata={"description": "Units put in the tote; must be what the task asks"},
    )


class ShortInSchema(Schema):
    """A pick that cannot be made in full."""

    found = fields.Integer(
        strict=True,
        required=True,
        validate=validate.Range(min=0, max=MAX_INT),
        metadata={"description": "Units found and put in the tote (fewer than asked)"},
    )
    kind = fields.String(
        load_default=ExceptionKind.SHORT_PICK.value,
        validate=validate.OneOf([kind.value for kind in SHORT_KINDS]),
        metadata={"description": "What was wrong"},
    )


class PickResultSchema(Schema):
    """What confirming a pick did."""

    task_id = fields.Integer(required=True)
    picked = fields.Integer(required=True)
    movement_id = fields.Integer(required=True, metadata={"description": "The ledger row"})
    task_done = fields.Boolean(required=True)
    order = fields.String(required=True, metadata={"description": "Order number"})
    order_status = fields.Enum(OrderStatus, by_value=True, required=True)
    batch_done = fields.Boolean(required=True)
    replenishment_id = fields.Integer(
        allow_none=True,
        metadata={"description": "Replenishment raised because the pick face fell below its min"},
    )


class ShortResultSchema(Schema):
    """What reporting a short pick did."""

    task_id = fields.Integer(required=True)
    picked = fields.Integer(required=True, metadata={"description": "Units found and picked"})
    missing = fields.Integer(required=True, metadata={"description": "Units not found"})
    reallocated = fields.Integer(
        required=True, metadata={"description": "Missing units reserved at another location"}
    )
    backordered = fields.Integer(
        required=True, metadata={"description": "Missing units that no stock could cover"}
    )
    exception_id = fields.Integer(required=True, metadata={"description": "For the supervisor"})
    order = fields.String(required=True, metadata={"description": "Order number"})
    order_status = fields.Enum(OrderStatus, by_value=True, required=True)
    release = fields.Nested(
        ReleaseResultSchema,
        allow_none=True,
        metadata={"description": "The new pick work for the re-allocated units, if any"},
    )


def _order_of_task(session: Session, task_id: int) -> tuple[str, OrderStatus]:
    number, status = session.execute(
        select(Order.number, Order.status)
        .join(PickTask, PickTask.order_id == Order.id)
        .where(PickTask.id == task_id)
    ).one()
    return number, status


@picking_blp.route("/tasks/<int:task_id>/confirm", methods=["POST"])
@permit(picking_blp, *FLOOR_WRITERS)
@picking_blp.alt_response(404, response="NOT_FOUND")
@reads_json(picking_blp, 409)
@picking_blp.arguments(ConfirmInSchema)
@picking_blp.response(200, PickResultSchema)
def confirm(body: dict[str, Any], task_id: int) -> dict[str, Any]:
    """Confirm a pick: its whole remaining quantity moves from the location to the order.

    Stock moves in the ledger, the order's history advances (picking, then picked when its
    last task is done) and a pick face that falls below its minimum gets a replenishment.
    A task already done or waiting for a replenishment is a 409; a quantity other than the
    one asked is a 422 (report a short pick instead).
    """
    with get_db().write() as session:
        result = confirm_pick(session, task_id, body["quantity"], user_id=_user_id())
        number, status = _order_of_task(session, task_id)
        return {
            "task_id": result.task_id,
            "picked": result.picked,
            "movement_id": result.movement_id,
            "task_done": result.task_done,
            "order": number,
            "order_status": status,
            "batch_done": result.batch_done,
            "replenishment_id": result.replenishment_id,
        }


@picking_blp.route("/tasks/<int:task_id>/short", methods=["POST"])
@permit(picking_blp, *FLOOR_WRITERS)
@picking_blp.alt_response(404, response="NOT_FOUND")
@reads_json(picking_blp, 409)
@picking_blp.arguments(ShortInSchema)
@picking_blp.response(200, ShortResultSchema)
def short(body: dict[str, Any], task_id: int) -> dict[str, Any]:
    """Report a short pick: what was found is picked, the rest re-allocated or backordered.

    The missing units are written off at that location, reserved again elsewhere when stock
    allows (and released at once as new pick work), else backordered; an exception is raised
    for the supervisor either way.
    """
    clash = clash_is_conflict("the re-allocated units clashed with another release; try again")
    with clash, get_db().write() as session:
        result = report_short(
            session,
            task_id,
            body["found"],
            kind=ExceptionKind(body["kind"]),
            user_id=_user_id(),
            options=release_options(),
        )
        number, status = _order_of_task(session, task_id)
        return {
            "task_id": result.task_id,
            "picked": result.picked,
            "missing": result.missing,
            "reallocated": result.reallocated,
            "backordered": result.backordered,
            "exception_id": result.exception_id,
            "order": number,
            "order_status": status,
            "release": release_out(session, result.release) if result.release else None,
        }


# --- replenishment --------------------------------------------------------------------------


class ReplenishmentListArgs(PageArgs):
    """Filters of the replenishment list."""

    status = DelimitedList(
        fields.Enum(TaskStatus, by_value=True),
        metadata={"description": "One status or several, comma-separated"},
    )


class ReplenishmentSchema(Schema):
    """Bring stock from reserve to a pick face."""

    id = fields.Integer(required=True)
    status = fields.Enum(TaskStatus, by_value=True, required=True)
    sku = fields.String(required=True)
    item_name = fields.String()
    lot = fields.String(allow_none=True, metadata={"description": "null if not lot-tracked"})
    from_location = fields.String(required=True, metadata={"description": "Reserve location"})
    to_location = fields.String(required=True, metadata={"description": "Pick face"})
    quantity = fields.Integer(required=True)
    carries_reserved = fields.Integer(
        metadata={"description": "Units of it already promised to waiting picks"}
    )
    reason = fields.String(metadata={"description": "pick_waiting or below_min"})
    priority = fields.Integer()
    waiting_picks = fields.Integer(
        required=True, metadata={"description": "Open pick tasks that wait for it"}
    )
    created_at = fields.DateTime(format="iso")
    done_at = fields.DateTime(format="iso", allow_none=True)


class ReplenishmentPageSchema(PageSchema):
    """One page of replenishments."""

    items = fields.List(fields.Nested(ReplenishmentSchema), required=True)


class ReplenishmentDoneSchema(ReplenishmentSchema):
    """A replenishment just completed, with the ledger row of its move."""

    movement_id = fields.Integer(required=True)


_From = aliased(Location)
_To = aliased(Location)


def _replenishment_query() -> Select[ReplenishmentTask, str, str, str, str]:
    return (
        select(ReplenishmentTask, Item.sku, Item.name, _From.code, _To.code)
        .join(Item, ReplenishmentTask.item_id == Item.id)
        .join(_From, ReplenishmentTask.from_location_id == _From.id)
        .join(_To, ReplenishmentTask.to_location_id == _To.id)
    )


def _replenishments_out(
    session: Session, rows: Sequence[tuple[ReplenishmentTask, str, str, str, str]]
) -> list[dict[str, Any]]:
    ids = [task.id for task, *_ in rows]
    waiting = _counts(session, PickTask.waits_for_id, ids, PickTask.status == TaskStatus.OPEN)
    return [
        {
            "id": task.id,
            "status": task.status,
            "sku": sku,
            "item_name": name,
            "lot": task.lot or None,
            "from_location": source,
            "to_location": target,
            "quantity": task.quantity,
            "carries_reserved": task.carries_reserved,
            "reason": task.reason,
            "priority": task.priority,
            "waiting_picks": waiting.get(task.id, 0),
            "created_at": utc(task.created_at),
            "done_at": utc(task.done_at),
        }
        for task, sku, name, source, target in rows
    ]


@picking_blp.route("/replenishments", methods=["GET"])
@permit(picking_blp, *READERS)
@picking_blp.arguments(ReplenishmentListArgs, location="query")
@picking_blp.response(200, ReplenishmentPageSchema)
def list_replenishments(args: dict[str, Any]) -> dict[str, Any]:
    """List replenishments: open ones first, the most urgent (picks waiting) at the top."""
    with get_db().read() as session:
        query = _replenishment_query()
        if args.get("status"):
            query = query.where(ReplenishmentTask.status.in_(args["status"]))
        total = count(session, query)
        ordered = query.order_by(
            (ReplenishmentTask.status == TaskStatus.OPEN).desc(),
            ReplenishmentTask.priority.desc(),
            ReplenishmentTask.created_at,
            ReplenishmentTask.id,
        )
        rows = session.execute(limit_page(ordered, args)).all()
        return {**page_info(args, total), "items": _replenishments_out(session, rows)}


@picking_blp.route("/replenishments/<int:replenishment_id>/complete", methods=["POST"])
@permit(picking_blp, *FLOOR_WRITERS)
@picking_blp.alt_response(404, response="NOT_FOUND")
@optional_json(picking_blp, 409)
@picking_blp.arguments(NoFieldsSchema, required=False)
@picking_blp.response(200, ReplenishmentDoneSchema)
def complete(_body: dict[str, Any], replenishment_id: int) -> dict[str, Any]:
    """Complete a replenishment: the stock moves to the pick face; waiting picks may go ahead.

    One already done is a 409.
    """
    with get_db().write() as session:
        movement_id = complete_replenishment(session, replenishment_id, user_id=_user_id())
        session.flush()
        row = session.execute(
            _replenishment_query().where(ReplenishmentTask.id == replenishment_id)
        ).one()
        return {**_replenishments_out(session, [row])[0], "movement_id": movement_id}


# --- exceptions -----------------------------------------------------------------------------


class ExceptionListArgs(PageArgs):
    """Filters of the exception list."""

    status = DelimitedList(
        fields.Enum(ExceptionStatus, by_value=True),
        metadata={"description": "open, resolved, or both comma-separated"},
    )
    kind = DelimitedList(
        fields.Enum(ExceptionKind, by_value=True),
        metadata={"description": "One kind or several, comma-separated"},
    )


class FloorExceptionSchema(Schema):
    """Something the supervisor must look at: a short pick, damaged stock, an empty location."""

    id = fields.Integer(required=True)
    kind = fields.Enum(ExceptionKind, by_value=True, required=True)
    status = fields.Enum(ExceptionStatus, by_value=True, required=True)
    order = fields.String(allow_none=True, metadata={"description": "Order number"})
    line_no = fields.Integer(allow_none=True)
    task_id = fields.Integer(allow_none=True)
    location = fields.String(allow_none=True, metadata={"description": "Location code"})
    sku = fields.String(allow_none=True)
    quantity = fields.Integer(metadata={"description": "Units concerned"})
    outcome = fields.String(metadata={"description": "reallocated, partly or backordered"})
    detail = fields.String()
    reported_by = fields.String(allow_none=True, metadata={"description": "Username"})
    created_at = fields.DateTime(format="iso")
    resolved_at = fields.DateTime(format="iso", allow_none=True)


class FloorExceptionPageSchema(PageSchema):
    """One page of exceptions."""

    items = fields.List(fields.Nested(FloorExceptionSchema), required=True)


@picking_blp.route("/exceptions", methods=["GET"])
@permit(picking_blp, *READERS)
@picking_blp.arguments(ExceptionListArgs, location="query")
@picking_blp.response(200, FloorExceptionPageSchema)
def list_exceptions(args: dict[str, Any]) -> dict[str, Any]:
    """List floor exceptions, newest first, with filters and paging."""
    with get_db().read() as session:
        query = (
            select(
                FloorException,
                Order.number,
                OrderLine.line_no,
                Location.code,
                Item.sku,
                User.username,
            )
            .outerjoin(Order, FloorException.order_id == Order.id)
            .outerjoin(OrderLine, FloorException.order_line_id == OrderLine.id)
            .outerjoin(Location, FloorException.location_id == Location.id)
            .outerjoin(Item, FloorException.item_id == Item.id)
            .outerjoin(User, FloorException.reported_by == User.id)
        )
        if args.get("status"):
            query = query.where(FloorException.status.in_(args["status"]))
        if args.get("kind"):
            query = query.where(FloorException.kind.in_(args["kind"]))
        total = count(session, query)
        ordered = query.order_by(FloorException.created_at.desc(), FloorException.id.desc())
        rows = session.execute(limit_page(ordered, args)).all()
        return {
            **page_info(args, total),
            "items": [
                {
                    "id": exc.id,
                    "kind": exc.kind,
                    "status": exc.status,
                    "order": number,
                    "line_no": line_no,
                    "task_id": exc.task_id,
                    "location": location,
                    "sku": sku,
                    "quantity": exc.quantity,
                    "outcome": exc.outcome,
                    "detail": exc.detail,
                    "reported_by": username,
                    "created_at": utc(exc.created_at),
                    "resolved_at": utc(exc.resolved_at),
                }
                for exc, number, line_no, location, sku, username in rows
            ],
        }
