"""The persistent print queue: every label is stored as a job before a printer sees it.

A job's life: ``queued`` -> ``sending`` (claimed by the printer's sender, committed before a
byte leaves) -> ``printed`` (committed after the printer took the bytes and answered ``~HS``)
or back to ``queued`` with a back-off when the printer is not ready or not reachable. A
packer or supervisor may ``void`` a job that is not printed yet, and ``reprint`` any job (a
new job with the same bytes, so the preview and the audit trail stay exact).

Delivery is at least once, never silently twice. The window: a job is marked printed in a
transaction after the printer's socket took its bytes; if the server dies (or the database
write fails) between the two, the job is still ``sending`` and :func:`requeue_interrupted`
sends it again at the next start, so that label may come out twice. The same holds when the
connection breaks while the bytes are going out: the job is queued again with a
``last_error`` that says a copy may have printed. Nothing else sends a job twice: a job is
claimed by a conditional update, so two senders never take the same one.

The preview: a job keeps the laid-out label (``labels.layout.Drawing``) it was rendered from.
:func:`job_drawings` rebuilds it and checks that it renders to exactly the stored ZPL, so a
preview drawn from it (``labels.pdf.drawings_pdf``) is the label as sent, without a ZPL
renderer at run time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import CursorResult, or_, select, update
from sqlalchemy.orm import Session

from labels.code128 import Code128Plan, Symbol, SymbolKind
from labels.layout import BarcodeItem, Drawing, LabelSize, RuleItem, TextItem
from labels.zpl import drawing_to_zpl, job_bytes
from wms.db.schema import PrintJob
from wms.errors import Conflict, NotFound
from wms.model import PrintJobState

# Longest wait between two tries: a printer that is fixed gets its jobs within this time.
MAX_BACKOFF_S = 5.0
FIRST_BACKOFF_S = 0.25
OPEN_STATES = (PrintJobState.QUEUED, PrintJobState.SENDING)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def utc_iso(moment: dt.datetime | None) -> str | None:
    """ISO 8601 in UTC with its offset (SQLite gives back naive UTC date-times)."""
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)).isoformat()


def _rowcount(result: object) -> int:
    assert isinstance(result, CursorResult)
    return int(result.rowcount)


# --- drawings as JSON -------------------------------------------------------------------------


def drawing_to_data(drawing: Drawing) -> dict[str, Any]:
    """A drawing as plain JSON data, to keep with its job."""
    items: list[dict[str, Any]] = []
    for item in drawing.items:
        if isinstance(item, TextItem):
            items.append({"t": "text", "x": item.x, "y": item.y, "h": item.height, "s": item.text})
        elif isinstance(item, BarcodeItem):
            items.append(
                {
                    "t": "barcode",
                    "x": item.x,
                    "y": item.y,
                    "h": item.height,
                    "m": item.module,
                    "gs1": item.gs1,
                    "sym": [[s.kind.value, s.data] for s in item.plan.symbols],
                }
            )
        else:
            items.append(
                {"t": "rule", "x": item.x, "y": item.y, "w": item.width, "k": item.thickness}
            )
    return {
        "size": [drawing.size.width, drawing.size.height],
        "template": drawing.template,
        "items": items,
    }


def drawing_from_data(data: dict[str, Any]) -> Drawing:
    """The drawing that :func:`drawing_to_data` stored."""
    items: list[TextItem | BarcodeItem | RuleItem] = []
    for raw in data["items"]:
        if raw["t"] == "text":
            items.append(TextItem(raw["x"], raw["y"], raw["h"], raw["s"]))
        elif raw["t"] == "barcode":
            plan = Code128Plan(tuple(Symbol(SymbolKind(k), d) for k, d in raw["sym"]))
            items.append(BarcodeItem(raw["x"], raw["y"], raw["h"], raw["m"], plan, raw["gs1"]))
        else:
            items.append(RuleItem(raw["x"], raw["y"], raw["w"], raw["k"]))
    width, height = data["size"]
    return Drawing(LabelSize(width, height), tuple(items), data.get("template", ""))


def job_drawings(job: PrintJob) -> list[Drawing]:
    """The labels of a job, checked to render to exactly the ZPL that was (or will be) sent."""
    drawings = [drawing_from_data(d) for d in job.data.get("drawings", [])]
    if not drawings or job_bytes(drawing_to_zpl(d) for d in drawings) != job.zpl:
        raise Conflict(f"print job {job.id} has no preview that matches its ZPL", job_id=job.id)
    return drawings


# --- the queue --------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewPrintJob:
    """What to print where: the printer's name, the document kind and its laid-out labels."""

    printer: str
    document: str
    drawings: Sequence[Drawing]
    order_id: int | None = None
    parcel_id: int | None = None


