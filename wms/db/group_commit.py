"""Group commit: many small write transactions share one commit, each in its own savepoint.

Every handheld scan is a small write that must be durable before the picker sees the
answer. One transaction per scan pays a commit (an fsync on SQLite with synchronous=FULL,
a WAL flush on PostgreSQL) per scan, and with one writer at a time that caps the floor at a
few hundred scans/s however fast the scan itself is. Here one writer thread takes whatever
scans are waiting, runs each inside a SAVEPOINT of one transaction, commits once, and only
then hands every caller its result. A scan that fails rolls back its own savepoint only;
a commit that fails fails every scan of the group (none was acknowledged). With a
``WalSync`` (SQLite) the commit does not sync: each group is answered once the sync thread
has synced the WAL, and the writer runs the next group meanwhile.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from wms.db.database import Database
from wms.db.direct import savepoint
from wms.db.wal_sync import WalSync

log = logging.getLogger(__name__)

T = TypeVar("T")


def _in_place(commit: Callable[[], None]) -> None:
    commit()


@dataclass(eq=False)
class _Work(Generic[T]):
    run: Callable[[Session], T]
    done: threading.Event = field(default_factory=threading.Event)
    result: Any = None
    error: BaseException | None = None


class GroupCommit:
    """One writer thread running queued units of work, up to ``max_group`` per commit."""

    def __init__(
        self,
        db: Database,
        *,
        max_group: int = 64,
        name: str = "group-commit",
        run_commit: Callable[[Callable[[], None]], None] | None = None,
        run_checkpoint: Callable[[Callable[[], None]], None] | None = None,
        durable: WalSync | None = None,
        between_units: Callable[[], None] | None = None,
    ) -> None:
        self._db = db
        # SQLite: commits without a sync, each group's callers answered once ``durable``
        # has synced the WAL (see wms/db/wal_sync.py); None: the COMMIT syncs (FULL).
        self._durable = durable if db.dialect == "sqlite" else None
        # Run between two units of a group: where the sockets share this writer's thread
        # (gevent), a yield, so that answers ready meanwhile go out and new scans come in
        # instead of waiting for the whole group.
        self._between_units = between_units
        # How the COMMIT (the fsync) is run: in place by default; a server whose sockets share
        # one thread with this writer (gevent) may run it on another thread, so that the
        # sockets are served while a slow disk syncs.
        self._run_commit = run_commit or _in_place
        # How the writer's share of a WAL checkpoint is run: as the commit unless told.
        self._run_checkpoint = run_checkpoint or self._run_commit
        self._max_group = max_group
        self._name = name
        self._queue: queue.SimpleQueue[_Work[Any] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        # The writer's own connection, kept between groups so that its cache stays warm.
        self._connection: Connection | None = None
        # What units keep between groups (the handheld's carts), valid only while this
        # writer's transactions are the only writes: emptied at the start of a group when
        # another connection committed, after a failed commit, and with a new connection;
        # on PostgreSQL before every unit.
        self.kept: dict[Any, Any] = {}
        self.groups = 0  # commits so far, and the units of work in them: the grouping achieved
        self.units = 0

    def run(self, work: Callable[[Session], T]) -> T:
        """Run ``work(session)`` in the next group; return once its transaction committed."""
        self._ensure_started()
        item: _Work[T] = _Work(work)
        self._queue.put(item)
        item.done.wait()
        if item.error is not None:
            raise item.error
        return item.result  # type: ignore[no-any-return]

    def close(self, timeout: float = 5.0) -> None:
        """Finish what is queued, then stop the writer thread."""
        thread = self._thread
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout)
            self._thread = None
        self._drop_connection()

    def _drop_connection(self) -> None:
        self.kept.clear()
        connection, self._connection = self._connection, None
        if connection is not None:
            if self._durable is not None:
                try:  # back to FULL before the pool hands it to anyone else
                    if connection.in_transaction():
                        connection.rollback()
                    self._durable.detach(connection.connection.driver_connection)
                except Exception:  # noqa: BLE001 - then it must never be handed out again
                    with contextlib.suppress(Exception):
                        connection.invalidate()
            with contextlib.suppress(Exception):  # a broken one is being thrown away anyway
                connection.close()

    def _connect(self) -> Connection:
        connection = self._db.connect_writer()
        if self._durable is not None:
            try:
                self._durable.attach(connection.connection.driver_connection)
            except Exception:
                connection.invalidate()
                connection.close()
                raise
        return connection

    def _ensure_started(self) -> None:
        if self._thread is not None:
            return
        with self._start_lock:
            if self._thread is None:
                thread = threading.Thread(target=self._loop, name=self._name, daemon=True)
                thread.start()
                self._thread = thread

    def _loop(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            group = [first]
            stop = False
            while len(group) < self._max_group:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                    break
                group.append(item)
            self._commit(group)
            if stop:
                return

    def _commit(self, group: list[_Work[Any]]) -> None:
        try:
            if self._connection is None:
                self._connection = self._connect()
            elif self._connection.in_transaction():
                # Never begin a group inside a transaction left open: it would hold the
                # write lock and keep every group's commit from reaching the disk.
                self._connection.rollback()
            with self._db.write_on(self._connection) as session:
                if self._db.changed_elsewhere(session.connection()):
                    self.kept.clear()
                if len(group) == 1:
                    # Alone in its transaction: no savepoint needed, a failure rolls it back.
                    item = group[0]
                    item.result = item.run(session)
                else:
                    between = self._between_units
                    for index, item in enumerate(group):
                        if index and between is not None:
                            between()
                        if self._db.dialect != "sqlite":
                            # Read committed: another process may commit between two units.
                            self.kept.clear()
                        try:
                            with savepoint(session):
                                item.result = item.run(session)
                        except Exception as error:  # noqa: BLE001 - handed to its caller
                            item.error = error
                        if session.identity_map:
                            # Flushed and kept: the next unit starts on an empty session,
                            # which takes the cheap savepoint (see direct.savepoint).
                            session.expunge_all()
                self._run_commit(session.commit)
            committed = True
        except Exception as error:  # noqa: BLE001 - the commit failed: nothing was kept
            committed = False
            self.kept.clear()  # the units may have kept what was just rolled back
            if isinstance(error, DBAPIError):
                # The connection may be what failed (a server restarted): the next group
                # opens a new one.
                self._drop_connection()
            for item in group:
                if item.error is None:
                    item.error = error
        self.groups += 1
        self.units += len(group)
        if committed and self._durable is not None:
            # Answered once the WAL is synced; meanwhile this writer runs the next group.
            self._durable.after_commit(lambda error: _answer(group, error))
        else:
            _answer(group, None)
        # Let the callers just answered run before the next group: where threads are
        # cooperative (gevent) they would otherwise wait for it to finish.
        time.sleep(0)
        connection = self._connection
        if self._db.wal_restart_due and connection is not None:

            def finish() -> None:
                self._db.finish_checkpoint(connection)

            try:
                self._run_checkpoint(finish)
            except Exception:  # noqa: BLE001 - the WAL just goes on growing until next time
                log.exception("finishing the WAL checkpoint failed")


def _answer(group: list[_Work[Any]], error: BaseException | None) -> None:
    """Wake the group's callers; ``error``: their commit may not be on disk (a failed sync)."""
    for item in group:
        if error is not None and item.error is None:
            item.error = error
        item.done.set()
