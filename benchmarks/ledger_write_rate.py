"""Ledger write rate: single-unit picks, one transaction each, against a bare INSERT baseline.

Usage::

    python benchmarks/ledger_write_rate.py [--database URL ...] [--movements N] [--repeat R]

``--database`` takes ``sqlite`` (a fresh file in a temporary directory; the default), a
``sqlite:///path`` to a file that does not exist yet, or a PostgreSQL URL: a scratch database
is created on that server and dropped afterwards, the named database itself is never written.
Without ``--database`` the run covers SQLite and, when reachable, the PostgreSQL server at
``$WMS_BENCH_POSTGRES_URL`` (default ``postgresql+psycopg://postgres@127.0.0.1:5432/test``).

Paths measured on each backend, all through the project's engine settings (SQLite: WAL,
``synchronous=FULL``, ``BEGIN IMMEDIATE``; PostgreSQL: READ COMMITTED, ``synchronous_commit``
as the server has it):

* ``ledger``: ``post_movement`` inside ``Database.write()``: conditional decrement checked by
  row count, upsert at the pack station, movement insert, commit;
* ``driver-same-sql``: the same three statements as SQL text on the raw DB-API connection
  (sqlite3 / psycopg), the floor for that work;
* ``core-built-once``: the same three statements as Core constructs built once (bind
  parameters for what changes) and run on a Connection, no Session;
* ``baseline``: one Core ``INSERT`` of a movement-shaped row per transaction.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import os
import platform
import pstats
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from wms.catalog import NewItem, NewLocation, create_item, create_location, ensure_zone  # noqa: E402
from wms.db import Database, metadata  # noqa: E402
from wms.db.ledger import post_movement, receive, verify_ledger  # noqa: E402
from wms.db.schema import Stock  # noqa: E402
from wms.ledger import MovementRequest  # noqa: E402
from wms.model import LocationType, MovementKind, ZoneKind  # noqa: E402

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TARGET_RATE = 1_000.0
TARGET_OVERHEAD = 2.0
PATHS = ("baseline", "driver-same-sql", "core-built-once", "ledger")

# A table shaped like ``movement`` (same columns, keys and indexes) that nothing else reads:
# the baseline writes its rows here so that the ledger stays balanced.
_bench_metadata = MetaData()
BigId = BigInteger().with_variant(Integer(), "sqlite")
bench_movement = Table(
    "bench_movement",
    _bench_metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("kind", String(24), nullable=False),
    Column("item_id", ForeignKey("item.id"), nullable=False),
    Column("lot", String(40), nullable=False),
    Column("expiry", Date),
    Column("quantity", Integer, nullable=False),
    Column("from_location_id", ForeignKey("location.id")),
    Column("to_location_id", ForeignKey("location.id")),
    Column("reason", String(200)),
    Column("order_id", Integer),
    Column("order_line_id", Integer),
    Column("user_id", Integer),
    Column("scan_id", String(64)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_bench_movement_from", "from_location_id", "item_id", "lot"),
    Index("ix_bench_movement_to", "to_location_id", "item_id", "lot"),
)
# ForeignKey needs the referenced tables in the same MetaData.
for _name in ("item", "location"):
    metadata.tables[_name].to_metadata(_bench_metadata)

_stock = metadata.tables["stock"]
_movement = metadata.tables["movement"]


@dataclass(frozen=True)
class Site:
    """Ids of the rows every movement touches."""

    item: int
    pick_face: int
    pack: int


@dataclass
class Result:
    """One path on one backend: per-repetition rates and every latency, in seconds."""

    backend: str
    path: str
    rates: list[float]
    latencies: list[float]
    cpu: list[float]

    @property
    def rate(self) -> float:
        """Median movements per second over the repetitions."""
        return statistics.median(self.rates)

    @property
    def cpu_ms(self) -> float:
        """Median CPU time of this Python process per transaction, in milliseconds."""
        return statistics.median(self.cpu) * 1000

    def percentile_ms(self, p: float) -> float:
        """The ``p``-th percentile latency over all repetitions, in milliseconds."""
        ordered = sorted(self.latencies)
        index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))
        return ordered[index] * 1000


def _admin_conninfo(url: str) -> str:
    """A libpq connection string for the server of a SQLAlchemy PostgreSQL URL."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _postgres_reachable(url: str) -> bool:
    """Whether a PostgreSQL server answers at ``url``."""
    import psycopg

    try:
        with psycopg.connect(_admin_conninfo(url), connect_timeout=3):
            return True
    except psycopg.Error:
        return False