def enqueue(session: Session, new: NewPrintJob, *, user_id: int | None = None) -> PrintJob:
    """Store a job (its ZPL and the drawings it came from); the printer's sender picks it up."""
    if not new.drawings:
        raise Conflict("a print job needs at least one label")
    now = _now()
    job = PrintJob(
        printer=new.printer,
        document=new.document,
        order_id=new.order_id,
        parcel_id=new.parcel_id,
        zpl=job_bytes(drawing_to_zpl(d) for d in new.drawings),
        data={"drawings": [drawing_to_data(d) for d in new.drawings]},
        state=PrintJobState.QUEUED,
        attempts=0,
        last_error="",
        created_by=user_id,
        created_at=now,
        updated_at=now,
    )
    session.add(job)
    session.flush()
    return job


@dataclass(frozen=True)
class ClaimedJob:
    """A job taken for sending: what the sender needs, nothing more."""

    id: int
    zpl: bytes
    attempts: int


def claim_next(
    session: Session, printer: str, *, now: dt.datetime | None = None
) -> ClaimedJob | None:
    """Take the oldest due job of ``printer`` and mark it ``sending`` (commit before sending)."""
    now = now or _now()
    candidates = session.scalars(
        select(PrintJob.id)
        .where(
            PrintJob.printer == printer,
            PrintJob.state == PrintJobState.QUEUED,
            or_(PrintJob.next_attempt_at.is_(None), PrintJob.next_attempt_at <= now),
        )
        .order_by(PrintJob.id)
        .limit(5)
    ).all()
    for job_id in candidates:
        # The state condition makes the claim safe when two senders see the same candidate.
        taken = session.execute(
            update(PrintJob)
            .where(PrintJob.id == job_id, PrintJob.state == PrintJobState.QUEUED)
            .values(
                state=PrintJobState.SENDING,
                attempts=PrintJob.attempts + 1,
                updated_at=now,
            )
            .returning(PrintJob.zpl, PrintJob.attempts)
            .execution_options(synchronize_session=False)
        ).first()
        if taken is not None:
            return ClaimedJob(job_id, bytes(taken[0]), int(taken[1]))
    return None


def next_due(session: Session, printer: str) -> dt.datetime | None:
    """When the earliest queued job of ``printer`` may be tried (None: nothing queued)."""
    rows = session.execute(
        select(PrintJob.next_attempt_at)
        .where(PrintJob.printer == printer, PrintJob.state == PrintJobState.QUEUED)
        .order_by(PrintJob.next_attempt_at.is_not(None), PrintJob.next_attempt_at)
        .limit(1)
    ).first()
    if rows is None:
        return None
    due: dt.datetime | None = rows[0]
    if due is None:
        return _now()
    # SQLite hands back naive date-times; every time stored here is UTC.
    return due if due.tzinfo else due.replace(tzinfo=dt.UTC)


def _finish(session: Session, job_id: int, **values: Any) -> None:
    result = session.execute(
        update(PrintJob)
        .where(PrintJob.id == job_id, PrintJob.state == PrintJobState.SENDING)
        .values(updated_at=_now(), **values)
        .execution_options(synchronize_session=False)
    )
    if _rowcount(result) != 1:
        raise Conflict(f"print job {job_id} is not being sent", job_id=job_id)


def mark_printed(
    session: Session, job_id: int, *, note: str = "", now: dt.datetime | None = None
) -> None:
    """The printer took the job's bytes: it is done (``note``: a problem it reported after)."""
    _finish(
        session, job_id, state=PrintJobState.PRINTED, sent_at=now or _now(), last_error=note[:200]
    )


