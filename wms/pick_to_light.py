"""Pick-to-light zones: which tote is working in a zone, and light presses as pick confirmations.

A light zone works one tote at a time (release makes one batch per order there). A confirm
press goes through :func:`wms.picks.confirm_pick`, the use case a handheld confirmation ends
in, so the ledger movement and the scan log are the same; the press's client id (device, pick,
button, counter value) makes a press read twice count once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from wms.db.schema import (
    Device,
    Location,
    Order,
    PickBatch,
    PickTask,
    ReplenishmentTask,
    ScanEvent,
    Zone,
)
from wms.errors import WmsError
from wms.lights import Button, OpenPick
from wms.model import BatchKind, BatchStatus, ScanOutcome, TaskStatus
from wms.picks import confirm_pick, report_short
from wms.scans import ScanRecord, find_scan, record_scan

WORKING = (BatchStatus.ASSIGNED, BatchStatus.IN_PROGRESS)


@dataclass(frozen=True, slots=True)
class PressOutcome:
    """What a press did; ``reason`` is a stable code, ``params`` fill its message."""

    ok: bool
    reason: str
    params: dict[str, Any] = field(default_factory=dict)
    repeated: bool = False

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form, as stored in the scan log."""
        return asdict(self)


def working_tote(session: Session, zone_code: str) -> PickBatch | None:
    """The tote (pick batch) working in the zone now, if any."""
    return session.scalar(
        select(PickBatch)
        .join(Zone, PickBatch.zone_id == Zone.id)
        .where(Zone.code == zone_code, PickBatch.status.in_(WORKING))
        .order_by(PickBatch.started_at.is_(None), PickBatch.started_at, PickBatch.id)
        .limit(1)
    )


def start_next_tote(
    session: Session, zone_code: str, *, now: dt.datetime | None = None
) -> PickBatch | None:
    """Send the most urgent waiting tote into the zone (its picks light); None if none waits."""
    candidates = session.scalars(
        select(PickBatch.id)
        .join(Zone, PickBatch.zone_id == Zone.id)
        .where(
            Zone.code == zone_code,
            PickBatch.status == BatchStatus.OPEN,
            PickBatch.kind != BatchKind.REPLENISHMENT,
        )
        .order_by(PickBatch.priority.desc(), PickBatch.cut_off.is_(None), PickBatch.cut_off)
        .order_by(PickBatch.id)
        .limit(5)
    ).all()
    for batch_id in candidates:
        # Conditional, so two server processes never start the same tote twice.
        started = session.execute(
            update(PickBatch)
            .where(PickBatch.id == batch_id, PickBatch.status == BatchStatus.OPEN)
            .values(status=BatchStatus.IN_PROGRESS, started_at=now or dt.datetime.now(dt.UTC))
            .execution_options(synchronize_session=False)
        )
        if started.rowcount == 1:  # type: ignore[attr-defined]
            batch = session.get_one(PickBatch, batch_id)
            session.refresh(batch)
            return batch
    return None


def open_picks(session: Session, batch_id: int) -> list[OpenPick]:
    """The tote's open picks that can be made now (not waiting for a replenishment)."""
    waiting = select(ReplenishmentTask.id).where(ReplenishmentTask.status == TaskStatus.OPEN)
    rows = session.execute(
        select(
            PickTask.id,
            Location.code,
            PickTask.quantity - PickTask.picked_quantity,
            PickTask.sequence,
        )
        .join(Location, PickTask.location_id == Location.id)
        .where(
            PickTask.batch_id == batch_id,
            PickTask.status == TaskStatus.OPEN,
            (PickTask.waits_for_id.is_(None)) | (PickTask.waits_for_id.not_in(waiting)),
        )
    ).all()
    return [OpenPick(int(t), str(loc), int(q), int(s)) for t, loc, q, s in rows]


def units_picked(session: Session, batch_id: int) -> int:
    """Units picked into the tote so far."""
    return int(
        session.scalar(
            select(func.coalesce(func.sum(PickTask.picked_quantity), 0)).where(
                PickTask.batch_id == batch_id
            )
        )
        or 0
    )


def batch_status(session: Session, batch_id: int) -> BatchStatus | None:
    """Where a batch is now (None if it does not exist)."""
    return session.scalar(select(PickBatch.status).where(PickBatch.id == batch_id))


