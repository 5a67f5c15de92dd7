"""Group commit: scans share commits, a failing one loses only its own savepoint."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from wms.db import Database
from wms.db.group_commit import GroupCommit
from wms.db.schema import ScanEvent
from wms.errors import InvalidInput
from wms.model import ScanOutcome
from wms.scans import ScanRecord, log_scan, record_scan


def _log(client_id: str):
    def work(session):
        return log_scan(session, ScanRecord(client_id, "raw", "item", ScanOutcome.ACCEPTED))

    return work


def _logged(database) -> set[str]:
    with database.read() as session:
        return set(session.scalars(select(ScanEvent.id)))


def test_many_writers_share_commits_and_each_gets_its_own_result(database):
    writer = GroupCommit(database, max_group=16)
    results: dict[str, bool] = {}
    ready = threading.Barrier(40)

    def scan(n: int) -> None:
        ready.wait()
        client_id = f"scan-{n:04d}"
        results[client_id] = writer.run(_log(client_id))

    threads = [threading.Thread(target=scan, args=(n,)) for n in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    writer.close()
    assert results == {f"scan-{n:04d}": True for n in range(40)}
    assert _logged(database) == set(results)
    assert writer.units == 40
    assert writer.groups < 40  # scans arriving together were committed together


def test_a_failing_unit_rolls_back_alone(database):
    writer = GroupCommit(database)

    def half_done(session):
        log_scan(session, ScanRecord("half-done-1", "raw", "item", ScanOutcome.ACCEPTED))
        raise InvalidInput("refused after writing")

    assert writer.run(_log("kept-0001"))
    with pytest.raises(InvalidInput, match="refused after writing"):
        writer.run(half_done)
    assert writer.run(_log("kept-0002"))
    writer.close()
    assert _logged(database) == {"kept-0001", "kept-0002"}


def test_units_sharing_a_group_keep_theirs_and_a_failing_one_loses_its_own(database):
    writer = GroupCommit(database)
    started, gate = threading.Event(), threading.Event()
    errors: dict[str, BaseException] = {}

    def first(session):
        started.set()
        gate.wait(10)  # the others queue meanwhile: they then share the next group
        return _log("first-0001")(session)

    def orm_unit(session):  # the ORM's way of logging, with its own nested savepoint
        return record_scan(session, ScanRecord("orm-0001", "raw", "item", ScanOutcome.ACCEPTED))

    def half_done(session):
        log_scan(session, ScanRecord("half-done-1", "raw", "item", ScanOutcome.ACCEPTED))
        raise InvalidInput("refused after writing")

    def submit(name, work):
        try:
            writer.run(work)
        except InvalidInput as error:
            errors[name] = error

    threads = [threading.Thread(target=submit, args=("first", first))]
    threads[0].start()
    assert started.wait(10)  # the writer took the first: the others queue behind it
    later = (("orm", orm_unit), ("half", half_done), ("last", _log("last-0001")))
    for queued, (name, work) in enumerate(later, start=1):
        threads.append(threading.Thread(target=submit, args=(name, work)))
        threads[-1].start()
        while writer._queue.qsize() < queued:  # each behind the one before: a known order
            time.sleep(0.001)
    gate.set()
    for thread in threads:
        thread.join(30)
    writer.close()
    assert set(errors) == {"half"}
    assert _logged(database) == {"first-0001", "orm-0001", "last-0001"}
    assert writer.groups == 2  # the three behind the first shared one commit


def test_a_failed_commit_fails_every_unit_of_its_group(database):
    class BrokenDisk(Exception):
        pass

    broken = threading.Event()

    def commit_or_fail(commit):
        if broken.is_set():
            raise BrokenDisk("disk full")  # the transaction is then rolled back
        commit()

    writer = GroupCommit(database, run_commit=commit_or_fail)
    assert writer.run(_log("before-01"))
    broken.set()
    with pytest.raises(BrokenDisk):
        writer.run(_log("lost-0001"))
    broken.clear()
    assert writer.run(_log("after-01"))
    writer.close()
    assert _logged(database) == {"before-01", "after-01"}
    with database.read() as session:
        assert session.scalar(select(func.count()).select_from(ScanEvent)) == 2


def test_the_commit_can_run_on_another_thread(database):
    # The gevent server runs the COMMIT (the fsync) off the sockets' thread.
    threads_used: list[int] = []

    def elsewhere(commit):
        def run():
            threads_used.append(threading.get_ident())
            commit()

        thread = threading.Thread(target=run)
        thread.start()
        thread.join(10)

    writer = GroupCommit(database, run_commit=elsewhere)
    assert writer.run(_log("elsewhere-0001"))
    assert writer.run(_log("elsewhere-0002"))
    writer.close()
    assert len(threads_used) == 2 and threading.get_ident() not in threads_used
    assert _logged(database) == {"elsewhere-0001", "elsewhere-0002"}


@pytest.fixture
def sqlite_background(tmp_path) -> Iterator[Database]:
    """A SQLite database whose commits never checkpoint (the server's setting)."""
    db = Database(f"sqlite:///{tmp_path}/wal.sqlite3", background_checkpoints=True)
    db.create_all()
    try:
        yield db
    finally:
        db.dispose()


def test_the_writer_starts_a_long_wal_over_between_its_groups(sqlite_background, monkeypatch):
    db = sqlite_background
    monkeypatch.setattr("wms.db.database.WAL_RESTART_FRAMES", 20)
    writer = GroupCommit(db)
    for n in range(60):
        writer.run(_log(f"before-{n:04d}"))
    busy, frames, copied = db.checkpoint()  # the background round: copies, cannot restart
    assert frames > 20 and db.wal_restart_due
    writer.run(_log("finishes-0001"))  # the writer finishes the checkpoint after this group
    writer.close()
    assert not db.wal_restart_due
    writer = GroupCommit(db)
    writer.run(_log("after-0001"))  # the first write after it starts the WAL over
    writer.close()
    busy, frames, copied = db.checkpoint()
    assert frames < 20, "the WAL went on growing instead of starting over"
    assert len(_logged(db)) == 62


def test_the_writers_checkpoint_runs_where_it_is_told_not_where_commits_run(
    sqlite_background, monkeypatch
):
    db = sqlite_background
    monkeypatch.setattr("wms.db.database.WAL_RESTART_FRAMES", 20)
    ran: list[str] = []

    def commit_here(work):
        ran.append("commit")
        work()

    def checkpoint_aside(work):
        ran.append("checkpoint")
        work()

    writer = GroupCommit(db, run_commit=commit_here, run_checkpoint=checkpoint_aside)
    for n in range(30):
        writer.run(_log(f"before-{n:04d}"))
    db.checkpoint()
    assert db.wal_restart_due
    ran.clear()
    writer.run(_log("finishes-0001"))
    writer.close()
    assert ran == ["commit", "checkpoint"] and not db.wal_restart_due


def test_a_writer_whose_connection_was_left_in_a_transaction_recovers(sqlite_background):
    writer = GroupCommit(sqlite_background)
    writer.run(_log("first-0001"))
    assert writer._connection is not None
    writer._connection.exec_driver_sql("SELECT 1")  # autobegins, and is never ended
    assert writer._connection.in_transaction()
    writer.run(_log("second-0001"))
    writer.close()
    assert _logged(sqlite_background) == {"first-0001", "second-0001"}


def test_a_writer_whose_connection_broke_opens_a_new_one(database):
    writer = GroupCommit(database)
    writer.run(_log("before-0001"))
    assert writer._connection is not None
    if database.dialect == "postgresql":
        backend = writer._connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        writer._connection.rollback()
        with database.engine.connect() as other:
            other.exec_driver_sql(f"SELECT pg_terminate_backend({int(backend)})")
    else:
        writer._connection.invalidate()
    # On PostgreSQL the group that finds the backend gone fails (its handhelds resend it);
    # SQLAlchemy reconnects an invalidated SQLite connection by itself.
    expected = {"before-0001", "after-0001"}
    if database.dialect == "postgresql":
        with pytest.raises(SQLAlchemyError):
            writer.run(_log("lost-0001"))
    else:
        assert writer.run(_log("kept-0001"))
        expected.add("kept-0001")
    # The next group runs on a working connection.
    assert writer.run(_log("after-0001"))
    writer.close()
    assert _logged(database) == expected


def test_what_units_keep_lasts_until_another_connection_writes_or_a_commit_fails(database):
    failing = threading.Event()

    def commit_or_fail(commit):
        if failing.is_set():
            raise SQLAlchemyError("disk full")
        commit()

    writer = GroupCommit(database, run_commit=commit_or_fail)
    numbers = itertools.count(1)

    def keep(session):
        writer.kept["cart"] = "as the last unit left it"
        return _log(f"keep-{next(numbers):04d}")(session)

    def seen(_session):
        return dict(writer.kept)

    writer.run(keep)
    sqlite = database.dialect == "sqlite"
    database.checkpoint()  # copying the WAL back changes nothing the units kept
    # Only this writer wrote since: on SQLite it is still there (PostgreSQL keeps nothing).
    assert writer.run(seen) == ({"cart": "as the last unit left it"} if sqlite else {})
    writer.run(keep)
    with database.write() as session:  # another connection commits
        _log("elsewhere-2")(session)
    assert writer.run(seen) == {}
    writer.run(keep)
    failing.set()
    with pytest.raises(SQLAlchemyError):
        writer.run(keep)
    failing.clear()
    assert writer.run(seen) == {}  # what the failed group kept was rolled back with it
    writer.close()


def test_a_group_runs_what_it_is_given_between_two_units(database):
    calls: list[int] = []
    writer = GroupCommit(database, max_group=16, between_units=lambda: calls.append(1))
    ready = threading.Barrier(20)
    results: list[bool] = []

    def scan(n: int) -> None:
        ready.wait()
        results.append(writer.run(_log(f"between-{n:04d}")))

    threads = [threading.Thread(target=scan, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    writer.close()
    assert results == [True] * 20
    assert len(calls) == writer.units - writer.groups  # once between each two units of a group