def backoff_seconds(attempts: int) -> float:
    """Wait before the next try: doubling from a quarter second, at most five seconds."""
    return float(min(MAX_BACKOFF_S, FIRST_BACKOFF_S * 2.0 ** max(0, attempts - 1)))


def mark_retry(
    session: Session, job_id: int, error: str, *, attempts: int, now: dt.datetime | None = None
) -> dt.datetime:
    """The printer could not take the job (not ready, unreachable): queue it again, later."""
    due = (now or _now()) + dt.timedelta(seconds=backoff_seconds(attempts))
    _finish(
        session,
        job_id,
        state=PrintJobState.QUEUED,
        last_error=error[:200],
        next_attempt_at=due,
    )
    return due


def mark_failed(session: Session, job_id: int, error: str) -> None:
    """The job cannot be printed as it is (no such printer): it waits for a person."""
    _finish(session, job_id, state=PrintJobState.FAILED, last_error=error[:200])


def requeue_interrupted(session: Session, printer: str) -> int:
    """Jobs left ``sending`` by a stopped server go back to the queue (at-least-once)."""
    result = session.execute(
        update(PrintJob)
        .where(PrintJob.printer == printer, PrintJob.state == PrintJobState.SENDING)
        .values(
            state=PrintJobState.QUEUED,
            next_attempt_at=None,
            last_error="interrupted while sending: this label may print twice",
            updated_at=_now(),
        )
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result)


def _job(session: Session, job_id: int) -> PrintJob:
    job = session.get(PrintJob, job_id)
    if job is None:
        raise NotFound(f"print job {job_id} does not exist", job_id=job_id)
    return job


def void(session: Session, job_id: int) -> PrintJob:
    """Cancel a job that has not printed; a job on its way to the printer cannot be stopped."""
    job = _job(session, job_id)
    result = session.execute(
        update(PrintJob)
        .where(
            PrintJob.id == job_id,
            PrintJob.state.in_((PrintJobState.QUEUED, PrintJobState.FAILED)),
        )
        .values(state=PrintJobState.VOID, updated_at=_now())
        .execution_options(synchronize_session=False)
    )
    session.refresh(job)
    if _rowcount(result) != 1:
        raise Conflict(
            f"print job {job_id} is {job.state.value}: only a queued or failed job can be voided",
            job_id=job_id,
            state=job.state.value,
        )
    return job


def reprint(
    session: Session, job_id: int, *, printer: str | None = None, user_id: int | None = None
) -> PrintJob:
    """A new job with the same labels, on the same printer or on ``printer``."""
    original = _job(session, job_id)
    now = _now()
    job = PrintJob(
        printer=printer or original.printer,
        document=original.document,
        order_id=original.order_id,
        parcel_id=original.parcel_id,
        zpl=original.zpl,
        data=original.data,
        state=PrintJobState.QUEUED,
        attempts=0,
        last_error="",
        reprint_of=original.id,
        created_by=user_id,
        created_at=now,
        updated_at=now,
    )
    session.add(job)
    session.flush()
    return job


def jobs(
    session: Session,
    *,
    printer: str | None = None,
    order_id: int | None = None,
    limit: int = 50,
) -> list[PrintJob]:
    """The newest jobs first, of one printer or one order."""
    query = select(PrintJob).order_by(PrintJob.id.desc()).limit(limit)
    if printer is not None:
        query = query.where(PrintJob.printer == printer)
    if order_id is not None:
        query = query.where(PrintJob.order_id == order_id)
    return list(session.scalars(query))


def job_view(job: PrintJob) -> dict[str, Any]:
    """A job as the screens and the API show it (no bytes)."""
    return {
        "id": job.id,
        "printer": job.printer,
        "document": job.document,
        "order_id": job.order_id,
        "parcel_id": job.parcel_id,
        "state": job.state.value,
        "attempts": job.attempts,
        "last_error": job.last_error,
        "reprint_of": job.reprint_of,
        "labels": len(job.data.get("drawings", [])),
        "bytes": len(job.zpl),
        "created_at": utc_iso(job.created_at),
        "sent_at": utc_iso(job.sent_at),
    }
