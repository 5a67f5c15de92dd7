"""The picker's work on a handheld: get a batch, start the cart, scan, confirm, report shorts.

Every scan comes with a client-generated id and is answered exactly once: a repeat (the
handheld resending after losing the Wi-Fi) gets the stored answer, and changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import MutableMapping
from dataclasses import dataclass, field, fields
from typing import Any

from sqlalchemy import Connection, Table, bindparam, func, or_, select, update
from sqlalchemy.orm import Session

from wms.db.direct import execute, savepoint
from wms.db.schema import (
    BatchOrder,
    Order,
    PickBatch,
    PickTask,
    metadata,
)
from wms.errors import Conflict, InvalidInput, NotFound, WmsError
from wms.model import (
    BatchKind,
    BatchStatus,
    ExceptionKind,
    HandlingUnit,
    ScanOutcome,
    TaskStatus,
    ZoneKind,
)
from wms.picks import confirm_pick, report_short
from wms.scanning import ParsedScan, ScanError, parse_scan
from wms.scans import ScanRecord, find_scan, log_scan, record_scan, stored_answer

ACTIVE = (BatchStatus.ASSIGNED, BatchStatus.IN_PROGRESS)


@dataclass(frozen=True)
class Answer:
    """The server's answer to one scan or action: shown, spoken and vibrated on the handheld.

    ``reason`` is a stable code the screens translate; ``params`` fill its message.
    """

    ok: bool
    reason: str
    params: dict[str, Any] = field(default_factory=dict)
    step: str = ""  # what the handheld expects next: tote, location, item, done
    repeated: bool = False

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form, as stored in the scan log and sent over the socket."""
        # Not dataclasses.asdict: its deep copy of params cost more than the rest of this.
        return {
            "ok": self.ok,
            "reason": self.reason,
            "params": dict(self.params),
            "step": self.step,
            "repeated": self.repeated,
        }


def current_batch(session: Session, user_id: int) -> PickBatch | None:
    """The batch this picker is working on, if any."""
    return session.scalar(
        select(PickBatch)
        .where(PickBatch.picker_id == user_id, PickBatch.status.in_(ACTIVE))
        .order_by(PickBatch.id)
        .limit(1)
    )


def take_next_batch(session: Session, user_id: int) -> PickBatch | None:
    """Give the picker their batch, or the most urgent open handheld batch nobody has."""
    batch_id = take_next_cart(session, user_id)
    if batch_id is None:
        return None
    return session.get_one(PickBatch, batch_id, populate_existing=True)  # as just updated


def take_next_cart(session: Session, user_id: int) -> int | None:
    """:func:`take_next_batch` in Core statements, for the handheld's writer: the batch id."""
    connection = session.connection()
    mine = execute(connection, _MY_CART, {"p_user": user_id}).scalar()
    if mine is not None:
        return int(mine)
    for (batch_id,) in execute(connection, _FREE_CARTS):
        # Conditional: two pickers asking at once never get the same cart.
        taken = execute(connection, _TAKE_CART, {"p_batch": batch_id, "p_user": user_id})
        if taken.rowcount == 1:
            return int(batch_id)
    return None


# The scan path answers every scan of every handheld, so it reads the cart in three prebuilt
# Core statements and writes with Core too: the ORM's loads cost ten times the SQL here.
_batch_t: Table = metadata.tables["pick_batch"]
_tote_t: Table = metadata.tables["batch_order"]
_task_t: Table = metadata.tables["pick_task"]
_order_t: Table = metadata.tables["order"]
_item_t: Table = metadata.tables["item"]
_location_t: Table = metadata.tables["location"]
_zone_t: Table = metadata.tables["zone"]
_gtin_t: Table = metadata.tables["item_gtin"]
_replenishment_t: Table = metadata.tables["replenishment_task"]
_task_zone = _zone_t.alias("task_zone")
# An active cart, as OR rather than IN: direct.execute takes no IN list (see wms/db/direct.py).
_ACTIVE = or_(*(_batch_t.c.status == status for status in ACTIVE))

