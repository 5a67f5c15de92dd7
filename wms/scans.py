"""The scan log: every scan recorded once under the id its client generated."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, bindparam, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from wms.db.direct import execute
from wms.db.schema import ScanEvent, metadata
from wms.errors import InvalidInput
from wms.model import ScanOutcome

# Client ids are UUIDs or similar; keep them to safe characters so logs stay readable.
_CLIENT_ID = re.compile(r"^[A-Za-z0-9_.:-]{8,64}$")


@dataclass(frozen=True, slots=True)
class ScanRecord:
    """A scan and what the server made of it, as it goes into the log."""

    client_id: str
    raw: str
    kind: str
    outcome: ScanOutcome
    user_id: int | None = None
    device_id: int | None = None
    station: str | None = None
    symbology: str | None = None
    reason: str | None = None
    parsed: dict[str, Any] = field(default_factory=dict)
    result: dict[str, Any] = field(default_factory=dict)
    scanned_at: dt.datetime | None = None


_scan_t: Table = metadata.tables["scan_event"]
_STORED = select(_scan_t.c.result).where(_scan_t.c.id == bindparam("p_id"))


def _log(insert: Callable[[Table], Any]) -> Any:
    # A repeat inserts nothing rather than failing: the caller sees it by the row count.
    return insert(_scan_t).on_conflict_do_nothing(index_elements=["id"])


# RETURNING on PostgreSQL, because psycopg reports no row count for this statement; not on
# SQLite, which does, and where RETURNING costs half as much again as the insert.
_LOG = {
    "postgresql": _log(postgresql.insert).returning(_scan_t.c.id),
    "sqlite": _log(sqlite.insert),
}


def _check_client_id(client_id: str) -> None:
    if not _CLIENT_ID.match(client_id):
        raise InvalidInput(
            "a scan needs a client id of 8-64 letters, digits or _.:- (a UUID, say)",
            field="client_id",
        )


def stored_answer(session: Session, client_id: str) -> dict[str, Any] | None:
    """The answer recorded for ``client_id``, if that scan was seen before (one Core read)."""
    result = execute(session.connection(), _STORED, {"p_id": client_id}).first()
    return dict(result[0]) if result is not None else None


def log_scan(session: Session, record: ScanRecord) -> bool:
    """Log a scan once in a single Core insert; False when its client id was logged first."""
    _check_client_id(record.client_id)
    connection = session.connection()
    inserted = execute(
        connection,
        _LOG[connection.dialect.name],
        {
            "id": record.client_id,
            "user_id": record.user_id,
            "device_id": record.device_id,
            "station": record.station,
            "raw": record.raw[:400],
            "symbology": record.symbology,
            "kind": record.kind,
            "parsed": record.parsed,
            "outcome": record.outcome,
            "reason": record.reason,
            "result": record.result,
            "scanned_at": record.scanned_at,
            "received_at": dt.datetime.now(dt.UTC),
        },
    )
    if connection.dialect.name == "sqlite":
        return inserted.rowcount == 1
    return inserted.first() is not None


def find_scan(session: Session, client_id: str) -> ScanEvent | None:
    """The scan already recorded under ``client_id``, if any."""
    return session.get(ScanEvent, client_id)


def record_scan(session: Session, record: ScanRecord) -> tuple[ScanEvent, bool]:
    """Log a scan once; a repeat of the same client id returns the original and False.

    Callers check :func:`find_scan` first and answer a repeat with the stored result; the
    primary key settles the race when two copies of one scan arrive at the same moment.
    """
    _check_client_id(record.client_id)
    existing = find_scan(session, record.client_id)
    if existing is not None:
        return existing, False
    event = ScanEvent(
        id=record.client_id,
        user_id=record.user_id,
        device_id=record.device_id,
        station=record.station,
        raw=record.raw[:400],
        symbology=record.symbology,
        kind=record.kind,
        parsed=record.parsed,
        outcome=record.outcome,
        reason=record.reason,
        result=record.result,
        scanned_at=record.scanned_at,
        received_at=dt.datetime.now(dt.UTC),
    )
    try:
        with session.begin_nested():
            session.add(event)
            session.flush()
    except IntegrityError:
        original = session.scalar(select(ScanEvent).where(ScanEvent.id == record.client_id))
        if original is None:
            raise
        return original, False
    return event, True
