"""Engine set-up per database and the unit of work the use cases run in."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

import wms.db.triggers  # noqa: F401  (attaches the append-only triggers to the MetaData)
from wms.db.schema import metadata

SQLITE_BUSY_TIMEOUT_MS = 10_000
# A WAL longer than this (frames of 4 KiB) is restarted from its start by the kept writer.
WAL_RESTART_FRAMES = 4096
# The kept writer's page cache (SQLite's default is 2 MiB), in KiB.
WRITER_CACHE_KIB = 64 * 1024


def _configure_sqlite(engine: Engine, *, background_checkpoints: bool = False) -> None:
    """WAL, synchronous=FULL (an acknowledged movement survives a power cut), foreign keys.

    The scan writer's own connection syncs another way, before it acknowledges anything
    (wms/db/wal_sync.py).

    The driver's own transaction handling is switched off so that every write transaction
    starts with BEGIN IMMEDIATE: SQLite then serialises writers up front instead of failing
    one of two readers that both try to upgrade to a write lock.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute("PRAGMA foreign_keys = ON")
        if background_checkpoints:
            # No checkpoint inside a COMMIT: copying the WAL back and syncing the database
            # file there made the writer, and every scan behind it, wait for it.
            cursor.execute("PRAGMA wal_autocheckpoint = 0")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Straight to the driver: exec_driver_sql costs more than the BEGIN itself.
        write = connection.get_execution_options().get("wms_write")
        connection.connection.driver_connection.execute(
            "BEGIN IMMEDIATE" if write else "BEGIN DEFERRED"
        )


def make_engine(url: str, *, background_checkpoints: bool = False, **kwargs: Any) -> Engine:
    """Create an engine for ``url`` (SQLite file or PostgreSQL) with the project's settings.

    ``background_checkpoints`` (SQLite): commits never checkpoint the WAL; the owner calls
    :meth:`Database.checkpoint` regularly from a thread of its own instead.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        # One server process serves many handheld threads; SQLite connections are cheap, and
        # waiting 30 s for a pooled one (the default 5 + 10) is what hurt under load.
        kwargs.setdefault("pool_size", 20)
        kwargs.setdefault("max_overflow", 200)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 10}, **kwargs
        )
        _configure_sqlite(engine, background_checkpoints=background_checkpoints)
        return engine
    if parsed.get_backend_name() == "postgresql":
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 20)
        kwargs.setdefault("pool_pre_ping", True)
        return create_engine(url, **kwargs)
    raise ValueError(f"database URL {url!r}: expected sqlite:/// or postgresql://")


class Database:
    """The engine and the two kinds of unit of work: read-only and write."""

    def __init__(
        self, url: str, *, background_checkpoints: bool = False, **engine_kwargs: Any
    ) -> None:
        self.url = url
        self.engine = make_engine(
            url, background_checkpoints=background_checkpoints, **engine_kwargs
        )
        # Whether the owner must call checkpoint() (only SQLite has a WAL to copy back).
        self.background_checkpoints = background_checkpoints and url.startswith("sqlite")
        self.dialect = self.engine.dialect.name
        self._read = sessionmaker(self.engine, expire_on_commit=False)
        self._write = sessionmaker(
            self.engine.execution_options(wms_write=True), expire_on_commit=False
        )
        self._writer_lock = threading.RLock() if self.dialect == "sqlite" else None
        # Set by checkpoint() when the WAL should start over; see finish_checkpoint().
        self.wal_restart_due = False

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One write transaction: committed when the block ends, rolled back if it raises."""
        if self._writer_lock is None:
            with self._write() as session, session.begin():
                yield session
            return
        # SQLite has one writer at a time, and a writer that finds the lock taken sleeps in
        # SQLite's busy handler (up to 100 ms a try): under many threads latency explodes.
        # Queueing this process's writers on a Python lock instead hands over at once.
        with self._writer_lock, self._write() as session, session.begin():
            yield session

    def connect_writer(self) -> Connection:
        """A connection for one long-lived writer to keep, its transactions taken with
        :meth:`write_on`.

        SQLite drops a connection's page cache whenever another connection wrote since its
        last transaction; a writer that takes whichever pooled connection is free therefore
        starts every transaction cold, while one kept connection stays warm (it wrote last).
        Its cache is made large enough to hold the floor's working set.
        """
        connection = self.engine.execution_options(wms_write=True).connect()
        if self.dialect == "sqlite":
            connection.exec_driver_sql(f"PRAGMA cache_size = -{WRITER_CACHE_KIB}")
            connection.commit()
        return connection

    @contextmanager
    def write_on(self, connection: Connection) -> Iterator[Session]:
        """:meth:`write` on a connection from :meth:`connect_writer`."""
        with (
            self._writer_lock or nullcontext(),
            Session(bind=connection, expire_on_commit=False) as session,
            session.begin(),
        ):
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading; nothing is committed."""
        with self._read() as session:
            yield session

    def checkpoint(self) -> tuple[int, int, int] | None:
        """Copy what the SQLite WAL holds back into the database file, without blocking writers.

        A PASSIVE checkpoint: it copies what no reader still needs and never waits for a
        lock, so commits go on meanwhile. Returns SQLite's (busy, WAL frames, frames copied);
        None on PostgreSQL.
        """
        if self.dialect != "sqlite":
            return None
        with self.engine.connect() as connection:
            row = connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").one()
        busy, frames, copied = int(row[0]), int(row[1]), int(row[2])
        if frames > WAL_RESTART_FRAMES:
            self.wal_restart_due = True
        return busy, frames, copied

    def finish_checkpoint(self, connection: Connection) -> tuple[int, int, int] | None:
        """Copy the WAL's last frames back, from the kept writer between its transactions.

        SQLite starts the WAL over (instead of appending to it) at the first write after a
        checkpoint that copied every frame. A checkpoint on another thread never gets there
        while a writer commits every few milliseconds: the WAL grew by 9 MB/s at 250
        scans/s, and every page lookup and checkpoint grew with it. The writer runs this
        when :meth:`checkpoint` found the WAL long: the background one copied nearly all
        of it already, so little is left to copy, and its next write starts the WAL over.
        """
        if self.dialect != "sqlite":
            return None
        self.wal_restart_due = False
        # Straight to the driver: through SQLAlchemy the connection would begin a write
        # transaction first, and SQLite refuses to checkpoint inside one.
        row = connection.connection.driver_connection.execute(  # type: ignore[union-attr]
            "PRAGMA wal_checkpoint(PASSIVE)"
        ).fetchone()
        return int(row[0]), int(row[1]), int(row[2])

    def changed_elsewhere(self, connection: Connection) -> bool:
        """Whether another connection committed a change since this one last asked.

        SQLite tells it cheaply (``PRAGMA data_version``); on PostgreSQL, where other
        processes write too, the answer is always yes. Ask inside a write transaction, where
        no other connection can commit until this one ends.
        """
        if self.dialect != "sqlite":
            return True
        driver = connection.connection.driver_connection
        version = driver.execute("PRAGMA data_version").fetchone()[0]  # type: ignore[union-attr]
        seen = connection.info.get("wms_data_version")
        connection.info["wms_data_version"] = version
        return bool(seen != version)

    def create_all(self) -> None:
        """Create every table and trigger directly (tests); deployments use Alembic."""
        metadata.create_all(self.engine)

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
