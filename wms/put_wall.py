"""Put wall (put-to-light): sorting a picked batch into one slot per order.

The operator scans the batch (its code or any of its totes) at the wall: slot *k* takes the
order in tote position *k*. Each item scanned lights the slot of the first order still waiting
for it, with the quantity; a press on the slot confirms the put; an order with every picked
unit put flashes its slot until the packer presses it to take the order out.

What has been put is recorded in the scan log (kinds ``put_start``, ``put``, ``put_clear``
with the wall's station), once per client id, so the wall's state survives a restart and a
press read twice counts once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from wms.db.schema import BatchOrder, Item, ItemGtin, Order, PickBatch, PickTask, ScanEvent
from wms.lights import PendingPut, WallNeed, full_orders, slot_for_item
from wms.model import BatchKind, BatchStatus, ScanOutcome
from wms.scanning import ScanError, parse_scan
from wms.scans import ScanRecord, find_scan, record_scan

_KINDS = ("put_start", "put", "put_clear")


@dataclass(frozen=True, slots=True)
class WallAnswer:
    """The wall's answer to a scan or press; ``reason`` is a stable code the screen translates."""

    ok: bool
    reason: str
    params: dict[str, Any] = field(default_factory=dict)
    repeated: bool = False

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form, as stored in the scan log and sent to the wall's screen."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class WallState:
    """The batch at a wall and what of it has been put."""

    batch_id: int | None
    batch_code: str = ""
    orders: dict[int, tuple[int, str]] = field(default_factory=dict)  # id -> (slot, number)
    needs: tuple[WallNeed, ...] = ()
    cleared: frozenset[int] = frozenset()


def wall_state(session: Session, station: str) -> WallState:
    """The wall's current batch (the last one scanned in) and its puts, from the scan log."""
    accepted = (ScanEvent.station == station, ScanEvent.outcome == ScanOutcome.ACCEPTED)
    # Only what happened since the last batch came to the wall: the log keeps every shift.
    started = session.scalar(
        select(func.max(ScanEvent.received_at)).where(*accepted, ScanEvent.kind == "put_start")
    )
    if started is None:
        return WallState(None)
    events = session.execute(
        select(ScanEvent.kind, ScanEvent.parsed)
        .where(*accepted, ScanEvent.kind.in_(_KINDS), ScanEvent.received_at >= started)
        .order_by(ScanEvent.received_at, ScanEvent.id)
    ).all()
    batch_id: int | None = None
    put: dict[tuple[int, int], int] = {}
    cleared: set[int] = set()
    for kind, parsed in events:
        if kind == "put_start":
            batch_id, put, cleared = int(parsed["batch"]), {}, set()
        elif batch_id is not None and parsed.get("batch") == batch_id:
            if kind == "put":
                key = (int(parsed["order"]), int(parsed["item"]))
                put[key] = put.get(key, 0) + int(parsed["quantity"])
            else:
                cleared.add(int(parsed["order"]))
    if batch_id is None:
        return WallState(None)
    batch = session.get_one(PickBatch, batch_id)
    orders = {
        bo.order_id: (bo.tote_position, bo.order.number)
        for bo in session.scalars(select(BatchOrder).where(BatchOrder.batch_id == batch_id))
    }
    picked = session.execute(
        select(PickTask.order_id, PickTask.item_id, func.sum(PickTask.picked_quantity))
        .where(PickTask.batch_id == batch_id)
        .group_by(PickTask.order_id, PickTask.item_id)
    ).all()
    needs = tuple(
        WallNeed(
            int(order_id),
            orders[int(order_id)][0],
            int(item_id),
            int(units or 0),
            put.get((int(order_id), int(item_id)), 0),
        )
        for order_id, item_id, units in picked
        if int(order_id) in orders
    )
    return WallState(batch_id, batch.code, orders, needs, frozenset(cleared))


def scan_at_wall(
    session: Session,
    *,
    station: str,
    client_id: str,
    raw: str,
    slots: int,
    now: dt.datetime | None = None,
) -> tuple[WallAnswer, PendingPut | None, int | None]:
    """A scan at the wall: a batch or tote starts the wall, an item lights its order's slot.

    Returns the answer, the put to light (if any) and its slot position.
    """
    previous = find_scan(session, client_id)
    if previous is not None:
        return WallAnswer(**{**previous.result, "repeated": True}), None, None
    now = now or dt.datetime.now(dt.UTC)
    kind, parsed_json = "put_scan", {}
    pending: PendingPut | None = None
    slot: int | None = None
    try:
        scan = parse_scan(raw)
    except ScanError as error:
        answer = WallAnswer(False, "unreadable", {"detail": str(error)})
    else:
        if scan.gtin is None:
            answer, batch_id = _start(session, scan.value, slots)
            if batch_id is not None:
                kind, parsed_json = "put_start", {"batch": batch_id}
        else:
            answer, pending, slot = _item(session, station, scan.gtin)
            if pending is not None:
                parsed_json = {"order": pending.order_id, "item": pending.item_id}
    record_scan(
        session,
        ScanRecord(
            client_id=client_id,
            raw=raw,
            kind=kind,
            outcome=ScanOutcome.ACCEPTED if answer.ok else ScanOutcome.REFUSED,
            station=station,
            reason=None if answer.ok else answer.reason,
            parsed=parsed_json,
            result=answer.as_dict(),
            scanned_at=now,
        ),
    )
    return answer, pending, slot


