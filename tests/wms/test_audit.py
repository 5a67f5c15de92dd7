"""The audit log: rows written in the caller's transaction, read newest first, never changed."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from wms.access import NewUser, create_user
from wms.audit import recent_actions, record_action
from wms.db import Database
from wms.model import Role

T0 = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)


def test_actions_are_recorded_and_read_back_newest_first(database: Database) -> None:
    with database.write() as session:
        boss = create_user(session, NewUser("sophie", "Sophie", Role.SUPERVISOR, None, None))
        record_action(
            session,
            user_id=boss.id,
            action="hold_wave",
            target="wave:W1",
            reason="  carrier strike  ",
            detail={"orders_held": 3},
            now=T0,
        )
        record_action(session, user_id=None, action="release_wave", target="wave:W2", now=T0)
    with database.read() as session:
        entries = recent_actions(session)
        assert [(e.username, e.action, e.target, e.reason) for e in entries] == [
            ("", "release_wave", "wave:W2", ""),
            ("sophie", "hold_wave", "wave:W1", "carrier strike"),
        ]
        assert entries[1].detail == {"orders_held": 3}
        assert entries[1].as_dict()["at"] == "2026-03-02T08:00:00+00:00"
        assert [e.action for e in recent_actions(session, limit=1)] == ["release_wave"]
        later = T0 + dt.timedelta(hours=1)
        assert recent_actions(session, since=later) == []


def test_a_rolled_back_action_leaves_no_row(database: Database) -> None:
    with pytest.raises(RuntimeError), database.write() as session:
        record_action(session, user_id=None, action="cancel_order", target="order:O-1")
        raise RuntimeError("the action itself failed")
    with database.read() as session:
        assert recent_actions(session) == []


def test_the_database_refuses_to_change_the_log(database: Database) -> None:
    with database.write() as session:
        record_action(session, user_id=None, action="pause_picker", target="picker:p1")
    for statement in ("UPDATE audit_log SET reason = 'edited'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"), database.engine.begin() as c:
            c.execute(text(statement))
    with database.read() as session:
        assert [e.reason for e in recent_actions(session)] == [""]