_CART = (
    select(
        _batch_t.c.id,
        _batch_t.c.code,
        _batch_t.c.kind,
        _batch_t.c.status,
        _zone_t.c.code.label("zone"),
        select(func.count())
        .where(_task_t.c.batch_id == _batch_t.c.id)
        .scalar_subquery()
        .label("total"),
        select(func.count())
        .where(_task_t.c.batch_id == _batch_t.c.id, _task_t.c.status == TaskStatus.OPEN)
        .scalar_subquery()
        .label("open"),
    )
    .join(_zone_t, _zone_t.c.id == _batch_t.c.zone_id)
    .where(_batch_t.c.picker_id == bindparam("p_user"), _ACTIVE)
    .order_by(_batch_t.c.id)
    .limit(1)
)
_TOTES = (
    select(_tote_t.c.tote_position, _tote_t.c.order_id, _tote_t.c.tote_barcode, _order_t.c.number)
    .join(_order_t, _order_t.c.id == _tote_t.c.order_id)
    .where(_tote_t.c.batch_id == bindparam("p_batch"))
    .order_by(_tote_t.c.tote_position)
)
_PROGRESS = select(func.count(), func.count().filter(_task_t.c.status == TaskStatus.OPEN)).where(
    _task_t.c.batch_id == bindparam("p_batch")
)
_WAITING = select(_replenishment_t.c.id).where(_replenishment_t.c.status == TaskStatus.OPEN)
_CURRENT = (
    select(
        _task_t.c.id,
        _task_t.c.sequence,
        _task_t.c.order_id,
        _task_t.c.item_id,
        _task_t.c.lot,
        _task_t.c.quantity,
        _task_t.c.picked_quantity,
        _task_t.c.unit,
        _task_t.c.location_confirmed,
        _task_t.c.scanned_quantity,
        _task_t.c.tote_position,
        _location_t.c.code.label("location"),
        _location_t.c.barcode.label("location_barcode"),
        _task_zone.c.code.label("zone"),
        _location_t.c.aisle,
        _location_t.c.bay,
        _location_t.c.level,
        _item_t.c.sku,
        _item_t.c.name.label("item"),
        _item_t.c.description,
        _order_t.c.number.label("order"),
    )
    .select_from(
        _task_t.join(_location_t, _location_t.c.id == _task_t.c.location_id)
        .join(_task_zone, _task_zone.c.id == _location_t.c.zone_id)
        .join(_item_t, _item_t.c.id == _task_t.c.item_id)
        .join(_order_t, _order_t.c.id == _task_t.c.order_id)
    )
    .where(
        _task_t.c.batch_id == bindparam("p_batch"),
        _task_t.c.status == TaskStatus.OPEN,
        _task_t.c.waits_for_id.is_(None) | _task_t.c.waits_for_id.not_in(_WAITING),
    )
    .order_by(_task_t.c.sequence)
    .limit(1)
)
_MY_CART = (
    select(_batch_t.c.id)
    .where(_batch_t.c.picker_id == bindparam("p_user"), _ACTIVE)
    .order_by(_batch_t.c.id)
    .limit(1)
)
_FREE_CARTS = (
    select(_batch_t.c.id)
    .join(_zone_t, _batch_t.c.zone_id == _zone_t.c.id)
    .where(
        _batch_t.c.status == BatchStatus.OPEN,
        _batch_t.c.picker_id.is_(None),
        _zone_t.c.kind == ZoneKind.HANDHELD,
        _batch_t.c.kind != BatchKind.REPLENISHMENT,
    )
    .order_by(_batch_t.c.priority.desc(), _batch_t.c.cut_off.is_(None), _batch_t.c.cut_off)
    .order_by(_batch_t.c.id)
    .limit(5)
)
_TAKE_CART = (
    update(_batch_t)
    .where(_batch_t.c.id == bindparam("p_batch"), _batch_t.c.picker_id.is_(None))
    .values(picker_id=bindparam("p_user"), status=BatchStatus.ASSIGNED)
)
_TOTE_IN_USE = (
    select(_tote_t.c.batch_id)
    .join(_batch_t, _batch_t.c.id == _tote_t.c.batch_id)
    .where(_tote_t.c.tote_barcode == bindparam("p_tote"), _ACTIVE)
    .limit(1)
)
_BIND_TOTE = (
    update(_tote_t)
    .where(_tote_t.c.batch_id == bindparam("p_batch"), _tote_t.c.order_id == bindparam("p_order"))
    .values(tote_barcode=bindparam("p_tote"))
)
_CART_STARTED = (
    update(_batch_t)
    .where(_batch_t.c.id == bindparam("p_batch"))
    .values(status=BatchStatus.IN_PROGRESS, started_at=bindparam("p_now"))
)
_LOCATION_CONFIRMED = (
    update(_task_t).where(_task_t.c.id == bindparam("p_task")).values(location_confirmed=True)
)
_COUNTED = (
    update(_task_t)
    .where(_task_t.c.id == bindparam("p_task"))
    .values(scanned_quantity=bindparam("p_scanned"))
)
_PACK_OF = select(_gtin_t.c.pack_quantity).where(
    _gtin_t.c.gtin == bindparam("p_gtin"), _gtin_t.c.item_id == bindparam("p_item")
)
_ITEM_OF_GTIN = (
    select(_item_t.c.name)
    .join(_gtin_t, _gtin_t.c.item_id == _item_t.c.id)
    .where(_gtin_t.c.gtin == bindparam("p_gtin"))
    .limit(1)
)


