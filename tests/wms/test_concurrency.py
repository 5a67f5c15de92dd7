"""The ledger's invariants hold under real concurrency: threads and processes racing on one row.

Every worker opens its own connection through ``Database.write()``; a barrier releases them
together. On PostgreSQL (READ COMMITTED) the conditional ``UPDATE`` is what prevents the
oversell; on SQLite (a file in WAL mode) ``BEGIN IMMEDIATE`` serialises the writers.
The oversell check is shown to fail on a naive read-modify-write decrement; the lock-order
test fails (a deadlock, SQLSTATE 40P01, on PostgreSQL) if ``post_movement`` takes its two
stock rows in from/to order instead of location order.
"""

from __future__ import annotations

import functools
import multiprocessing
import os
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import pytest
from sqlalchemy import create_engine, event, func, insert, select, text, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import DBAPIError

from wms.catalog import NewItem, NewLocation, create_item, create_location, ensure_zone
from wms.db import Database
from wms.db.ledger import post_movement, receive, release, reserve, verify_ledger
from wms.db.schema import Movement, OrderLine, Reservation, Stock
from wms.errors import InsufficientStock
from wms.ledger import MovementRequest
from wms.model import LocationType, MovementKind, OrderKind, ReservationStatus, ZoneKind
from wms.orders import NewOrder, NewOrderLine, create_order

THREADS = 16
ATTEMPTS = 20
ON_HAND = 200
PROCESSES = 8
BARRIER_TIMEOUT_S = 30.0
# SQLSTATEs with which PostgreSQL aborts a transaction that lost a race: run it again.
RETRYABLE_SQLSTATES = {"40P01", "40001"}
MAX_RETRIES = 50
DEADLOCK_TIMEOUT_MS = 10
POSTGRESQL_ONLY = [pytest.param("postgresql", marks=pytest.mark.postgresql)]


# --------------------------------------------------------------------------- fixtures, helpers


def _may_set_deadlock_timeout(url: str) -> bool:
    """Whether the PostgreSQL role may change ``deadlock_timeout`` (a superuser setting)."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            query = text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            return bool(connection.scalar(query))
    finally:
        engine.dispose()


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    """A schema-complete database (SQLite file or PostgreSQL) with a connection per thread.

    On PostgreSQL the deadlock detector runs after 10 ms instead of 1 s (when the role may
    set it), so that a lock-order regression fails fast instead of stalling every thread.
    """
    kwargs: dict[str, Any] = {"pool_size": THREADS + 8, "max_overflow": 8}
    if db_url.startswith("postgresql") and _may_set_deadlock_timeout(db_url):
        kwargs["connect_args"] = {"options": f"-c deadlock_timeout={DEADLOCK_TIMEOUT_MS}"}
    database = Database(db_url, **kwargs)
    database.create_all()
    try:
        yield database
    finally:
        database.dispose()


@dataclass(frozen=True)
class Site:
    """Ids of the rows the races run against."""

    item: int
    a: int
    b: int
    pack: int
    stock_a: int
    stock_b: int


@dataclass
class Tally:
    """What one worker saw: successes (and units), refusals, retries, anything unexpected."""

    ok: int = 0
    units: int = 0
    refused: int = 0
    retried: int = 0
    refusals: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def add(self, other: Tally) -> Tally:
        """The sum of two tallies."""
        return Tally(
            self.ok + other.ok,
            self.units + other.units,
            self.refused + other.refused,
            self.retried + other.retried,
            self.refusals + other.refusals,
            self.errors + other.errors,
        )


def _total(tallies: list[Tally]) -> Tally:
    """All workers' tallies added up."""
    return functools.reduce(Tally.add, tallies, Tally())