@contextmanager
def scratch_database(spec: str) -> Iterator[tuple[str, str]]:
    """Yield (label, URL) of an empty database for ``spec``; remove it afterwards."""
    if spec == "sqlite":
        with tempfile.TemporaryDirectory(prefix="wms-bench-") as directory:
            yield "sqlite", f"sqlite:///{directory}/bench.sqlite3"
        return
    url = make_url(spec)
    if url.get_backend_name() == "sqlite":
        path = Path(url.database or "")
        if not url.database or path.exists():
            raise SystemExit(f"{spec}: give a SQLite file that does not exist yet")
        try:
            yield "sqlite", spec
        finally:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    if url.get_backend_name() != "postgresql":
        raise SystemExit(f"{spec}: expected 'sqlite', sqlite:///file or a PostgreSQL URL")
    import psycopg

    name = f"wms_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(_admin_conninfo(spec), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield "postgresql", url.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(_admin_conninfo(spec), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def seed(db: Database, units: int) -> Site:
    """Schema, one item with ``units`` on a pick face, and an empty pack station."""
    db.create_all()
    _bench_metadata.create_all(db.engine, tables=[bench_movement])
    with db.write() as s:
        ensure_zone(s, "A", "Zone A", ZoneKind.HANDHELD)
        pick_face = create_location(s, NewLocation("A-01-01", "A", LocationType.PICK_FACE)).id
        pack = create_location(s, NewLocation("PACK-1", "A", LocationType.PACK_STATION)).id
        item = create_item(s, NewItem("SKU-BENCH", "Bench item")).id
        receive(s, item_id=item, location_id=pick_face, quantity=units)
    return Site(item, pick_face, pack)


def ledger_path(db: Database, site: Site) -> Callable[[], None]:
    """One single-unit pick through ``post_movement``, in its own write transaction."""
    request = MovementRequest(MovementKind.PICK, site.item, 1, site.pick_face, site.pack)

    def run() -> None:
        with db.write() as session:
            post_movement(session, request)

    return run


def core_built_once_path(db: Database, site: Site) -> Callable[[], None]:
    """The SQL ``post_movement`` sends for that pick, as Core statements built once."""
    engine = db.engine.execution_options(wms_write=True)
    dialect_insert = postgresql.insert if db.dialect == "postgresql" else sqlite_dialect.insert
    now = bindparam("now", type_=DateTime(timezone=True))
    take = (
        update(_stock)
        .where(
            _stock.c.location_id == site.pick_face,
            _stock.c.item_id == site.item,
            _stock.c.lot == "",
            _stock.c.reserved >= 0,
            _stock.c.on_hand - 1 >= _stock.c.reserved,
        )
        .values(on_hand=_stock.c.on_hand - 1)
    )
    new_row = dialect_insert(_stock).values(
        location_id=site.pack, item_id=site.item, lot="", on_hand=1, reserved=0, received_at=now
    )
    put = new_row.on_conflict_do_update(
        index_elements=["location_id", "item_id", "lot"],
        set_={"on_hand": _stock.c.on_hand + new_row.excluded.on_hand},
    )
    record = (
        insert(_movement)
        .values(
            kind=MovementKind.PICK.value,
            item_id=site.item,
            lot="",
            quantity=1,
            from_location_id=site.pick_face,
            to_location_id=site.pack,
            created_at=now,
        )
        .returning(_movement.c.id)
    )

    def run() -> None:
        parameters = {"now": dt.datetime.now(dt.UTC)}
        with engine.begin() as connection:
            if connection.execute(take).rowcount != 1:
                raise RuntimeError("the pick face ran out of stock")
            connection.execute(put, parameters)
            connection.execute(record, parameters).scalar_one()

    return run