@dataclass(slots=True)
class Tote:
    """One tote position of a cluster cart and the order it carries."""

    position: int
    order_id: int
    order: str
    barcode: str | None


@dataclass(slots=True)
class OpenPick:
    """The picker's current task with what the screen shows of it."""

    id: int
    sequence: int
    order_id: int
    item_id: int
    lot: str
    quantity: int
    picked_quantity: int
    unit: HandlingUnit
    location_confirmed: bool
    scanned_quantity: int
    tote_position: int
    location: str
    location_barcode: str | None
    zone: str
    aisle: str
    bay: str
    level: str
    sku: str
    item: str
    description: str
    order: str

    @property
    def remaining(self) -> int:
        """Units still to pick."""
        return self.quantity - self.picked_quantity


@dataclass(slots=True)
class Cart:
    """The picker's active batch as the scan path sees it."""

    id: int
    code: str
    kind: BatchKind
    status: BatchStatus
    zone: str
    totes: list[Tote]
    done: int
    total: int
    task: OpenPick | None

    def tote_of(self, order_id: int) -> Tote | None:
        """The tote position that carries ``order_id``."""
        return next((t for t in self.totes if t.order_id == order_id), None)


def load_cart(session: Session, user_id: int) -> Cart | None:
    """The picker's active batch, its totes, progress and current task: three indexed reads."""
    connection = session.connection()
    batch = execute(connection, _CART, {"p_user": user_id}).first()
    if batch is None:
        return None
    ids = {"p_batch": batch.id}
    totes = [
        Tote(p, order_id, number, tote)
        for p, order_id, tote, number in execute(connection, _TOTES, ids)
    ]
    return Cart(
        batch.id,
        batch.code,
        batch.kind,
        batch.status,
        batch.zone,
        totes,
        batch.total - batch.open,
        batch.total,
        _current_task(connection, batch.id),
    )


def _current_task(connection: Connection, batch_id: int) -> OpenPick | None:
    current = execute(connection, _CURRENT, {"p_batch": batch_id}).first()
    return OpenPick(**current._asdict()) if current is not None else None


def _cart_step(session: Session, user_id: int) -> str:
    cart = load_cart(session, user_id)
    return _step(cart) if cart is not None else "idle"


def snapshot(session: Session, user_id: int) -> dict[str, Any]:
    """Everything the handheld shows, from scratch: on connect, reconnect and reload."""
    return show(load_cart(session, user_id))


def show(cart: Cart | None) -> dict[str, Any]:
    """The handheld's view of a cart (see docs/handheld-protocol.md, ``snapshot``)."""
    if cart is None:
        return {"batch": None, "task": None, "step": "idle"}
    task = cart.task
    return {
        "batch": {
            "code": cart.code,
            "kind": cart.kind.value,
            "zone": cart.zone,
            "totes": [
                {"position": t.position, "order": t.order, "tote": t.barcode} for t in cart.totes
            ],
            "done": cart.done,
            "total": cart.total,
            "waiting": cart.total - cart.done if task is None else 0,
        },
        "task": _task_view(cart, task) if task is not None else None,
        "step": _step(cart),
    }


