"""The picker's work on a handheld: get a batch, start the cart, scan, confirm, report shorts.

Every scan comes with a client-generated id and is answered exactly once: a repeat (the
handheld resending after losing the Wi-Fi) gets the stored answer, and changes nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from wms.db.schema import (
    BatchOrder,
    Item,
    ItemGtin,
    Location,
    Order,
    PickBatch,
    PickTask,
    ReplenishmentTask,
    Zone,
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
from wms.scans import ScanRecord, find_scan, record_scan

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
        return asdict(self)


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
    mine = current_batch(session, user_id)
    if mine is not None:
        return mine
    candidates = session.scalars(
        select(PickBatch.id)
        .join(Zone, PickBatch.zone_id == Zone.id)
        .where(
            PickBatch.status == BatchStatus.OPEN,
            PickBatch.picker_id.is_(None),
            Zone.kind == ZoneKind.HANDHELD,
            PickBatch.kind != BatchKind.REPLENISHMENT,
        )
        .order_by(PickBatch.priority.desc(), PickBatch.cut_off.is_(None), PickBatch.cut_off)
        .order_by(PickBatch.id)
        .limit(5)
    ).all()
    for batch_id in candidates:
        # Conditional: two pickers asking at once never get the same cart.
        taken = session.execute(
            update(PickBatch)
            .where(PickBatch.id == batch_id, PickBatch.picker_id.is_(None))
            .values(picker_id=user_id, status=BatchStatus.ASSIGNED)
            .execution_options(synchronize_session=False)
        )
        if taken.rowcount == 1:  # type: ignore[attr-defined]
            batch = session.get_one(PickBatch, batch_id)
            session.refresh(batch)
            return batch
    return None


def _totes(session: Session, batch: PickBatch) -> list[BatchOrder]:
    return list(
        session.scalars(
            select(BatchOrder)
            .where(BatchOrder.batch_id == batch.id)
            .order_by(BatchOrder.tote_position)
        )
    )


def _needs_totes(batch: PickBatch) -> bool:
    return batch.kind is BatchKind.CLUSTER


def current_task(session: Session, batch: PickBatch) -> PickTask | None:
    """The next open task in route order that is not waiting for a replenishment."""
    waiting = select(ReplenishmentTask.id).where(ReplenishmentTask.status == TaskStatus.OPEN)
    return session.scalar(
        select(PickTask)
        .where(
            PickTask.batch_id == batch.id,
            PickTask.status == TaskStatus.OPEN,
            (PickTask.waits_for_id.is_(None)) | (PickTask.waits_for_id.not_in(waiting)),
        )
        .order_by(PickTask.sequence)
        .limit(1)
    )


def snapshot(session: Session, user_id: int) -> dict[str, Any]:
    """Everything the handheld shows, from scratch: on connect, reconnect and reload."""
    batch = current_batch(session, user_id)
    if batch is None:
        return {"batch": None, "task": None, "step": "idle"}
    totes = _totes(session, batch)
    tasks = session.scalars(
        select(PickTask).where(PickTask.batch_id == batch.id).order_by(PickTask.sequence)
    ).all()
    task = current_task(session, batch)
    step = _step(batch, totes, task)
    return {
        "batch": {
            "code": batch.code,
            "kind": batch.kind.value,
            "zone": batch.zone.code,
            "totes": [
                {
                    "position": t.tote_position,
                    "order": t.order.number,
                    "tote": t.tote_barcode,
                }
                for t in totes
            ],
            "done": sum(1 for t in tasks if t.status is not TaskStatus.OPEN),
            "total": len(tasks),
            "waiting": sum(1 for t in tasks if t.status is TaskStatus.OPEN and t is not task)
            if task is None
            else 0,
        },
        "task": _task_view(session, task, totes) if task is not None else None,
        "step": step,
    }


def _step(batch: PickBatch, totes: list[BatchOrder], task: PickTask | None) -> str:
    if _needs_totes(batch) and any(t.tote_barcode is None for t in totes):
        return "tote_start"
    if task is None:
        return "done" if batch.status is BatchStatus.DONE else "waiting"
    if not task.location_confirmed:
        return "location"
    if task.scanned_quantity < task.quantity - task.picked_quantity:
        return "item"
    return "tote" if _needs_totes(batch) else "confirm"


def _task_view(session: Session, task: PickTask, totes: list[BatchOrder]) -> dict[str, Any]:
    item = session.get_one(Item, task.item_id)
    location = session.get_one(Location, task.location_id)
    tote = next((t for t in totes if t.order_id == task.order_id), None)
    return {
        "id": task.id,
        "sequence": task.sequence,
        "location": location.code,
        "zone": location.zone.code,
        "aisle": location.aisle,
        "bay": location.bay,
        "level": location.level,
        "sku": item.sku,
        "item": item.name,
        "description": item.description,
        "lot": task.lot,
        "quantity": task.quantity - task.picked_quantity,
        "unit": task.unit.value,
        "scanned": task.scanned_quantity,
        "location_confirmed": task.location_confirmed,
        "tote_position": task.tote_position,
        "tote": tote.tote_barcode if tote else None,
        "order": task.order.number,
    }


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
    previous = find_scan(session, client_id)
    if previous is not None:
        return Answer(**{**previous.result, "repeated": True})
    now = now or dt.datetime.now(dt.UTC)
    parsed: ParsedScan | None = None
    try:
        parsed = parse_scan(raw)
        answer, kind = _apply(session, user_id, parsed, client_id, now)
    except ScanError as error:
        answer, kind = Answer(False, "unreadable", {"detail": str(error)}), "unreadable"
    except WmsError as error:
        answer, kind = Answer(False, error.code, {"detail": error.message}), "action"
    record_scan(
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
    return answer


def _parsed_json(parsed: ParsedScan | None) -> dict[str, Any]:
    if parsed is None:
        return {}
    return {
        k: (v.isoformat() if isinstance(v, dt.date) else v)
        for k, v in asdict(parsed).items()
        if v is not None and k != "raw"
    }


def _apply(
    session: Session, user_id: int, scan: ParsedScan, client_id: str, now: dt.datetime
) -> tuple[Answer, str]:
    batch = current_batch(session, user_id)
    if batch is None:
        return Answer(False, "no_batch", step="idle"), "none"
    totes = _totes(session, batch)
    task = current_task(session, batch)
    step = _step(batch, totes, task)
    if step == "tote_start":
        return _bind_tote(session, batch, totes, scan), "tote"
    if task is None:
        return Answer(False, "nothing_to_pick", step=step), "none"
    if step == "location":
        location = session.get_one(Location, task.location_id)
        if scan.value not in (location.barcode, location.code):
            return (
                Answer(
                    False,
                    "wrong_location",
                    {"expected": location.code, "scanned": scan.value},
                    step="location",
                ),
                "location",
            )
        task.location_confirmed = True
        return Answer(True, "location_ok", {"location": location.code}, step="item"), "location"
    if step == "item":
        return _count_item(session, task, scan, now), "item"
    if step == "confirm":
        return Answer(False, "press_confirm", step="confirm"), "none"
    # The units are counted; scanning the order's tote closes the pick.
    if step == "tote":
        tote = next(t for t in totes if t.order_id == task.order_id)
        if scan.value != tote.tote_barcode:
            return (
                Answer(
                    False,
                    "wrong_tote",
                    {
                        "expected": tote.tote_barcode,
                        "position": tote.tote_position,
                        "scanned": scan.value,
                    },
                    step="tote",
                ),
                "tote",
            )
    quantity = task.quantity - task.picked_quantity
    result = confirm_pick(session, task.id, quantity, user_id=user_id, scan_id=client_id, now=now)
    next_step = _step(batch, totes, current_task(session, batch))
    return (
        Answer(
            True,
            "picked",
            {
                "quantity": result.picked,
                "order": task.order.number,
                "batch_done": result.batch_done,
            },
            step=next_step,
        ),
        "tote",
    )


def _bind_tote(
    session: Session, batch: PickBatch, totes: list[BatchOrder], scan: ParsedScan
) -> Answer:
    if scan.gtin or scan.sscc:
        return Answer(False, "not_a_tote", {"scanned": scan.value}, step="tote_start")
    if any(t.tote_barcode == scan.value for t in totes):
        return Answer(False, "tote_already_on_cart", {"tote": scan.value}, step="tote_start")
    busy = session.scalar(
        select(BatchOrder.batch_id)
        .join(PickBatch, BatchOrder.batch_id == PickBatch.id)
        .where(BatchOrder.tote_barcode == scan.value, PickBatch.status.in_(ACTIVE))
    )
    if busy is not None:
        return Answer(False, "tote_in_use", {"tote": scan.value}, step="tote_start")
    slot = next(t for t in totes if t.tote_barcode is None)
    slot.tote_barcode = scan.value
    left = sum(1 for t in totes if t.tote_barcode is None)
    if batch.status is BatchStatus.ASSIGNED and not left:
        batch.status = BatchStatus.IN_PROGRESS
        batch.started_at = dt.datetime.now(dt.UTC)
    return Answer(
        True,
        "tote_bound",
        {
            "tote": scan.value,
            "position": slot.tote_position,
            "order": slot.order.number,
            "left": left,
        },
        step="tote_start" if left else "location",
    )


def _count_item(session: Session, task: PickTask, scan: ParsedScan, now: dt.datetime) -> Answer:
    item = session.get_one(Item, task.item_id)
    if scan.gtin is None:
        return Answer(
            False, "wrong_item", {"expected": item.name, "scanned": scan.value}, step="item"
        )
    pack = session.scalar(
        select(ItemGtin.pack_quantity).where(
            ItemGtin.gtin == scan.gtin, ItemGtin.item_id == task.item_id
        )
    )
    if pack is None:
        other = session.scalar(select(Item.name).join(ItemGtin).where(ItemGtin.gtin == scan.gtin))
        return Answer(
            False, "wrong_item", {"expected": item.name, "scanned": other or scan.gtin}, step="item"
        )
    if scan.lot and task.lot and scan.lot != task.lot:
        return Answer(False, "wrong_lot", {"expected": task.lot, "scanned": scan.lot}, step="item")
    if scan.expiry is not None and scan.expiry < now.date():
        return Answer(False, "expired", {"expiry": scan.expiry.isoformat()}, step="item")
    remaining = task.quantity - task.picked_quantity
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
    done = task.scanned_quantity >= remaining
    batch = session.get_one(PickBatch, task.batch_id)
    next_step = ("tote" if _needs_totes(batch) else "confirm") if done else "item"
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
        step=_step(batch, _totes(session, batch), current_task(session, batch)),
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
        step=_step(batch, _totes(session, batch), current_task(session, batch)),
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
