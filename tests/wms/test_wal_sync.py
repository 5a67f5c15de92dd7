"""The scan writer's commits: synced on a thread of their own, nobody answered before the sync."""

from __future__ import annotations

import errno
import os
import threading
from collections.abc import Callable

import pytest

from wms.db import Database
from wms.db.group_commit import GroupCommit
from wms.db.wal_sync import WalSync
from wms.model import ScanOutcome
from wms.scans import ScanRecord, log_scan
from wms.scans import find_scan as found


def _log(client_id: str):
    def work(session):
        return log_scan(session, ScanRecord(client_id, "raw", "item", ScanOutcome.ACCEPTED))

    return work


def _thread(target: Callable[[], None]) -> None:
    threading.Thread(target=target, daemon=True).start()


def _wal_sync(sync: Callable[[int], None] = os.fdatasync) -> WalSync:
    return WalSync(start_thread=_thread, hand_back=lambda callback: callback(), sync=sync)


@pytest.fixture
def sqlite_file(tmp_path) -> Database:
    database = Database(f"sqlite:///{tmp_path}/synced.sqlite3")
    database.create_all()
    yield database
    database.dispose()


class _GatedSync:
    """An fdatasync that waits to be let through, and remembers which files it synced."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.go_on = threading.Event()
        self.files: list[str] = []

    def __call__(self, descriptor: int) -> None:
        self.files.append(os.readlink(f"/proc/self/fd/{descriptor}"))
        self.entered.set()
        assert self.go_on.wait(10)
        os.fdatasync(descriptor)


def test_a_caller_is_answered_only_once_the_wal_is_synced(sqlite_file: Database):
    gate = _GatedSync()
    writer = GroupCommit(sqlite_file, durable=_wal_sync(gate))
    answered: list[bool] = []
    caller = threading.Thread(target=lambda: answered.append(writer.run(_log("held-0001"))))
    caller.start()
    assert gate.entered.wait(10)
    caller.join(0.2)
    assert caller.is_alive() and answered == []  # committed, not yet on disk: no answer
    with sqlite_file.read() as session:
        assert found(session, "held-0001") is not None  # the commit itself is done
    gate.go_on.set()
    caller.join(10)
    assert answered == [True]
    assert gate.files and all(path.endswith("synced.sqlite3-wal") for path in gate.files)
    writer.close()


def test_the_writer_commits_without_a_sync_and_every_other_connection_keeps_full(
    sqlite_file: Database,
):
    writer = GroupCommit(sqlite_file, durable=_wal_sync())

    def synchronous(session) -> int:
        return int(session.connection().exec_driver_sql("PRAGMA synchronous").scalar())

    assert writer.run(synchronous) == 1  # NORMAL: the sync thread syncs instead
    with sqlite_file.read() as session:
        assert synchronous(session) == 2  # FULL
    writer.close()


def test_a_writer_connection_goes_back_to_the_pool_with_full_syncs(tmp_path):
    database = Database(f"sqlite:///{tmp_path}/one.sqlite3", pool_size=1, max_overflow=0)
    database.create_all()
    writer = GroupCommit(database, durable=_wal_sync())
    assert writer.run(_log("one-00001"))
    writer.close()  # its only pooled connection goes back
    with database.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2
    database.dispose()


def test_a_failed_sync_answers_its_callers_with_the_error(sqlite_file: Database):
    def failing(_descriptor: int) -> None:
        raise OSError(errno.EIO, "I/O error")

    writer = GroupCommit(sqlite_file, durable=_wal_sync(failing))
    with pytest.raises(OSError, match="I/O error"):
        writer.run(_log("lost-0001"))
    writer.close()


def test_many_callers_share_syncs_and_each_gets_its_own_result(sqlite_file: Database):
    durable = _wal_sync()
    writer = GroupCommit(sqlite_file, max_group=8, durable=durable)
    results: dict[str, bool] = {}
    ready = threading.Barrier(40)

    def scan(n: int) -> None:
        ready.wait()
        results[f"many-{n:04d}"] = writer.run(_log(f"many-{n:04d}"))

    threads = [threading.Thread(target=scan, args=(n,)) for n in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert results == {f"many-{n:04d}": True for n in range(40)}
    assert durable.released == writer.groups  # every committed group went through a sync
    assert 0 < durable.syncs <= writer.groups
    with sqlite_file.read() as session:
        assert all(found(session, f"many-{n:04d}") is not None for n in range(40))
    writer.close()


def test_an_in_memory_database_has_no_wal_to_sync():
    import sqlite3

    connection = sqlite3.connect(":memory:")
    with pytest.raises(ValueError, match="in-memory"):
        _wal_sync().attach(connection)
    connection.close()


def test_a_slow_sync_is_logged_with_how_many_commits_waited(
    sqlite_file: Database, monkeypatch, caplog
):
    from wms.db import wal_sync

    monkeypatch.setattr(wal_sync, "SLOW_SYNC_S", 0.0)  # every sync counts as slow
    durable = _wal_sync()
    writer = GroupCommit(sqlite_file, durable=durable)
    with caplog.at_level("WARNING", logger="wms.db.wal_sync"):
        assert writer.run(_log("slow-0001"))
    assert any("the WAL sync took" in r.message for r in caplog.records)
    assert durable.slowest > 0
    writer.close()