class DriverSameSql:
    """That pick's three statements as SQL text on one raw DB-API connection."""

    TAKE = (
        "UPDATE stock SET on_hand = on_hand - 1 WHERE location_id = ? AND item_id = ? "
        "AND lot = '' AND reserved >= 0 AND on_hand - 1 >= reserved"
    )
    PUT = (
        "INSERT INTO stock (location_id, item_id, lot, on_hand, reserved, received_at) "
        "VALUES (?, ?, '', 1, 0, ?) ON CONFLICT (location_id, item_id, lot) "
        "DO UPDATE SET on_hand = stock.on_hand + excluded.on_hand"
    )
    RECORD = (
        "INSERT INTO movement (kind, item_id, lot, quantity, from_location_id, to_location_id,"
        " created_at) VALUES ('pick', ?, '', 1, ?, ?, ?) RETURNING id"
    )

    def __init__(self, db: Database, site: Site) -> None:
        """Check out a pooled connection (it got the engine's PRAGMAs when it connected)."""
        self.site = site
        self.is_sqlite = db.dialect == "sqlite"
        marker = "?" if self.is_sqlite else "%s"
        self.take, self.put, self.record = (
            sql.replace("?", marker) for sql in (self.TAKE, self.PUT, self.RECORD)
        )
        self.dbapi = db.engine.raw_connection()
        self.cursor = self.dbapi.cursor()

    def __call__(self) -> None:
        """One transaction: BEGIN (IMMEDIATE on SQLite), three statements, COMMIT."""
        site, cursor = self.site, self.cursor
        now = dt.datetime.now(dt.UTC)
        stamp: object = now.strftime("%Y-%m-%d %H:%M:%S.%f") if self.is_sqlite else now
        if self.is_sqlite:
            cursor.execute("BEGIN IMMEDIATE")
        try:
            cursor.execute(self.take, (site.pick_face, site.item))
            if cursor.rowcount != 1:
                raise RuntimeError("the pick face ran out of stock")
            cursor.execute(self.put, (site.pack, site.item, stamp))
            cursor.execute(self.record, (site.item, site.pick_face, site.pack, stamp))
            cursor.fetchone()
        except BaseException:
            self.dbapi.rollback()
            raise
        self.dbapi.commit()

    def close(self) -> None:
        """Give the connection back to the pool."""
        self.cursor.close()
        self.dbapi.close()


def baseline_path(db: Database, site: Site) -> Callable[[], None]:
    """One INSERT of a movement-shaped row per transaction, nothing else."""
    engine = db.engine.execution_options(wms_write=True)

    def run() -> None:
        with engine.begin() as connection:
            _insert_movement(connection, bench_movement, site, dt.datetime.now(dt.UTC))

    return run


def _insert_movement(connection: Connection, table: Table, site: Site, now: dt.datetime) -> None:
    """Insert one pick row into ``table`` and fetch its id, the statement built per call."""
    connection.execute(
        insert(table)
        .values(
            kind=MovementKind.PICK.value,
            item_id=site.item,
            lot="",
            quantity=1,
            from_location_id=site.pick_face,
            to_location_id=site.pack,
            created_at=now,
        )
        .returning(table.c.id)
    ).scalar_one()


