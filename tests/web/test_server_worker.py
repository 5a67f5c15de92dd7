"""The gevent worker: patching, and heavy work kept off the loop that runs the sockets."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from web.server import gevent_patched, off_the_loop

# Run in a fresh interpreter: monkey-patching is for the whole process, and the test run
# itself stays on plain threads.
_UNDER_GEVENT = textwrap.dedent(
    """
    from web.server import gevent_patched, off_the_loop, patch_for_gevent
    patch_for_gevent()
    import threading, time
    import gevent

    assert gevent_patched()
    ticks = []

    def ticker():
        while True:
            ticks.append(time.monotonic())
            gevent.sleep(0.005)

    gevent.spawn(ticker)
    gevent.sleep(0.02)
    loop_thread = threading.get_native_id()

    def heavy():
        deadline = time.monotonic() + 0.3
        n = 0
        while time.monotonic() < deadline:
            n += 1
        return threading.get_native_id(), n

    before = len(ticks)
    worker_thread, n = off_the_loop(heavy)
    print(worker_thread != loop_thread, len(ticks) - before, n > 0)
    """
)


def test_off_the_loop_runs_in_place_without_gevent() -> None:
    assert not gevent_patched()
    assert off_the_loop(lambda: 6 * 7) == 42


def test_under_gevent_heavy_work_runs_on_another_thread_while_greenlets_go_on() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _UNDER_GEVENT], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    other_thread, ticks, worked = done.stdout.split()
    assert other_thread == "True"
    assert worked == "True"
    # 0.3 s of work: a greenlet ticking every 5 ms kept running meanwhile (on the loop's
    # thread it would have been held for the whole 0.3 s, 0 ticks).
    assert int(ticks) >= 5, done.stdout


def test_the_server_checkpoints_the_wal_on_a_thread_of_its_own(tmp_path) -> None:
    import threading as _threading

    from web.server import start_wal_checkpoints
    from wms.db import Database

    db = Database(f"sqlite:///{tmp_path}/w.sqlite3", background_checkpoints=True)
    db.create_all()
    rounds: list[str] = []
    done = _threading.Event()
    real = db.checkpoint

    def counted():
        rounds.append(_threading.current_thread().name)
        result = real()
        if len(rounds) >= 3:
            done.set()
        return result

    db.checkpoint = counted  # type: ignore[method-assign]
    stop = start_wal_checkpoints(db, every=0.02)
    try:
        assert done.wait(10)
        assert set(rounds) == {"wal-checkpoints"}
    finally:
        stop()
        db.dispose()


def test_no_checkpoint_thread_without_background_checkpoints(tmp_path) -> None:
    import threading as _threading

    from web.server import start_wal_checkpoints
    from wms.db import Database

    db = Database(f"sqlite:///{tmp_path}/n.sqlite3")
    before = _threading.active_count()
    try:
        start_wal_checkpoints(db, every=0.02)()
        assert _threading.active_count() == before
    finally:
        db.dispose()


class _Connection:
    """Stands for what a connected handheld holds: objects in a reference cycle."""

    def __init__(self) -> None:
        self.self = self


def test_a_full_collection_freezes_what_survived_it(monkeypatch):
    import gc
    import weakref

    from web import server

    # The collector keeps its own reference to gc.callbacks: the list itself is changed.
    gc.callbacks.append(server._freeze_after_full_collections)
    gc.unfreeze()
    try:
        connected = _Connection()
        gc.collect(1)  # not a full collection: nothing frozen
        assert gc.get_freeze_count() == 0
        gc.collect()
        assert gc.get_freeze_count() > 0
        assert gc.get_objects(generation=2) == []  # the next full walk starts empty
        assert not any(o is connected for o in gc.get_objects())  # out of every walk
        # Frozen, a cycle that dies is kept until the regular round collects it.
        closed = weakref.ref(connected)
        del connected
        gc.collect()
        assert closed() is not None
        server._refreeze()
        assert closed() is None
    finally:
        gc.callbacks.remove(server._freeze_after_full_collections)
        gc.unfreeze()


def test_the_worker_collects_what_it_froze_regularly(monkeypatch):
    import gc
    import weakref

    from web import server

    slept: list[float] = []
    open_connections = [_Connection()]
    closed = weakref.ref(open_connections[0])
    frozen_while_open = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        if len(slept) == 1:
            gc.collect()
            gc.freeze()  # as after a full collection, while the handheld is connected
            frozen_while_open.append(gc.get_freeze_count())
            open_connections.clear()  # the handheld disconnects
        if len(slept) == 2:
            monkeypatch.setattr(server, "REFREEZE_EVERY", 0.0)  # the test's end of the shift

    monkeypatch.setattr(server, "REFREEZE_EVERY", 900.0)
    monkeypatch.setattr(server.time, "sleep", sleep)
    gc.unfreeze()
    try:
        server._collect_frozen_regularly()
        frozen_at_end = gc.get_freeze_count()
    finally:
        gc.unfreeze()
    assert slept == [900.0, 900.0]
    assert frozen_while_open[0] > 0 and frozen_at_end > 0  # out of the collector's walks
    assert closed() is None  # frozen while open, yet collected once it closed: no leak


class _Disk:
    """A commit whose fsync takes as long as the test says, and where it ran."""

    def __init__(self) -> None:
        self.sync_seconds = 0.0
        self.ran: list[str] = []

    def commit(self) -> None:
        import time

        time.sleep(self.sync_seconds)

    def away(self, work):
        self.ran.append("away")
        work()


def test_commits_run_in_place_while_the_disk_syncs_fast_and_away_while_it_is_slow():
    from web.server import CommitWhereFast

    disk = _Disk()
    commit = CommitWhereFast(disk.away, slow_ms=2.0, weight=0.5)
    for _ in range(3):
        commit(disk.commit)
    assert disk.ran == []  # fast: in place, no hand-off
    disk.sync_seconds = 0.02
    commit(disk.commit)  # nobody knew yet: in place, and now the average is slow
    assert disk.ran == [] and commit.average > 0.002
    commit(disk.commit)
    commit(disk.commit)
    assert disk.ran == ["away", "away"]  # the sockets are served while it syncs
    disk.sync_seconds = 0.0
    while commit.average >= 0.002:
        commit(disk.commit)  # fast again: measured away too, until the average says so
    runs_away = len(disk.ran)
    commit(disk.commit)
    assert len(disk.ran) == runs_away  # back in place


def test_a_failed_commit_still_counts_and_raises():
    import pytest

    from web.server import CommitWhereFast

    def fails() -> None:
        import time

        time.sleep(0.01)  # the disk took its time, then failed
        raise RuntimeError("disk I/O error")

    commit = CommitWhereFast(lambda work: work(), slow_ms=1.0)
    with pytest.raises(RuntimeError, match="disk I/O error"):
        commit(fails)
    assert commit.average > 0.0005  # the time it took counts all the same


_SYNCED_UNDER_GEVENT = textwrap.dedent(
    """
    import sys
    from web.server import CommitWhereFast, off_the_loop, patch_for_gevent, wal_sync_for
    patch_for_gevent()
    import os, threading
    import gevent
    from wms.db import Database
    from wms.db.group_commit import GroupCommit
    from wms.model import ScanOutcome
    from wms.scans import ScanRecord, find_scan, log_scan

    db = Database(f"sqlite:///{sys.argv[1]}/g.sqlite3")
    db.create_all()
    durable = wal_sync_for(db)
    synced_on = set()
    real_sync = durable._sync

    def sync(descriptor):
        synced_on.add(threading.get_native_id())
        real_sync(descriptor)

    durable._sync = sync
    writer = GroupCommit(db, run_commit=CommitWhereFast(off_the_loop), durable=durable)

    def scan(n):
        client_id = f"gevent-{n:04d}"
        return writer.run(
            lambda s: log_scan(s, ScanRecord(client_id, "raw", "item", ScanOutcome.ACCEPTED))
        )

    jobs = [gevent.spawn(scan, n) for n in range(60)]
    gevent.joinall(jobs, timeout=30)
    with db.read() as session:
        stored = sum(find_scan(session, f"gevent-{n:04d}") is not None for n in range(60))
    print(sum(job.value is True for job in jobs), stored, durable.syncs > 0,
          threading.get_native_id() not in synced_on and bool(synced_on))
    """
)


def test_under_gevent_the_scan_writer_syncs_on_a_native_thread_and_answers_on_the_loop(
    tmp_path,
) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _SYNCED_UNDER_GEVENT, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    answered, stored, synced, elsewhere = done.stdout.split()
    assert (answered, stored) == ("60", "60")  # every greenlet got its answer, all on disk
    assert synced == "True" and elsewhere == "True"  # synced, and not on the loop's thread