def _start(session: Session, code: str, slots: int) -> tuple[WallAnswer, int | None]:
    batch = session.scalar(select(PickBatch).where(PickBatch.code == code))
    if batch is None:
        batch = session.scalar(
            select(PickBatch)
            .join(BatchOrder, BatchOrder.batch_id == PickBatch.id)
            .where(BatchOrder.tote_barcode == code)
            .order_by(PickBatch.id.desc())
            .limit(1)
        )
    if batch is None or batch.kind is BatchKind.REPLENISHMENT:
        return WallAnswer(False, "unknown_code", {"code": code}), None
    if batch.status is BatchStatus.CANCELLED:
        return WallAnswer(False, "batch_cancelled", {"batch": batch.code}), None
    count = len(batch.orders)
    if count > slots:
        return WallAnswer(False, "too_many_orders", {"orders": count, "slots": slots}), None
    return WallAnswer(True, "wall_started", {"batch": batch.code, "orders": count}), batch.id


def _item(
    session: Session, station: str, gtin: str
) -> tuple[WallAnswer, PendingPut | None, int | None]:
    state = wall_state(session, station)
    if state.batch_id is None:
        return WallAnswer(False, "no_batch_at_wall"), None, None
    item_id = session.scalar(select(ItemGtin.item_id).where(ItemGtin.gtin == gtin))
    if item_id is None:
        return WallAnswer(False, "unknown_item", {"scanned": gtin}), None, None
    need = slot_for_item(state.needs, item_id)
    name = session.get_one(Item, item_id).name
    if need is None:
        return (
            WallAnswer(False, "item_not_for_wall", {"item": name, "batch": state.batch_code}),
            None,
            None,
        )
    quantity = need.picked - need.put
    number = state.orders[need.order_id][1]
    answer = WallAnswer(
        True,
        "put_lit",
        {"item": name, "order": number, "slot": need.slot, "quantity": quantity},
    )
    return answer, PendingPut(need.order_id, item_id, quantity), need.slot


def confirm_put(
    session: Session,
    *,
    station: str,
    client_id: str,
    put: PendingPut,
    now: dt.datetime | None = None,
) -> WallAnswer:
    """A press on a lit slot: the units are in the order's slot (recorded once)."""
    previous = find_scan(session, client_id)
    if previous is not None:
        return WallAnswer(**{**previous.result, "repeated": True})
    state = wall_state(session, station)
    need = next(
        (
            n
            for n in state.needs
            if (n.order_id, n.item_id) == (put.order_id, put.item_id) and n.picked > n.put
        ),
        None,
    )
    number = session.get_one(Order, put.order_id).number
    if state.batch_id is None or need is None:
        answer = WallAnswer(False, "put_not_expected", {"order": number})
        parsed: dict[str, Any] = {}
    else:
        quantity = min(put.quantity, need.picked - need.put)
        after = [
            WallNeed(n.order_id, n.slot, n.item_id, n.picked, n.put + quantity) if n is need else n
            for n in state.needs
        ]
        full = put.order_id in full_orders(after)
        answer = WallAnswer(True, "put_done", {"order": number, "quantity": quantity, "full": full})
        parsed = {
            "batch": state.batch_id,
            "order": put.order_id,
            "item": put.item_id,
            "quantity": quantity,
        }
    record_scan(
        session,
        ScanRecord(
            client_id=client_id,
            raw=f"put {number}",
            kind="put",
            outcome=ScanOutcome.ACCEPTED if answer.ok else ScanOutcome.REFUSED,
            station=station,
            reason=None if answer.ok else answer.reason,
            parsed=parsed,
            result=answer.as_dict(),
            scanned_at=now or dt.datetime.now(dt.UTC),
        ),
    )
    return answer


def clear_slot(
    session: Session,
    *,
    station: str,
    client_id: str,
    order_id: int,
    now: dt.datetime | None = None,
) -> WallAnswer:
    """The packer took a full order out of its slot (press on the flashing slot)."""
    previous = find_scan(session, client_id)
    if previous is not None:
        return WallAnswer(**{**previous.result, "repeated": True})
    state = wall_state(session, station)
    number = session.get_one(Order, order_id).number
    answer = WallAnswer(True, "slot_cleared", {"order": number})
    record_scan(
        session,
        ScanRecord(
            client_id=client_id,
            raw=f"clear {number}",
            kind="put_clear",
            outcome=ScanOutcome.ACCEPTED,
            station=station,
            parsed={"batch": state.batch_id, "order": order_id},
            result=answer.as_dict(),
            scanned_at=now or dt.datetime.now(dt.UTC),
        ),
    )
    return answer