def press_pick(
    session: Session,
    *,
    client_id: str,
    task_id: int,
    button: Button,
    quantity: int | None,
    device: str,
    location: str,
    now: dt.datetime | None = None,
) -> PressOutcome:
    """A confirm press picks the task's remaining quantity; a short press reports a short pick.

    Recorded once in the scan log under ``client_id``; a repeat returns the stored outcome.
    """
    previous = find_scan(session, client_id)
    if previous is not None:
        return PressOutcome(**{**previous.result, "repeated": True})
    now = now or dt.datetime.now(dt.UTC)
    try:
        # A savepoint: a refused press leaves nothing half done behind its scan-log row.
        with session.begin_nested():
            outcome = _apply_press(session, client_id, task_id, button, quantity, now)
    except WmsError as error:
        outcome = PressOutcome(False, error.code, {"detail": error.message, "task": task_id})
    device_id = session.scalar(select(Device.id).where(Device.name == device))
    record_scan(
        session,
        ScanRecord(
            client_id=client_id,
            raw=f"{button.value} {location}" + (f" {quantity}" if quantity is not None else ""),
            kind="light",
            outcome=ScanOutcome.ACCEPTED if outcome.ok else ScanOutcome.REFUSED,
            device_id=device_id,
            station=device,
            reason=None if outcome.ok else outcome.reason,
            parsed={"location": location, "button": button.value, "task": task_id},
            result=outcome.as_dict(),
            scanned_at=now,
        ),
    )
    return outcome


def _apply_press(
    session: Session,
    client_id: str,
    task_id: int,
    button: Button,
    quantity: int | None,
    now: dt.datetime,
) -> PressOutcome:
    task = session.get(PickTask, task_id)
    remaining = task.quantity - task.picked_quantity if task is not None else 0
    if button is Button.CONFIRM:
        result = confirm_pick(session, task_id, remaining, scan_id=client_id, now=now)
        order = session.get_one(Order, session.get_one(PickTask, task_id).order_id)
        return PressOutcome(
            True,
            "picked",
            {
                "task": task_id,
                "quantity": result.picked,
                "order": order.number,
                "batch_done": result.batch_done,
            },
        )
    short = report_short(session, task_id, quantity or 0, scan_id=client_id, now=now)
    return PressOutcome(
        True,
        "short_reported",
        {
            "task": task_id,
            "found": short.picked,
            "missing": short.missing,
            "exception": short.exception_id,
        },
    )


def tote_waiting(session: Session, zone_code: str) -> tuple[int, int] | None:
    """The finished tote whose "order complete" light waits for its pass-on press, if any.

    That is the zone's last finished tote when no tote has entered since and no pass-on press
    is recorded for it: read from the database, so a restart keeps waiting for the press.
    """
    last = session.execute(
        select(PickBatch.id, PickBatch.completed_at)
        .join(Zone, PickBatch.zone_id == Zone.id)
        .where(Zone.code == zone_code, PickBatch.status == BatchStatus.DONE)
        .order_by(PickBatch.completed_at.desc(), PickBatch.id.desc())
        .limit(1)
    ).first()
    if last is None or last.completed_at is None:
        return None
    later = session.scalar(
        select(func.count())
        .select_from(PickBatch)
        .join(Zone, PickBatch.zone_id == Zone.id)
        .where(
            Zone.code == zone_code,
            PickBatch.started_at > last.completed_at,
            PickBatch.id != last.id,
        )
    )
    if later:
        return None
    passed = session.scalars(
        select(ScanEvent.parsed)
        .where(ScanEvent.kind == "tote_passed_on", ScanEvent.received_at >= last.completed_at)
        .limit(100)
    ).all()
    if any(parsed.get("batch") == last.id for parsed in passed):
        return None
    return int(last.id), units_picked(session, last.id)


def pass_on(
    session: Session, *, client_id: str, batch_id: int, device: str, now: dt.datetime | None = None
) -> bool:
    """The "order complete" light was pressed: the tote leaves the zone (recorded once)."""
    if find_scan(session, client_id) is not None:
        return False
    device_id = session.scalar(select(Device.id).where(Device.name == device))
    record_scan(
        session,
        ScanRecord(
            client_id=client_id,
            raw=f"pass on {batch_id}",
            kind="tote_passed_on",
            outcome=ScanOutcome.ACCEPTED,
            device_id=device_id,
            station=device,
            parsed={"batch": batch_id},
            result={"ok": True, "reason": "tote_passed_on", "params": {"batch": batch_id}},
            scanned_at=now or dt.datetime.now(dt.UTC),
        ),
    )
    return True