def _needs_totes(kind: BatchKind) -> bool:
    return kind is BatchKind.CLUSTER


def _step(cart: Cart) -> str:
    if _needs_totes(cart.kind) and any(t.barcode is None for t in cart.totes):
        return "tote_start"
    task = cart.task
    if task is None:
        return "done" if cart.status is BatchStatus.DONE else "waiting"
    if not task.location_confirmed:
        return "location"
    if task.scanned_quantity < task.remaining:
        return "item"
    return "tote" if _needs_totes(cart.kind) else "confirm"


def _task_view(cart: Cart, task: OpenPick) -> dict[str, Any]:
    tote = cart.tote_of(task.order_id)
    return {
        "id": task.id,
        "sequence": task.sequence,
        "location": task.location,
        "zone": task.zone,
        "aisle": task.aisle,
        "bay": task.bay,
        "level": task.level,
        "sku": task.sku,
        "item": task.item,
        "description": task.description,
        "lot": task.lot,
        "quantity": task.remaining,
        "unit": task.unit.value,
        "scanned": task.scanned_quantity,
        "location_confirmed": task.location_confirmed,
        "tote_position": task.tote_position,
        "tote": tote.barcode if tote else None,
        "order": task.order,
    }


class DuplicateScan(Exception):
    """Another copy of this scan was recorded first: roll back and answer with its result."""


