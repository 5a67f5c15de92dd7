"""The floor as it is now, for the supervisor's dashboard: orders, cut-offs, waves, pickers.

Read-only queries, each answering one panel of the dashboard in JSON-ready form. The web
layer decides how often they run (once for every watcher, see web/dashboard.py).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from sqlalchemy import Table, func, select
from sqlalchemy.orm import Session

from wms.db.schema import (
    AuditLog,
    FloorException,
    Item,
    Location,
    Movement,
    Order,
    OrderEvent,
    PickBatch,
    PickTask,
    ScanEvent,
    User,
    Wave,
    Zone,
    metadata,
)
from wms.kpis import utc
from wms.model import (
    BatchStatus,
    ExceptionStatus,
    MovementKind,
    OrderStatus,
    Role,
    TaskStatus,
    WaveStatus,
)

OPEN_ORDER = (
    OrderStatus.RECEIVED,
    OrderStatus.ALLOCATED,
    OrderStatus.PARTLY_ALLOCATED,
    OrderStatus.BACKORDERED,
    OrderStatus.RELEASED,
    OrderStatus.PICKING,
    OrderStatus.PICKED,
)
# Not yet picked: these still need floor time before the truck leaves.
NOT_PICKED = OPEN_ORDER[:-1]
ACTIVE_BATCH = (BatchStatus.ASSIGNED, BatchStatus.IN_PROGRESS)


def _iso(moment: dt.datetime | None) -> str | None:
    return utc(moment).isoformat() if moment is not None else None


def change_marker(session: Session) -> tuple[Any, ...]:
    """Cheap figures that change whenever anything the dashboard shows changes."""
    return (
        session.scalar(select(func.max(Movement.id))),
        session.scalar(select(func.max(OrderEvent.id))),
        session.scalar(select(func.max(AuditLog.id))),
        tuple(
            session.execute(
                select(func.count(), func.max(FloorException.id)).where(
                    FloorException.status == ExceptionStatus.OPEN
                )
            ).one()
        ),
        tuple(
            session.execute(
                select(func.count(), func.coalesce(func.sum(PickBatch.picker_id), 0)).where(
                    PickBatch.status.in_(ACTIVE_BATCH)
                )
            ).one()
        ),
    )


def orders_panel(session: Session, now: dt.datetime, at_risk_minutes: int = 60) -> dict[str, Any]:
    """Orders by status, and open orders by cut-off with the ones at risk flagged."""
    by_status = {
        status.value: int(n)
        for status, n in session.execute(select(Order.status, func.count()).group_by(Order.status))
    }
    rows = session.execute(
        select(Order.cut_off, Order.status, func.count())
        .where(Order.status.in_(OPEN_ORDER), Order.cut_off.is_not(None))
        .group_by(Order.cut_off, Order.status)
    ).all()
    per_cut_off: dict[dt.datetime, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for cut_off, status, n in rows:
        if cut_off is not None:
            per_cut_off[utc(cut_off)][status.value] += int(n)
    soon = now + dt.timedelta(minutes=at_risk_minutes)
    cut_offs = []
    for cut_off in sorted(per_cut_off)[:12]:
        counts = per_cut_off[cut_off]
        not_picked = sum(counts.get(s.value, 0) for s in NOT_PICKED)
        cut_offs.append(
            {
                "cut_off": cut_off.isoformat(),
                "open": sum(counts.values()),
                "not_picked": not_picked,
                "picked": counts.get(OrderStatus.PICKED.value, 0),
                "overdue": cut_off <= now,
                "at_risk": not_picked > 0 and cut_off <= soon,
            }
        )
    return {"by_status": by_status, "cut_offs": cut_offs}


def waves_panel(session: Session, limit: int = 8) -> list[dict[str, Any]]:
    """Planned, held and released waves, newest first, with their batch and task progress."""
    waves = session.scalars(
        select(Wave)
        .where(Wave.status.in_((WaveStatus.PLANNED, WaveStatus.HELD, WaveStatus.RELEASED)))
        .order_by(Wave.cut_off.is_(None), Wave.cut_off, Wave.id)
        .limit(limit)
    ).all()
    ids = [w.id for w in waves]
    tasks: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    batches: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    orders: dict[int, int] = {}
    if ids:
        for wave_id, task_status, n in session.execute(
            select(PickBatch.wave_id, PickTask.status, func.count())
            .join(PickBatch, PickBatch.id == PickTask.batch_id)
            .where(PickBatch.wave_id.in_(ids))
            .group_by(PickBatch.wave_id, PickTask.status)
        ):
            tasks[int(wave_id or 0)][task_status.value] = int(n)
        for wave_id, batch_status, n in session.execute(
            select(PickBatch.wave_id, PickBatch.status, func.count())
            .where(PickBatch.wave_id.in_(ids))
            .group_by(PickBatch.wave_id, PickBatch.status)
        ):
            batches[int(wave_id or 0)][batch_status.value] = int(n)
        orders = {
            int(wave_id or 0): int(n)
            for wave_id, n in session.execute(
                select(Order.wave_id, func.count())
                .where(Order.wave_id.in_(ids))
                .group_by(Order.wave_id)
            )
        }
    answer = []
    for wave in waves:
        t = tasks[wave.id]
        total = sum(t.values())
        closed = t.get("done", 0) + t.get("short", 0) + t.get("cancelled", 0)
        answer.append(
            {
                "code": wave.code,
                "status": wave.status.value,
                "cut_off": _iso(wave.cut_off),
                "carrier": wave.carrier,
                "orders": orders.get(wave.id, 0),
                "tasks": total,
                "tasks_closed": closed,
                "progress": round(100.0 * closed / total, 1) if total else 0.0,
                "batches": dict(batches[wave.id]),
            }
        )
    return answer


def paused_pickers(session: Session, now: dt.datetime) -> dict[int, bool]:
    """Who is on a break: the last pause or resume each picker logged in the last 12 hours."""
    paused: dict[int, bool] = {}
    for user_id, raw in session.execute(
        select(ScanEvent.user_id, ScanEvent.raw)
        .where(
            ScanEvent.raw.in_(("pause", "resume")),
            ScanEvent.kind == "action",
            ScanEvent.received_at >= now - dt.timedelta(hours=12),
        )
        .order_by(ScanEvent.received_at)
    ):
        if user_id is not None:
            paused[user_id] = raw == "pause"
    return paused


def pickers_panel(
    session: Session, picks_last_hour: dict[str, int], paused: dict[int, bool]
) -> list[dict[str, Any]]:
    """Every active picker: their cart, current task, zone, picks in the last hour, pause."""
    pickers = session.execute(
        select(User.id, User.username, User.display_name)
        .where(User.role == Role.PICKER, User.active.is_(True))
        .order_by(User.username)
    ).all()
    batches = {
        row.picker_id: row
        for row in session.execute(
            select(PickBatch.id, PickBatch.code, PickBatch.zone_id, PickBatch.picker_id).where(
                PickBatch.status.in_(ACTIVE_BATCH), PickBatch.picker_id.is_not(None)
            )
        )
    }
    next_seq = (
        select(PickTask.batch_id, func.min(PickTask.sequence).label("seq"))
        .where(
            PickTask.status == TaskStatus.OPEN,
            PickTask.batch_id.in_([b.id for b in batches.values()]),
        )
        .group_by(PickTask.batch_id)
        .subquery()
    )
    current = {
        batch_id: (location, sku, zone, quantity, task_id)
        for batch_id, location, sku, zone, quantity, task_id in session.execute(
            select(
                PickTask.batch_id,
                Location.code,
                Item.sku,
                Zone.code,
                PickTask.quantity,
                PickTask.id,
            )
            .join(
                next_seq,
                (next_seq.c.batch_id == PickTask.batch_id) & (next_seq.c.seq == PickTask.sequence),
            )
            .join(Location, Location.id == PickTask.location_id)
            .join(Item, Item.id == PickTask.item_id)
            .join(Zone, Zone.id == PickTask.zone_id)
        )
    }
    left = dict(
        session.execute(
            select(PickTask.batch_id, func.count())
            .where(
                PickTask.status == TaskStatus.OPEN,
                PickTask.batch_id.in_([b.id for b in batches.values()]),
            )
            .group_by(PickTask.batch_id)
        ).all()
    )
    zones = dict(session.execute(select(Zone.id, Zone.code)).all())
    answer = []
    for picker in pickers:
        batch = batches.get(picker.id)
        task = current.get(batch.id) if batch else None
        answer.append(
            {
                "username": picker.username,
                "name": picker.display_name,
                "batch": batch.code if batch else None,
                "zone": (task[2] if task else zones.get(batch.zone_id)) if batch else None,
                "location": task[0] if task else None,
                "sku": task[1] if task else None,
                "quantity": task[3] if task else None,
                "task_id": task[4] if task else None,
                "tasks_left": int(left.get(batch.id, 0)) if batch else 0,
                "picks_last_hour": picks_last_hour.get(picker.username, 0),
                "paused": paused.get(picker.id, False),
            }
        )
    return answer


def exceptions_panel(session: Session, limit: int = 30) -> dict[str, Any]:
    """The open exception queue, oldest first."""
    total = int(
        session.scalar(
            select(func.count())
            .select_from(FloorException)
            .where(FloorException.status == ExceptionStatus.OPEN)
        )
        or 0
    )
    rows = session.execute(
        select(FloorException, Order.number, Location.code, Item.sku)
        .outerjoin(Order, Order.id == FloorException.order_id)
        .outerjoin(Location, Location.id == FloorException.location_id)
        .outerjoin(Item, Item.id == FloorException.item_id)
        .where(FloorException.status == ExceptionStatus.OPEN)
        .order_by(FloorException.created_at, FloorException.id)
        .limit(limit)
    ).all()
    items = [
        {
            "id": e.id,
            "kind": e.kind.value,
            "order": number,
            "location": location,
            "sku": sku,
            "quantity": e.quantity,
            "outcome": e.outcome,
            "detail": e.detail,
            "created_at": _iso(e.created_at),
        }
        for e, number, location, sku in rows
    ]
    return {"open": total, "items": items}


def picks_since(session: Session, after_id: int, limit: int = 200) -> list[dict[str, Any]]:
    """Pick movements after ``after_id`` (oldest first): the live ticker, and for latency."""
    rows = session.execute(
        select(
            Movement.id,
            Movement.created_at,
            Movement.quantity,
            Movement.scan_id,
            User.username,
            Location.code,
            Zone.code,
            Item.sku,
        )
        .join(Location, Location.id == Movement.from_location_id)
        .join(Zone, Zone.id == Location.zone_id)
        .join(Item, Item.id == Movement.item_id)
        .outerjoin(User, User.id == Movement.user_id)
        .where(Movement.kind == MovementKind.PICK, Movement.id > after_id)
        .order_by(Movement.id.desc())
        .limit(limit)
    ).all()
    return [
        {
            "id": r[0],
            "at": _iso(r[1]),
            "quantity": r[2],
            "scan_id": r[3],
            "picker": r[4],
            "location": r[5],
            "zone": r[6],
            "sku": r[7],
        }
        for r in reversed(rows)
    ]


def last_pick_id(session: Session) -> int:
    """The id of the latest pick movement (0 when none)."""
    return int(
        session.scalar(select(func.max(Movement.id)).where(Movement.kind == MovementKind.PICK)) or 0
    )


def print_jobs_panel(session: Session) -> dict[str, Any] | None:
    """Print jobs by printer and state, and the latest failed ones; None without a print queue."""
    table: Table | None = metadata.tables.get("print_job")
    if table is None or not {"printer", "state", "id"} <= set(table.c.keys()):
        return None
    by_printer: dict[str, dict[str, int]] = defaultdict(dict)
    for printer, state, n in session.execute(
        select(table.c.printer, table.c.state, func.count()).group_by(
            table.c.printer, table.c.state
        )
    ):
        by_printer[str(printer)][str(getattr(state, "value", state))] = int(n)
    failed = []
    if "last_error" in table.c:
        for row in session.execute(
            select(table.c.id, table.c.printer, table.c.last_error)
            .where(table.c.state == "failed")
            .order_by(table.c.id.desc())
            .limit(5)
        ):
            failed.append({"id": row[0], "printer": row[1], "error": row[2]})
    return {"by_printer": dict(by_printer), "failed": failed}
