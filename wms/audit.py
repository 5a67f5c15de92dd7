"""The audit log: every supervisor action on the floor, who, what, on which target, why, when.

Rows are only ever added. The database refuses UPDATE and DELETE on ``audit_log`` with the
same triggers as the inventory ledger (the migration creates them; importing this module
attaches them to ``create_all`` for test databases).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import DDL, event, func, select
from sqlalchemy.orm import Session

from wms.db import triggers
from wms.db.schema import AuditLog, User

TABLE = AuditLog.__table__
MAX_REASON = 300


def _attach_append_only_triggers() -> None:
    for dialect in ("sqlite", "postgresql"):
        for statement in triggers.create_statements(dialect, "audit_log"):
            # DDL applies %-formatting; the PL/pgSQL body has literal % placeholders.
            ddl = DDL(statement.replace("%", "%%")).execute_if(dialect=dialect)  # type: ignore[no-untyped-call]
            event.listen(TABLE, "after_create", ddl)


_attach_append_only_triggers()


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One line of the audit log as screens and the API show it."""

    id: int
    at: dt.datetime
    username: str
    action: str
    target: str
    reason: str
    detail: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        at = self.at if self.at.tzinfo else self.at.replace(tzinfo=dt.UTC)
        return {
            "id": self.id,
            "at": at.astimezone(dt.UTC).isoformat(),
            "username": self.username,
            "action": self.action,
            "target": self.target,
            "reason": self.reason,
            "detail": self.detail,
        }


def record_action(
    session: Session,
    *,
    user_id: int | None,
    action: str,
    target: str,
    reason: str = "",
    detail: dict[str, Any] | None = None,
    now: dt.datetime | None = None,
) -> AuditLog:
    """Write one action to the log, in the caller's transaction (so it commits with the change)."""
    username = ""
    if user_id is not None:
        username = session.scalar(select(User.username).where(User.id == user_id)) or ""
    row = AuditLog(
        user_id=user_id,
        username=username,
        action=action,
        target=target[:80],
        reason=reason.strip()[:MAX_REASON],
        detail=detail or {},
        at=now or dt.datetime.now(dt.UTC),
    )
    session.add(row)
    session.flush()
    return row


def recent_actions(
    session: Session, *, limit: int = 50, offset: int = 0, since: dt.datetime | None = None
) -> Sequence[AuditEntry]:
    """The latest actions first."""
    query = select(AuditLog).order_by(AuditLog.id.desc()).limit(limit).offset(offset)
    if since is not None:
        query = query.where(AuditLog.at >= since)
    return [
        AuditEntry(r.id, r.at, r.username, r.action, r.target, r.reason, dict(r.detail or {}))
        for r in session.scalars(query)
    ]


def count_actions(session: Session) -> int:
    """How many actions the log holds."""
    return int(session.scalar(select(func.count()).select_from(AuditLog)) or 0)