def _seed(db: Database, on_hand_a: int, on_hand_b: int = 0) -> Site:
    """One item, stock rows at A and B (by receipt) and a pack station that starts empty."""
    with db.write() as s:
        ensure_zone(s, "A", "Zone A", ZoneKind.HANDHELD)
        a = create_location(s, NewLocation("A-01", "A", LocationType.PICK_FACE)).id
        b = create_location(s, NewLocation("A-02", "A", LocationType.PICK_FACE)).id
        pack = create_location(s, NewLocation("P-01", "A", LocationType.PACK_STATION)).id
        item = create_item(s, NewItem("SKU-1", "Mug")).id
    with db.write() as s:
        for location, quantity in ((a, on_hand_a), (b, on_hand_b)):
            receive(s, item_id=item, location_id=location, quantity=quantity or 1)
            if not quantity:  # keep an empty stock row that reservations can point at
                post_movement(s, MovementRequest(MovementKind.SHIP, item, 1, location))
        stock = {location: id_ for location, id_ in s.execute(select(Stock.location_id, Stock.id))}
    return Site(item, a, b, pack, stock[a], stock[b])


def _order_lines(db: Database, count: int, quantity: int) -> list[int]:
    """``count`` one-line orders for SKU-1; returns their order line ids."""
    with db.write() as s:
        orders = [
            create_order(s, NewOrder(f"O-{n}", OrderKind.B2C, [NewOrderLine("SKU-1", quantity)]))
            for n in range(count)
        ]
        return [order.lines[0].id for order in orders]


def _sqlstate(exc: DBAPIError) -> str | None:
    """The SQLSTATE of a driver error, when the driver reports one."""
    return getattr(exc.orig, "sqlstate", None)


def _attempt(tally: Tally, action: Callable[[], int]) -> None:
    """Run one unit of work and tally its outcome; retry only what PostgreSQL says to retry."""
    for _ in range(MAX_RETRIES):
        try:
            units = action()
        except InsufficientStock as exc:
            tally.refused += 1
            tally.refusals.append(exc.details)
            return
        except DBAPIError as exc:
            if _sqlstate(exc) in RETRYABLE_SQLSTATES:
                tally.retried += 1
                continue
            tally.errors.append(repr(exc))
            return
        except Exception as exc:  # anything else is a finding; report it, don't lose it
            tally.errors.append(repr(exc))
            return
        tally.ok += 1
        tally.units += units
        return
    tally.errors.append(f"gave up after {MAX_RETRIES} retries")


