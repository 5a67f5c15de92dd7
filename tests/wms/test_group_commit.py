"""Group commit: scans share commits, a failing one loses only its own savepoint."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from wms.db.group_commit import GroupCommit
from wms.db.schema import ScanEvent
from wms.errors import InvalidInput
from wms.model import ScanOutcome
from wms.scans import ScanRecord, log_scan


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
