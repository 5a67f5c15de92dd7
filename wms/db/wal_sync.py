"""A SQLite writer's commits made durable on a thread of their own, before anyone is answered.

With ``synchronous=FULL`` every COMMIT waits for the disk to sync the WAL. The scan writer
commits a group of scans about every millisecond, and under gevent that wait stops every
socket of the server, while the next group's scans sit waiting. Here the writer's own
connection commits with ``synchronous=NORMAL`` (frames written to the WAL, no sync) and hands
its callers to a sync thread, which runs ``fdatasync`` on the WAL file (what FULL runs inside
the COMMIT) and only then lets them be answered. So nobody is told "done" before their
transaction is on disk, exactly as with FULL, while the writer runs the next group during
the sync, and one sync covers every group committed before it began.

What it changes: other connections may read a committed transaction a millisecond before it
is durable. If the power fails in that moment it is lost though it was seen (a dashboard
count); it was never acknowledged, so the handheld sends the scan again and it is applied
once. Every other connection of the process keeps ``synchronous=FULL``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

Release = Callable[[BaseException | None], None]


class WalSync:
    """One sync thread for one writer connection: releases come back once the WAL is synced.

    ``start_thread(target)``: starts ``target`` on a native thread (gevent's pool, or a plain
    thread). ``hand_back(callback)``: runs ``callback`` where the writer's callers wait (the
    gevent loop, from another thread; a plain call where they are threads). ``wake`` is a
    lock of the native kind (not one gevent patched), used as a binary semaphore.
    """

    def __init__(
        self,
        *,
        start_thread: Callable[[Callable[[], None]], None],
        hand_back: Callable[[Callable[[], None]], None],
        wake: Any = None,
        sync: Callable[[int], None] = os.fdatasync,
    ) -> None:
        self._start_thread = start_thread
        self._hand_back = hand_back
        self._wake = wake if wake is not None else threading.Lock()
        self._wake.acquire()  # locked: the sync thread sleeps until a release wakes it
        self._sync = sync
        self._waiting: deque[Release] = deque()  # appended by the writer, taken by the thread
        self._wal_path: str | None = None
        self._started = False
        self.syncs = 0  # syncs run, and commits released by them: the grouping achieved
        self.released = 0
        self.slowest = 0.0  # seconds: the longest sync so far (a disk that stalls shows here)

    def attach(self, driver_connection: Any) -> None:
        """Switch the writer's new connection to commits without a sync; learn its WAL file.

        Run outside a transaction. :meth:`detach` switches it back before it is given up.
        """
        row = driver_connection.execute("PRAGMA database_list").fetchone()
        path = row[2] if row is not None else ""
        if not path:
            raise ValueError("an in-memory SQLite database has no WAL to sync")
        driver_connection.execute("PRAGMA synchronous = NORMAL")
        self._wal_path = f"{path}-wal"
        if not self._started:
            self._started = True
            self._start_thread(self._run)

    @staticmethod
    def detach(driver_connection: Any) -> None:
        """Give the connection back its FULL syncs (it may go back to the pool)."""
        driver_connection.execute("PRAGMA synchronous = FULL")

    def after_commit(self, release: Release) -> None:
        """Call ``release(None)`` once what was committed so far is on disk (its error if not)."""
        self._waiting.append(release)
        with contextlib.suppress(RuntimeError):  # already woken: taken with the others
            self._wake.release()

    def _run(self) -> None:
        descriptor: int | None = None
        while True:
            self._wake.acquire()
            batch: list[Release] = []
            while self._waiting:
                batch.append(self._waiting.popleft())
            if not batch:
                continue
            error: BaseException | None = None
            started = time.monotonic()
            try:
                descriptor = self._descriptor(descriptor)
                self._sync(descriptor)
            except OSError as failed:
                error = failed  # logged where it is handed back: this thread holds no loggers
                if descriptor is not None:
                    os.close(descriptor)
                descriptor = None
            took = time.monotonic() - started
            self.syncs += 1
            self.released += len(batch)
            self.slowest = max(self.slowest, took)
            self._hand_back(_releasing(batch, error, took))

    def _descriptor(self, descriptor: int | None) -> int:
        """The WAL file open for syncing; opened again if it is not the same file any more."""
        path = self._wal_path
        assert path is not None, "attach() first"
        if descriptor is not None:
            if os.fstat(descriptor).st_ino == os.stat(path).st_ino:
                return descriptor
            os.close(descriptor)
        return os.open(path, os.O_RDONLY)


# A sync slower than this is logged: every scan of the floor waited that long for its answer.
SLOW_SYNC_S = 0.1


def _releasing(
    batch: list[Release], error: BaseException | None, took: float
) -> Callable[[], None]:
    def release_all() -> None:
        if error is not None:
            log.error("syncing the WAL failed (%s): %d commits answered with it", error, len(batch))
        elif took > SLOW_SYNC_S:
            log.warning("the WAL sync took %.0f ms (%d commits waited)", took * 1000, len(batch))
        for release in batch:
            release(error)

    return release_all