def _run_together(workers: list[Callable[[], None]]) -> None:
    """One thread per worker, released at the same moment by a barrier; wait for them all."""
    barrier = threading.Barrier(len(workers), timeout=BARRIER_TIMEOUT_S)

    def run(worker: Callable[[], None]) -> None:
        barrier.wait()
        worker()

    threads = [threading.Thread(target=run, args=(w,), daemon=True) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
        assert not thread.is_alive(), "a worker thread hung"


class StockSampler:
    """A reader thread that samples one stock row while the writers race.

    Each sample is one statement, so on-hand, reserved and the sum of open reservations come
    from the same snapshot: (on_hand, reserved, open reservation total).
    """

    def __init__(self, db: Database, stock_id: int) -> None:
        """Watch the stock row ``stock_id`` of ``db``."""
        self.samples: list[tuple[int, int, int]] = []
        self.errors: list[str] = []
        open_total = (
            select(func.coalesce(func.sum(Reservation.quantity), 0))
            .where(
                Reservation.stock_id == stock_id,
                Reservation.status == ReservationStatus.OPEN,
            )
            .scalar_subquery()
        )
        self._query = select(Stock.on_hand, Stock.reserved, open_total).where(Stock.id == stock_id)
        self._db = db
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        """Sample until stopped."""
        try:
            while not self._stop.is_set():
                with self._db.read() as s:
                    on_hand, reserved, open_total = s.execute(self._query).one()
                self.samples.append((int(on_hand), int(reserved), int(open_total)))
                time.sleep(0.001)
        except Exception as exc:  # reported by the test, not lost in the thread
            self.errors.append(repr(exc))

    def __enter__(self) -> StockSampler:
        """Start sampling."""
        self._thread.start()
        return self

    def __exit__(
        self, _t: type[BaseException] | None, _e: BaseException | None, _tb: TracebackType | None
    ) -> None:
        """Stop sampling and wait for the thread."""
        self._stop.set()
        self._thread.join(timeout=10)

    def check(self) -> None:
        """Every sample was sound: 0 <= reserved <= on_hand and reserved == open reservations."""
        assert self.errors == []
        assert self.samples, "the sampler never ran"
        for on_hand, reserved, open_total in self.samples:
            assert 0 <= reserved <= on_hand, (on_hand, reserved)
            assert reserved == open_total, (reserved, open_total)


def _stock(db: Database, location_id: int) -> tuple[int, int]:
    """(on_hand, reserved) of SKU-1 at a location; (0, 0) when it has no stock row."""
    with db.read() as s:
        row = s.execute(
            select(Stock.on_hand, Stock.reserved).where(Stock.location_id == location_id)
        ).first()
    return (row.on_hand, row.reserved) if row else (0, 0)


def _movement_count(db: Database, kind: MovementKind) -> int:
    """How many movements of ``kind`` the ledger holds."""
    with db.read() as s:
        return int(s.scalar(select(func.count()).where(Movement.kind == kind)) or 0)


def _assert_ledger_sound(db: Database) -> None:
    """The ledger adds up, and every stock row's reservations add up, at rest."""
    with db.read() as s:
        assert verify_ledger(s) == []
        open_by_stock = {
            stock_id: int(total)
            for stock_id, total in s.execute(
                select(Reservation.stock_id, func.sum(Reservation.quantity))
                .where(Reservation.status == ReservationStatus.OPEN)
                .group_by(Reservation.stock_id)
            )
        }
        for stock_id, on_hand, reserved in s.execute(
            select(Stock.id, Stock.on_hand, Stock.reserved)
        ):
            assert 0 <= reserved <= on_hand, (stock_id, on_hand, reserved)
            assert reserved == open_by_stock.get(stock_id, 0), stock_id
        open_by_line = {
            line_id: int(total)
            for line_id, total in s.execute(
                select(Reservation.order_line_id, func.sum(Reservation.quantity))
                .where(Reservation.status == ReservationStatus.OPEN)
                .group_by(Reservation.order_line_id)
            )
        }
        for line_id, allocated in s.execute(select(OrderLine.id, OrderLine.allocated_quantity)):
            assert allocated == open_by_line.get(line_id, 0), line_id


# --------------------------------------------------------------------------- (a) single units


def _pick_one(db: Database, site: Site) -> int:
    """Pick one unit from A to the pack station, in its own transaction."""
    with db.write() as s:
        post_movement(s, MovementRequest(MovementKind.PICK, site.item, 1, site.a, site.pack))
    return 1


def _check_single_unit_race(db: Database, site: Site, tallies: list[Tally], stock: int) -> None:
    """Exactly ``stock`` picks won, the rest were refused, and the ledger shows just that."""
    total = _total(tallies)
    assert total.errors == []
    assert total.ok == stock, "oversold" if total.ok > stock else "undersold"
    assert total.refused == sum(t.ok + t.refused for t in tallies) - stock
    assert _stock(db, site.a) == (0, 0)
    assert _stock(db, site.pack) == (stock, 0)
    assert _movement_count(db, MovementKind.PICK) == total.ok
    _assert_ledger_sound(db)


def test_single_unit_race_never_oversells(db: Database) -> None:
    """16 threads x 20 single-unit picks on 200 units: exactly 200 win, on-hand ends at 0."""
    site = _seed(db, ON_HAND)
    tallies = [Tally() for _ in range(THREADS)]

    def worker(tally: Tally) -> None:
        for _ in range(ATTEMPTS):
            _attempt(tally, lambda: _pick_one(db, site))

    with StockSampler(db, site.stock_a) as sampler:
        _run_together([functools.partial(worker, t) for t in tallies])
    _check_single_unit_race(db, site, tallies, ON_HAND)
    assert _total(tallies).refused == THREADS * ATTEMPTS - ON_HAND
    assert _total(tallies).retried == 0  # the conditional UPDATE never needs a retry
    assert sum(1 for t in tallies if t.ok) > 1, "the threads did not actually compete"
    assert all(r["requested"] == 1 and r["on_hand"] == 0 for t in tallies for r in t.refusals)
    sampler.check()
    seen = [on_hand for on_hand, _, _ in sampler.samples]
    assert min(seen) >= 0
    assert seen == sorted(seen, reverse=True), "on-hand went up during a pick-only race"


def _naive_pick_one(db: Database, site: Site, both_have_read: threading.Barrier) -> int:
    """Read on-hand, decide in Python, write the value back: the lost-update pattern."""
    with db.write() as s:
        on_hand = s.scalar(select(Stock.on_hand).where(Stock.id == site.stock_a))
        assert on_hand is not None
        both_have_read.wait()  # every racer has read before anyone writes
        if on_hand < 1:
            raise InsufficientStock("nothing left", on_hand=on_hand, requested=1)
        s.execute(update(Stock).where(Stock.id == site.stock_a).values(on_hand=on_hand - 1))
        put = postgresql.insert(Stock).values(
            location_id=site.pack, item_id=site.item, lot="", on_hand=1, reserved=0
        )
        s.execute(
            put.on_conflict_do_update(
                index_elements=["location_id", "item_id", "lot"],
                set_={"on_hand": Stock.on_hand + put.excluded.on_hand},
            )
        )
        s.execute(
            insert(Movement).values(
                kind=MovementKind.PICK,
                item_id=site.item,
                lot="",
                quantity=1,
                from_location_id=site.a,
                to_location_id=site.pack,
            )
        )
    return 1


@pytest.mark.parametrize("db_url", POSTGRESQL_ONLY, indirect=True)
def test_the_race_check_catches_a_naive_read_modify_write(db: Database) -> None:
    """Control: the same check fails for a read-then-write decrement (two picks of one unit)."""
    site = _seed(db, 1)
    both_have_read = threading.Barrier(2, timeout=BARRIER_TIMEOUT_S)
    tallies = [Tally(), Tally()]

    def worker(tally: Tally) -> None:
        _attempt(tally, lambda: _naive_pick_one(db, site, both_have_read))

    _run_together([functools.partial(worker, t) for t in tallies])
    assert _total(tallies).ok == 2  # both "won" the last unit
    with pytest.raises(AssertionError, match="oversold"):
        _check_single_unit_race(db, site, tallies, 1)
    with db.read() as s:
        assert verify_ledger(s) != []  # on-hand 0, but the ledger says 1 - 2 = -1


# --------------------------------------------------------------------------- (b) reservations


def test_concurrent_reservations_never_exceed_on_hand(db: Database) -> None:
    """16 threads reserve 1-3 units at a time from 100: never more than on hand is held."""
    stock = 100
    site = _seed(db, stock)
    lines = _order_lines(db, THREADS, quantity=ATTEMPTS * 3)
    tallies = [Tally() for _ in range(THREADS)]

    def worker(line_id: int, tally: Tally) -> None:
        rng = random.Random(line_id)
        for _ in range(ATTEMPTS):
            quantity = rng.randint(1, 3)

            def reserve_some(quantity: int = quantity) -> int:
                with db.write() as s:
                    reserve(s, line_id, site.stock_a, quantity)
                return quantity

            _attempt(tally, reserve_some)

    with StockSampler(db, site.stock_a) as sampler:
        _run_together(
            [functools.partial(worker, line, t) for line, t in zip(lines, tallies, strict=True)]
        )
    total = _total(tallies)
    assert total.errors == []
    assert total.retried == 0
    assert total.refused > 0, "demand (up to 960 units) never exceeded the 100 on hand?"
    # A refusal is only justified when less was free than asked for.
    assert all(r["free"] < r["requested"] for r in total.refusals)
    on_hand, reserved = _stock(db, site.a)
    assert on_hand == stock
    assert reserved == total.units <= on_hand
    assert on_hand - reserved <= 2  # refused asks were for <= 3 units, so <= 2 remain free
    sampler.check()
    with db.read() as s:
        allocated = {
            line: quantity
            for line, quantity in s.execute(select(OrderLine.id, OrderLine.allocated_quantity))
        }
    assert [allocated[line] for line in lines] == [t.units for t in tallies]
    _assert_ledger_sound(db)


# --------------------------------------------------------------------------- (c) mixed


MIXED_OPS = ("receipt", "pick", "transfer", "reserve", "release")


def _mixed_worker(db: Database, site: Site, line_id: int, tallies: dict[str, Tally]) -> None:
    """25 random receipts, picks, transfers (both ways), reservations and releases."""
    rng = random.Random(line_id)
    mine: list[int] = []  # this worker's open reservations

    def move(request: MovementRequest) -> int:
        with db.write() as s:
            post_movement(s, request)
        return request.quantity

    def reserve_at(stock_id: int, quantity: int) -> int:
        with db.write() as s:
            reservation = reserve(s, line_id, stock_id, quantity)
        mine.append(reservation)
        return quantity

    def release_one(reservation: int) -> int:
        with db.write() as s:
            release(s, reservation)
        mine.remove(reservation)
        return 0

    item = site.item
    for _ in range(25):
        here, there = rng.sample([site.a, site.b], 2)
        op = rng.choice(MIXED_OPS)
        action: Callable[[], int]
        if op == "release" and mine:
            action = functools.partial(release_one, rng.choice(mine))
        elif op in ("reserve", "release"):
            op = "reserve"
            stock_id = site.stock_a if here == site.a else site.stock_b
            action = functools.partial(reserve_at, stock_id, rng.randint(1, 6))
        elif op == "receipt":
            request = MovementRequest(MovementKind.RECEIPT, item, rng.randint(1, 5), None, here)
            action = functools.partial(move, request)
        elif op == "pick":
            request = MovementRequest(MovementKind.PICK, item, rng.randint(1, 4), here, site.pack)
            action = functools.partial(move, request)
        else:
            request = MovementRequest(MovementKind.TRANSFER, item, rng.randint(1, 8), here, there)
            action = functools.partial(move, request)
        _attempt(tallies[op], action)


def test_mixed_workload_keeps_every_total_consistent(db: Database) -> None:
    """Receipts, picks, transfers both ways, reservations and releases from 16 threads.

    Nothing may deadlock (stock rows are locked in location order; each worker owns its order
    line and reservations), so no transaction is retried on either backend.
    """
    site = _seed(db, 60, 60)
    lines = _order_lines(db, THREADS, quantity=10_000)
    workers = [{op: Tally() for op in MIXED_OPS} for _ in range(THREADS)]
    with StockSampler(db, site.stock_a) as at_a, StockSampler(db, site.stock_b) as at_b:
        _run_together(
            [
                functools.partial(_mixed_worker, db, site, line, tallies)
                for line, tallies in zip(lines, workers, strict=True)
            ]
        )
    by_op = {op: _total([w[op] for w in workers]) for op in MIXED_OPS}
    total = _total(list(by_op.values()))
    assert total.errors == []
    assert total.ok + total.refused == THREADS * 25
    assert all(by_op[op].ok > 0 for op in MIXED_OPS), {op: t.ok for op, t in by_op.items()}
    on_hand_a, _ = _stock(db, site.a)
    on_hand_b, _ = _stock(db, site.b)
    assert on_hand_a + on_hand_b == 120 + by_op["receipt"].units - by_op["pick"].units
    assert _stock(db, site.pack) == (by_op["pick"].units, 0)
    with db.read() as s:
        movements = s.scalar(select(func.count()).select_from(Movement))
    assert movements == 2 + by_op["receipt"].ok + by_op["pick"].ok + by_op["transfer"].ok
    at_a.check()
    at_b.check()
    _assert_ledger_sound(db)
    assert total.retried == 0, f"{total.retried} deadlock(s) or serialisation failure(s)"


# --------------------------------------------------------------------------- lock order


def test_opposite_transfers_do_not_deadlock(db: Database) -> None:
    """A->B and B->A at the same moment both complete, with no deadlock to retry.

    Each transaction pauses 0.3 s after its first stock statement, so that both would hold
    their first row before asking for the second: the interleaving that deadlocks on
    PostgreSQL unless ``post_movement`` locks the two rows in one global (location) order.
    """
    site = _seed(db, 10, 10)
    paused = threading.local()
    pauses: list[str] = []

    def pause_after_first_stock_statement(*args: Any) -> None:
        statement: str = args[2]
        if getattr(paused, "armed", False) and " stock " in f" {statement} ":
            paused.armed = False
            pauses.append(statement)
            time.sleep(0.3)

    def transfer(from_id: int, to_id: int) -> int:
        paused.armed = True
        with db.write() as s:
            post_movement(s, MovementRequest(MovementKind.TRANSFER, site.item, 1, from_id, to_id))
        return 1

    tallies = [Tally(), Tally()]
    event.listen(db.engine, "after_cursor_execute", pause_after_first_stock_statement)
    try:
        _run_together(
            [
                lambda: _attempt(tallies[0], lambda: transfer(site.a, site.b)),
                lambda: _attempt(tallies[1], lambda: transfer(site.b, site.a)),
            ]
        )
    finally:
        event.remove(db.engine, "after_cursor_execute", pause_after_first_stock_statement)
    total = _total(tallies)
    assert total.errors == []
    assert total.ok == 2
    assert len(pauses) == 2, "each transfer paused after its first stock statement"
    _assert_ledger_sound(db)
    assert total.retried == 0, f"{total.retried} deadlock(s) between two opposite transfers"


# --------------------------------------------------------------------------- (d) processes


def _process_race(url: str, site: Site, attempts: int, start: Any, results: Any) -> None:
    """One process of the race: its own Database and connection, then single-unit picks."""
    tally = Tally()
    backend = None
    db = Database(url)
    try:
        with db.read() as s:  # connected before the start signal, so connecting is not timed
            if db.dialect == "postgresql":
                backend = s.scalar(text("SELECT pg_backend_pid()"))
            else:
                s.execute(text("SELECT 1"))
        start.wait()
        for _ in range(attempts):
            _attempt(tally, lambda: _pick_one(db, site))
    except Exception as exc:  # sent back to the test rather than lost in the child
        tally.errors.append(repr(exc))
    finally:
        db.dispose()
        results.put((os.getpid(), backend, tally))


def test_single_unit_race_across_processes(db: Database) -> None:
    """8 spawned processes x 40 single-unit picks on 200 units: exactly 200 win."""
    site = _seed(db, ON_HAND)
    db.dispose()  # nothing of the parent's pool is shared with the children
    attempts = THREADS * ATTEMPTS // PROCESSES
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(PROCESSES, timeout=60)
    results = context.Queue()
    processes = [
        context.Process(target=_process_race, args=(db.url, site, attempts, start, results))
        for _ in range(PROCESSES)
    ]
    for process in processes:
        process.start()
    try:
        reported = [results.get(timeout=120) for _ in processes]
    finally:
        for process in processes:
            process.join(timeout=30)
        results.close()
        results.join_thread()
    assert [p.exitcode for p in processes] == [0] * PROCESSES
    for process in processes:
        process.close()
    pids = {pid for pid, _, _ in reported}
    assert len(pids) == PROCESSES and os.getpid() not in pids
    if db.dialect == "postgresql":
        assert len({backend for _, backend, _ in reported}) == PROCESSES
    tallies = [tally for _, _, tally in reported]
    _check_single_unit_race(db, site, tallies, ON_HAND)
    assert _total(tallies).retried == 0
    assert sum(1 for t in tallies if t.ok) > 1, "the processes did not actually compete"


def test_background_checkpoints_leave_the_wal_to_the_owner(tmp_path):
    # The server's connections never checkpoint inside a commit; Database.checkpoint() does.
    db = Database(f"sqlite:///{tmp_path}/ckpt.sqlite3", background_checkpoints=True)
    db.create_all()
    try:
        assert db.background_checkpoints
        with db.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
        for n in range(1500):  # ~4.5 MB: past the 1,000-page mark that would checkpoint
            with db.write() as session:
                session.execute(text("CREATE TABLE IF NOT EXISTS filler (n INTEGER, pad TEXT)"))
                session.execute(
                    text("INSERT INTO filler VALUES (:n, :pad)"), {"n": n, "pad": "x" * 3000}
                )
        wal = tmp_path / "ckpt.sqlite3-wal"
        assert wal.stat().st_size > 4 * 1024 * 1024  # nothing copied it back yet
        busy, frames, copied = db.checkpoint() or (1, 0, 0)
        assert busy == 0 and frames > 0 and copied == frames
    finally:
        db.dispose()


def test_default_connections_keep_sqlites_automatic_checkpoints(tmp_path):
    db = Database(f"sqlite:///{tmp_path}/auto.sqlite3")
    try:
        assert not db.background_checkpoints
        with db.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 1000
    finally:
        db.dispose()
