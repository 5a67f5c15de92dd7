"""Each scan is recorded exactly once under its client id; the log cannot be rewritten."""

from __future__ import annotations

import threading
import uuid

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from wms.db.schema import ScanEvent
from wms.errors import InvalidInput
from wms.model import ScanOutcome
from wms.scans import ScanRecord, record_scan


def _record(client_id: str, raw: str = "05412345000013") -> ScanRecord:
    return ScanRecord(
        client_id=client_id,
        raw=raw,
        kind="item",
        outcome=ScanOutcome.ACCEPTED,
        parsed={"gtin": raw},
        result={"message": "ok"},
    )


def test_a_repeat_returns_the_original(database):
    client_id = str(uuid.uuid4())
    with database.write() as s:
        _first, created = record_scan(s, _record(client_id))
        assert created
    with database.write() as s:
        again, created = record_scan(s, _record(client_id, raw="something else"))
        assert not created
        assert again.raw == "05412345000013"
        assert again.result == {"message": "ok"}
    with database.read() as s:
        assert s.scalar(select(func.count()).select_from(ScanEvent)) == 1


def test_a_bad_client_id_is_refused(database):
    with pytest.raises(InvalidInput, match="client id"), database.write() as s:
        record_scan(s, _record("x"))


def test_two_copies_arriving_together_are_recorded_once(database):
    client_id = str(uuid.uuid4())
    barrier = threading.Barrier(8)
    created: list[bool] = []

    def send() -> None:
        barrier.wait()
        with database.write() as s:
            created.append(record_scan(s, _record(client_id))[1])

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(created) == [False] * 7 + [True]
    with database.read() as s:
        assert s.scalar(select(func.count()).select_from(ScanEvent)) == 1


def test_the_scan_log_is_immutable(database):
    with database.write() as s:
        record_scan(s, _record("scan-0001"))
    with pytest.raises(DBAPIError, match="append-only"), database.write() as s:
        s.execute(text("UPDATE scan_event SET raw = 'forged'"))