def handle_scan(
    session: Session,
    *,
    user_id: int,
    client_id: str,
    raw: str,
    scanned_at: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> Answer:
    """Check one scan against the picker's current step; record it once; act on it."""
    answer, _view = scan(
        session, user_id=user_id, client_id=client_id, raw=raw, scanned_at=scanned_at, now=now
    )
    return answer


def scan(
    session: Session,
    *,
    user_id: int,
    client_id: str,
    raw: str,
    scanned_at: dt.datetime | None = None,
    now: dt.datetime | None = None,
    carts: MutableMapping[int, Cart] | None = None,
    repeats_raise: bool = False,
) -> tuple[Answer, dict[str, Any]]:
    """:func:`handle_scan` and the handheld's view after it, from the same transaction.

    ``carts``: the pickers' carts as the last scans left them, kept by a caller through
    which every change to them goes (see GroupCommit.kept); the cart is read only when it
    is not there, and is put back only once the scan is logged.

    Raises DuplicateScan when a copy of the same scan committed first (PostgreSQL, two
    connections): the caller rolls back and answers with :func:`stored_answer`.
    ``repeats_raise``: every repeat does, found when it is logged rather than by a read
    first; for a caller that runs each scan in a savepoint of its own (GroupCommit) and
    gets its error only after the commit, repeats being the rare case.
    """
    if not repeats_raise:
        previous = stored_answer(session, client_id)
        if previous is not None:
            return Answer(**{**previous, "repeated": True}), snapshot(session, user_id)
    now = now or dt.datetime.now(dt.UTC)
    # Taken out while the scan runs: a scan that fails half-way leaves no cart it changed.
    cart = carts.pop(user_id, None) if carts is not None else None
    if cart is None:
        cart = load_cart(session, user_id)
    parsed: ParsedScan | None = None
    try:
        parsed = parse_scan(raw)
        answer, kind, cart = _apply(session, cart, user_id, parsed, client_id, now)
    except ScanError as error:
        answer, kind = Answer(False, "unreadable", {"detail": str(error)}), "unreadable"
    except WmsError as error:
        answer, kind = Answer(False, error.code, {"detail": error.message}), "action"
        cart = load_cart(session, user_id)  # the refusal may come from a change elsewhere
    logged = log_scan(
        session,
        ScanRecord(
            client_id=client_id,
            raw=raw,
            kind=kind,
            outcome=ScanOutcome.ACCEPTED if answer.ok else ScanOutcome.REFUSED,
            user_id=user_id,
            symbology=parsed.symbology if parsed else None,
            reason=None if answer.ok else answer.reason,
            parsed=_parsed_json(parsed),
            result=answer.as_dict(),
            scanned_at=scanned_at,
        ),
    )
    if not logged:
        raise DuplicateScan(client_id)
    if carts is not None and cart is not None:
        carts[user_id] = cart
    return answer, show(cart)


def _parsed_json(parsed: ParsedScan | None) -> dict[str, Any]:
    if parsed is None:
        return {}
    return {
        k: (v.isoformat() if isinstance(v, dt.date) else v)
        for k, v in ((f.name, getattr(parsed, f.name)) for f in fields(parsed))
        if v is not None and k != "raw"
    }


def _apply(
    session: Session,
    cart: Cart | None,
    user_id: int,
    scan: ParsedScan,
    client_id: str,
    now: dt.datetime,
) -> tuple[Answer, str, Cart | None]:
    """What the scan means at this step: (answer, scan kind, the cart as it is now).

    Only a pick moves the cart on (it is read again); every other answer changes no more
    than what is updated in memory here.
    """
    if cart is None:
        return Answer(False, "no_batch", step="idle"), "none", cart
    task, step = cart.task, _step(cart)
    if step == "tote_start":
        return _bind_tote(session, cart, scan, now), "tote", cart
    if task is None:
        return Answer(False, "nothing_to_pick", step=step), "none", cart
    connection = session.connection()
    if step == "location":
        if scan.value not in (task.location_barcode, task.location):
            expected = {"expected": task.location, "scanned": scan.value}
            return Answer(False, "wrong_location", expected, step="location"), "location", cart
        execute(connection, _LOCATION_CONFIRMED, {"p_task": task.id})
        task.location_confirmed = True
        answer = Answer(True, "location_ok", {"location": task.location}, step="item")
        return answer, "location", cart
    if step == "item":
        return _count_item(session, cart, task, scan, now), "item", cart
    if step == "confirm":
        return Answer(False, "press_confirm", step="confirm"), "none", cart
    # The units are counted; scanning the order's tote closes the pick.
    tote = cart.tote_of(task.order_id)
    if tote is None or scan.value != tote.barcode:
        params = {
            "expected": tote.barcode if tote else "",
            "position": tote.position if tote else task.tote_position,
            "scanned": scan.value,
        }
        return Answer(False, "wrong_tote", params, step="tote"), "tote", cart
    # A savepoint: a pick refused half-way (stock gone meanwhile) leaves nothing behind.
    with savepoint(session):
        result = confirm_pick(
            session, task.id, task.remaining, user_id=user_id, scan_id=client_id, now=now
        )
    if result.batch_done:
        after = load_cart(session, user_id)  # the picker's next cart, if they have one
    else:
        # Same cart, same totes: one task fewer to do, and the next one to show.
        after = cart
        after.done += 1
        after.status = BatchStatus.IN_PROGRESS  # as the pick just recorded
        after.task = _current_task(session.connection(), cart.id)
    params = {"quantity": result.picked, "order": task.order, "batch_done": result.batch_done}
    next_step = _step(after) if after is not None else "idle"
    return Answer(True, "picked", params, step=next_step), "tote", after


def _bind_tote(session: Session, cart: Cart, scan: ParsedScan, now: dt.datetime) -> Answer:
    if scan.gtin or scan.sscc:
        return Answer(False, "not_a_tote", {"scanned": scan.value}, step="tote_start")
    if any(t.barcode == scan.value for t in cart.totes):
        return Answer(False, "tote_already_on_cart", {"tote": scan.value}, step="tote_start")
    connection = session.connection()
    if execute(connection, _TOTE_IN_USE, {"p_tote": scan.value}).first() is not None:
        return Answer(False, "tote_in_use", {"tote": scan.value}, step="tote_start")
    slot = next(t for t in cart.totes if t.barcode is None)
    execute(
        connection, _BIND_TOTE, {"p_batch": cart.id, "p_order": slot.order_id, "p_tote": scan.value}
    )
    slot.barcode = scan.value
    left = sum(1 for t in cart.totes if t.barcode is None)
    if cart.status is BatchStatus.ASSIGNED and not left:
        execute(connection, _CART_STARTED, {"p_batch": cart.id, "p_now": now})
        cart.status = BatchStatus.IN_PROGRESS
    return Answer(
        True,
        "tote_bound",
        {"tote": scan.value, "position": slot.position, "order": slot.order, "left": left},
        step="tote_start" if left else "location",
    )


def _count_item(
    session: Session, cart: Cart, task: OpenPick, scan: ParsedScan, now: dt.datetime
) -> Answer:
    if scan.gtin is None:
        return Answer(
            False, "wrong_item", {"expected": task.item, "scanned": scan.value}, step="item"
        )
    connection = session.connection()
    pack = execute(connection, _PACK_OF, {"p_gtin": scan.gtin, "p_item": task.item_id}).scalar()
    if pack is None:
        other = execute(connection, _ITEM_OF_GTIN, {"p_gtin": scan.gtin}).scalar()
        return Answer(
            False, "wrong_item", {"expected": task.item, "scanned": other or scan.gtin}, step="item"
        )
    if scan.lot and task.lot and scan.lot != task.lot:
        return Answer(False, "wrong_lot", {"expected": task.lot, "scanned": scan.lot}, step="item")
    if scan.expiry is not None and scan.expiry < now.date():
        return Answer(False, "expired", {"expiry": scan.expiry.isoformat()}, step="item")
    remaining = task.remaining
    if task.unit is HandlingUnit.PALLET:
        pack = remaining  # a whole pallet is taken as one: the scan checks it is the right item
    if task.scanned_quantity + pack > remaining:
        return Answer(
            False,
            "too_many",
            {"quantity": remaining, "scanned": task.scanned_quantity, "pack": pack},
            step="item",
        )
    task.scanned_quantity += pack
    execute(connection, _COUNTED, {"p_task": task.id, "p_scanned": task.scanned_quantity})
    done = task.scanned_quantity >= remaining
    next_step = ("tote" if _needs_totes(cart.kind) else "confirm") if done else "item"
    return Answer(
        True,
        "item_ok",
        {"counted": task.scanned_quantity, "quantity": remaining, "pack": pack},
        step=next_step,
    )


def confirm_without_tote(
    session: Session, *, user_id: int, client_id: str, task_id: int, now: dt.datetime | None = None
) -> Answer:
    """Close an order-batch pick (B2B: no tote) once its units are counted."""
    previous = find_scan(session, client_id)
    if previous is not None:
        return Answer(**{**previous.result, "repeated": True})
    return _confirm(session, user_id, client_id, task_id, now)


def _confirm(
    session: Session, user_id: int, client_id: str, task_id: int, now: dt.datetime | None
) -> Answer:
    task = session.get(PickTask, task_id)
    if task is None:
        raise NotFound(f"pick task {task_id} does not exist")
    remaining = task.quantity - task.picked_quantity
    if task.scanned_quantity < remaining:
        raise InvalidInput(f"scan all {remaining} units first ({task.scanned_quantity} counted)")
    result = confirm_pick(session, task_id, remaining, user_id=user_id, scan_id=client_id, now=now)
    answer = Answer(True, "picked", {"quantity": result.picked, "batch_done": result.batch_done})
    record_scan(
        session,
        ScanRecord(
            client_id,
            "confirm",
            "action",
            ScanOutcome.ACCEPTED,
            user_id=user_id,
            result=answer.as_dict(),
        ),
    )
    return answer


def short_pick(
    session: Session,
    *,
    user_id: int,
    client_id: str,
    task_id: int,
    found: int,
    kind: ExceptionKind = ExceptionKind.SHORT_PICK,
    now: dt.datetime | None = None,
) -> Answer:
    """The picker found fewer (or damaged units, or an empty location): report it once."""
    previous = find_scan(session, client_id)
    if previous is not None:
        return Answer(**{**previous.result, "repeated": True})
    batch = current_batch(session, user_id)
    task = session.get(PickTask, task_id)
    if task is None or batch is None or task.batch_id != batch.id:
        raise Conflict("this task is not yours any more; your screen is being refreshed")
    result = report_short(
        session, task_id, found, kind=kind, user_id=user_id, scan_id=client_id, now=now
    )
    answer = Answer(
        True,
        "short_reported",
        {
            "found": result.picked,
            "missing": result.missing,
            "reallocated": result.reallocated,
            "backordered": result.backordered,
            "order": session.get_one(Order, task.order_id).number,
        },
        step=_cart_step(session, user_id),
    )
    record_scan(
        session,
        ScanRecord(
            client_id,
            f"short:{found}",
            "action",
            ScanOutcome.ACCEPTED,
            user_id=user_id,
            result=answer.as_dict(),
        ),
    )
    return answer


def reassign_batch(session: Session, code: str, picker_id: int | None) -> list[int]:
    """Give a batch to another picker (or back to the pool); return whose screens changed."""
    batch = session.scalar(select(PickBatch).where(PickBatch.code == code))
    if batch is None:
        raise NotFound(f"batch {code!r} does not exist", batch=code)
    if batch.status in (BatchStatus.DONE, BatchStatus.CANCELLED):
        raise Conflict(f"batch {code} is already {batch.status.value}", batch=code)
    if picker_id is not None:
        busy = current_batch(session, picker_id)
        if busy is not None and busy.id != batch.id:
            raise Conflict(
                f"that picker is working on batch {busy.code}; finish or reassign it first",
                batch=busy.code,
            )
    before = batch.picker_id
    batch.picker_id = picker_id
    if picker_id is None:
        batch.status = BatchStatus.OPEN if batch.started_at is None else BatchStatus.IN_PROGRESS
    elif batch.status is BatchStatus.OPEN:
        batch.status = BatchStatus.ASSIGNED
    return [user for user in (before, picker_id) if user is not None]


def pickers_of_orders(session: Session, order_ids: list[int]) -> list[int]:
    """The pickers whose carts hold any of these orders (their screens must refresh)."""
    rows = session.scalars(
        select(PickBatch.picker_id)
        .join(BatchOrder, BatchOrder.batch_id == PickBatch.id)
        .where(BatchOrder.order_id.in_(order_ids), PickBatch.picker_id.is_not(None))
        .distinct()
    )
    return [int(user) for user in rows if user is not None]


def skip_task(session: Session, *, user_id: int, client_id: str, task_id: int) -> Answer:
    """Leave the current pick for the end of the route (blocked aisle, forklift in the way)."""
    previous = find_scan(session, client_id)
    if previous is not None:
        return Answer(**{**previous.result, "repeated": True})
    batch = current_batch(session, user_id)
    task = session.get(PickTask, task_id)
    if task is None or batch is None or task.batch_id != batch.id:
        raise Conflict("this task is not yours any more; your screen is being refreshed")
    if task.status is not TaskStatus.OPEN:
        raise Conflict(f"pick task {task_id} is already {task.status.value}")
    last = session.scalar(
        select(PickTask.sequence)
        .where(PickTask.batch_id == batch.id)
        .order_by(PickTask.sequence.desc())
        .limit(1)
    )
    task.sequence = (last or 0) + 1
    task.location_confirmed = False
    task.scanned_quantity = 0
    session.flush()
    answer = Answer(
        True,
        "skipped",
        {"location": task.location.code},
        step=_cart_step(session, user_id),
    )
    record_scan(
        session,
        ScanRecord(
            client_id,
            f"skip:{task_id}",
            "action",
            ScanOutcome.ACCEPTED,
            user_id=user_id,
            result=answer.as_dict(),
        ),
    )
    return answer


_scan_log_t: Table = metadata.tables["scan_event"]
_LAST_PAUSE = (
    select(_scan_log_t.c.raw)
    .where(
        _scan_log_t.c.user_id == bindparam("p_user"),
        _scan_log_t.c.kind == "action",
        or_(_scan_log_t.c.raw == "pause", _scan_log_t.c.raw == "resume"),
    )
    .order_by(_scan_log_t.c.received_at.desc())
    .limit(1)
)


def is_paused(session: Session, user_id: int) -> bool:
    """Whether the picker's last pause (theirs or a supervisor's) has not been ended yet."""
    return bool(execute(session.connection(), _LAST_PAUSE, {"p_user": user_id}).scalar() == "pause")


def record_pause(session: Session, *, user_id: int, client_id: str, paused: bool) -> Answer:
    """Log a picker's pause or return, so picks/hour leaves breaks out."""
    previous = find_scan(session, client_id)
    if previous is not None:
        return Answer(**{**previous.result, "repeated": True})
    answer = Answer(True, "paused" if paused else "resumed")
    record_scan(
        session,
        ScanRecord(
            client_id,
            "pause" if paused else "resume",
            "action",
            ScanOutcome.ACCEPTED,
            user_id=user_id,
            result=answer.as_dict(),
        ),
    )
    return answer