def measure(run: Callable[[], None], count: int) -> tuple[float, list[float], float]:
    """Run ``count`` transactions back to back.

    Returns the wall time in seconds, each latency in seconds, and this process's CPU time in
    seconds (for SQLite that includes SQLite's own work, but not waiting for the fsync).
    """
    latencies = []
    clock = time.perf_counter
    cpu_started = time.process_time()
    started = clock()
    for _ in range(count):
        t0 = clock()
        run()
        latencies.append(clock() - t0)
    return clock() - started, latencies, time.process_time() - cpu_started


def repetition(
    paths: dict[str, Callable[[], None]], movements: int, block: int
) -> dict[str, tuple[float, list[float], float]]:
    """One repetition of every path; per path (transactions/s, latencies, CPU s/transaction)."""
    # Paths take turns every ``block`` transactions, so that background load on a shared
    # machine (other processes, checkpoints) falls on every path alike.
    spent = dict.fromkeys(paths, 0.0)
    cpu = dict.fromkeys(paths, 0.0)
    latencies: dict[str, list[float]] = {name: [] for name in paths}
    names = list(paths)
    done = 0
    while done < movements:
        count = min(block, movements - done)
        names = names[1:] + names[:1]  # rotate, so that no path always runs first
        for name in names:
            elapsed, measured, cpu_s = measure(paths[name], count)
            spent[name] += elapsed
            cpu[name] += cpu_s
            latencies[name].extend(measured)
        done += count
    return {n: (movements / spent[n], latencies[n], cpu[n] / movements) for n in paths}


def describe(db: Database) -> str:
    """The settings that decide the commit cost, read back from the database."""
    with db.engine.connect() as connection:
        if db.dialect == "sqlite":
            journal = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
            synchronous = connection.exec_driver_sql("PRAGMA synchronous").scalar()
            level = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}.get(int(synchronous or 0))
            return f"SQLite {sqlite3.sqlite_version}, journal_mode={journal}, synchronous={level}"
        version = connection.execute(text("SHOW server_version")).scalar()
        commit = connection.execute(text("SHOW synchronous_commit")).scalar()
        fsync = connection.execute(text("SHOW fsync")).scalar()
        return f"PostgreSQL {version}, synchronous_commit={commit}, fsync={fsync}"


def bench_backend(
    label: str, url: str, movements: int, repeat: int, warmup: int, block: int, profile: bool
) -> tuple[list[Result], str]:
    """Measure every path on one database; return the results and a verification line."""
    db = Database(url)
    try:
        site = seed(db, units=(warmup + movements * (repeat + 1)) * len(PATHS) + 10)
        print(f"{label}: {describe(db)}", flush=True)
        driver = DriverSameSql(db, site)
        paths: dict[str, Callable[[], None]] = {
            "baseline": baseline_path(db, site),
            "driver-same-sql": driver,
            "core-built-once": core_built_once_path(db, site),
            "ledger": ledger_path(db, site),
        }
        for run in paths.values():
            measure(run, warmup)
        results = {name: Result(label, name, [], [], []) for name in PATHS}
        for _ in range(repeat):
            for name, (rate, latencies, cpu) in repetition(paths, movements, block).items():
                results[name].rates.append(rate)
                results[name].latencies.extend(latencies)
                results[name].cpu.append(cpu)
        if profile:
            profiler = cProfile.Profile()
            profiler.runcall(measure, paths["ledger"], movements)
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(30)
            print(f"--- cProfile of {movements} ledger movements on {label} (cumulative)")
            print(out.getvalue())
        driver.close()
        verification = verify(db, site, label)
        return list(results.values()), verification
    finally:
        db.dispose()


def verify(db: Database, site: Site, label: str) -> str:
    """Check that the ledger adds up after the run; return a one-line report."""
    with db.read() as session:
        mismatches = verify_ledger(session)
        on_hand = dict(session.execute(select(Stock.location_id, Stock.on_hand)).all())
        moved = session.scalar(
            select(sqlalchemy.func.count()).select_from(_movement).where(_movement.c.kind == "pick")
        )
    status = "OK" if mismatches == [] and on_hand.get(site.pack) == moved else "FAILED"
    return (
        f"{label}: verify_ledger() == {mismatches!r}; {moved} pick movements, "
        f"pack station on hand {on_hand.get(site.pack)}, pick face {on_hand.get(site.pick_face)}"
        f" -> {status}"
    )


def print_table(results: list[Result]) -> None:
    """The results as a fixed-width table, overhead relative to each backend's baseline."""
    baseline = {r.backend: r.rate for r in results if r.path == "baseline"}
    header = (
        f"{'backend':<11} {'path':<16} {'movements/s':>12} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'cpu ms':>7} {'overhead':>9}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        overhead = "" if r.path == "baseline" else f"{baseline[r.backend] / r.rate:.2f}x"
        print(
            f"{r.backend:<11} {r.path:<16} {r.rate:>12,.0f} {r.percentile_ms(50):>8.2f} "
            f"{r.percentile_ms(99):>8.2f} {r.cpu_ms:>7.2f} {overhead:>9}"
        )


def print_targets(results: list[Result]) -> None:
    """Whether the issue's targets are met on SQLite FULL: rate and overhead."""
    by = {(r.backend, r.path): r.rate for r in results}
    if ("sqlite", "ledger") not in by:
        return
    rate = by[("sqlite", "ledger")]
    overhead = by[("sqlite", "baseline")] / rate
    print(
        f"target SQLite FULL >= {TARGET_RATE:,.0f} movements/s: {rate:,.0f} -> "
        f"{'met' if rate >= TARGET_RATE else 'MISSED'}"
    )
    print(
        f"target overhead < {TARGET_OVERHEAD:.0f}x baseline: {overhead:.2f}x -> "
        f"{'met' if overhead < TARGET_OVERHEAD else 'MISSED'}"
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database",
        action="append",
        metavar="URL",
        help="'sqlite', sqlite:///new-file or a PostgreSQL server URL (repeatable)",
    )
    parser.add_argument("--movements", type=int, default=2000, help="per path and repetition")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions; the median counts")
    parser.add_argument("--warmup", type=int, default=200, help="untimed transactions per path")
    parser.add_argument(
        "--block", type=int, default=100, help="paths alternate every this many transactions"
    )
    parser.add_argument("--profile", action="store_true", help="cProfile the ledger path too")
    args = parser.parse_args(argv)
    if args.movements < 1 or args.repeat < 1 or args.block < 1 or args.warmup < 0:
        parser.error("--movements, --repeat and --block must be >= 1, --warmup >= 0")
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the table; exit status 1 if the ledger did not add up."""
    args = parse_args(argv)
    specs: list[str] = args.database or ["sqlite"]
    if not args.database:
        pg = os.environ.get("WMS_BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL)
        if _postgres_reachable(pg):
            specs.append(pg)
        else:
            print(f"PostgreSQL not reachable at {pg}: skipped (set WMS_BENCH_POSTGRES_URL)")
    print(
        f"Python {platform.python_version()}, SQLAlchemy {sqlalchemy.__version__}, "
        f"{os.cpu_count()} CPUs; {args.movements} movements x {args.repeat} repetitions "
        f"per path (median), paths interleaved every {args.block}, {args.warmup} warm-up; "
        "one transaction per movement"
    )
    results: list[Result] = []
    verifications: list[str] = []
    for spec in specs:
        with scratch_database(spec) as (label, url):
            found, verification = bench_backend(
                label, url, args.movements, args.repeat, args.warmup, args.block, args.profile
            )
        results.extend(found)
        verifications.append(verification)
    print()
    print_table(results)
    print()
    print_targets(results)
    for line in verifications:
        print(line)
    return 0 if all(line.endswith("OK") for line in verifications) else 1


if __name__ == "__main__":
    raise SystemExit(main())
