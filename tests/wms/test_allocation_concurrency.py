"""Allocation under real concurrency on PostgreSQL: scarce stock is never over-reserved.

Every worker thread runs its own ``Database.write()`` transactions; a barrier lets them go
at once. Under READ COMMITTED the conditional ``UPDATE stock SET reserved = reserved + q
WHERE on_hand - reserved >= q`` in the ledger is what refuses a take another transaction got
first; allocation then plans the line again on fresh figures.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError

from wms.allocation import OrderAllocation, allocate_order, allocate_orders
from wms.db import Database
from wms.db.schema import Location, Order, OrderLine, PickTask, Reservation, Stock, Wave
from wms.model import LocationType, OrderStatus, ReservationStatus, TaskStatus, WaveStatus
from wms.picks import cancel_order
from wms.release import plan_waves, release_continuous, release_orders

from .order_flow_site import (
    NOW,
    TODAY,
    assert_consistent,
    fresh_database,
    new_order,
    open_reservations,
    order,
    put_stock,
    site_of,
    total_reserved,
)

THREADS = 12
BARRIER_TIMEOUT_S = 30.0
RETRYABLE_SQLSTATES = {"40P01", "40001"}  # deadlock, serialization failure: run it again
MAX_RETRIES = 20
POSTGRESQL_ONLY = [pytest.param("postgresql", marks=pytest.mark.postgresql)]


@pytest.fixture(params=POSTGRESQL_ONLY)
def database(request, tmp_path) -> Iterator[Database]:
    with fresh_database(request.param, tmp_path, pool_size=THREADS + 6, max_overflow=THREADS) as db:
        yield db


@pytest.fixture
def site(database):
    return site_of(database)


@dataclass
class Outcome:
    """What one worker got back, and anything that went wrong."""

    allocations: list[OrderAllocation] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    retried: int = 0
    errors: list[str] = field(default_factory=list)


def _attempt(outcome: Outcome, action: Callable[[], None]) -> None:
    """Run one transaction; run it again only when PostgreSQL says the race was lost."""
    for _ in range(MAX_RETRIES):
        try:
            action()
        except DBAPIError as exc:
            if getattr(exc.orig, "sqlstate", None) in RETRYABLE_SQLSTATES:
                outcome.retried += 1
                continue
            outcome.errors.append(repr(exc))
        except Exception as exc:  # a finding: report it, don't lose it in the thread
            outcome.errors.append(repr(exc))
        return
    outcome.errors.append(f"gave up after {MAX_RETRIES} retries")


def _run_together(workers: list[Callable[[], None]]) -> None:
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


def _free(database: Database, item_id: int) -> int:
    """Units of an item free to allocate (pick faces and reserve)."""
    with database.read() as s:
        return int(
            s.scalar(
                select(func.coalesce(func.sum(Stock.on_hand - Stock.reserved), 0))
                .join(Location, Stock.location_id == Location.id)
                .where(
                    Stock.item_id == item_id,
                    Location.type.in_((LocationType.PICK_FACE, LocationType.RESERVE)),
                )
            )
            or 0
        )


def _check_allocation_books(database: Database, site, outcomes: list[Outcome]) -> None:
    """Reserved never beyond on hand; reserved, reservations, lines and results all agree."""
    with database.read() as s:
        assert_consistent(s)
        for sku in ("MUG", "PEN"):
            on_hand, reserved = s.execute(
                select(func.sum(Stock.on_hand), func.sum(Stock.reserved)).where(
                    Stock.item_id == site.item[sku]
                )
            ).one()
            assert (reserved or 0) <= (on_hand or 0), sku
        lines = {
            (number, line_no): allocated
            for number, line_no, allocated in s.execute(
                select(Order.number, OrderLine.line_no, OrderLine.allocated_quantity).join(
                    Order, OrderLine.order_id == Order.id
                )
            )
        }
        statuses = dict(s.execute(select(Order.number, Order.status)).all())
        reserved_total = total_reserved(s)
    reported = {}
    for outcome in outcomes:
        for allocation in outcome.allocations:
            assert statuses[allocation.number] is allocation.status, allocation.number
            for line in allocation.lines:
                reported[(allocation.number, line.line_no)] = line.allocated
                assert lines[(allocation.number, line.line_no)] == line.allocated
                expected = (
                    "allocated"
                    if line.allocated == line.quantity
                    else "partly_allocated"
                    if line.allocated
                    else "backordered"
                )
                assert line.status == expected
    assert sum(reported.values()) == reserved_total


def test_racing_allocations_never_over_reserve_scarce_stock(database, site):
    rng = random.Random(5)
    with database.write() as s:
        put_stock(s, site, "MUG", "A1-01", 30)
        put_stock(s, site, "MUG", "A1-02", 25)
        put_stock(s, site, "MUG", "R1-01", 20)
        put_stock(s, site, "MUG", "R1-02", 15)
        put_stock(s, site, "PEN", "A2-03", 12)
        numbers = []
        for n in range(THREADS * 3):
            lines = [("MUG", rng.randint(2, 7))]
            if n % 3 == 0:
                lines.append(("PEN", rng.randint(1, 3)))
            new_order(s, f"R-{n:02d}", lines)
            numbers.append(f"R-{n:02d}")
        demand = {
            sku: sum(
                line.quantity
                for line in s.scalars(select(OrderLine))
                if line.item_id == site.item[sku]
            )
            for sku in ("MUG", "PEN")
        }
    assert demand["MUG"] > 90 and demand["PEN"] > 12  # scarce: not every order can have it
    outcomes = [Outcome() for _ in range(THREADS)]

    def worker(index: int) -> None:
        mine = numbers[index::THREADS]
        outcome = outcomes[index]
        if index % 2:  # one transaction per order
            for number in mine:

                def one(number: str = number) -> None:
                    with database.write() as s:
                        result = allocate_order(s, order(s, number), today=TODAY)
                    outcome.allocations.append(result)

                _attempt(outcome, one)
        else:  # all of this worker's orders in one transaction, the bulk path

            def bulk() -> None:
                with database.write() as s:
                    results = allocate_orders(s, [order(s, n) for n in mine], today=TODAY)
                outcome.allocations.extend(results)

            _attempt(outcome, bulk)

    _run_together([lambda i=i: worker(i) for i in range(THREADS)])
    assert [e for o in outcomes for e in o.errors] == []
    assert sum(len(o.allocations) for o in outcomes) == len(numbers)
    _check_allocation_books(database, site, outcomes)
    with database.read() as s:
        assert total_reserved(s) <= 90 + 12
    # Stock was short for the demand: it all went, and no line was left short while
    # stock it could have had was still free.
    assert _free(database, site.item["MUG"]) == 0
    assert _free(database, site.item["PEN"]) == 0
    statuses = {a.status for o in outcomes for a in o.allocations}
    assert OrderStatus.ALLOCATED in statuses
    assert statuses & {OrderStatus.PARTLY_ALLOCATED, OrderStatus.BACKORDERED}


def test_allocation_racing_cancellation_keeps_reserved_consistent(database, site):
    with database.write() as s:
        put_stock(s, site, "MUG", "A1-01", 60)
        put_stock(s, site, "MUG", "R1-01", 40)
        first = [f"F-{n:02d}" for n in range(THREADS)]
        second = [f"S-{n:02d}" for n in range(THREADS)]
        for number in first:
            new_order(s, number, [("MUG", 5)])
        for number in second:
            new_order(s, number, [("MUG", 8)])
    with database.write() as s:
        allocate_orders(s, [order(s, n) for n in first], today=TODAY)
        release_orders(s, [order(s, n) for n in first[::2]], now=NOW)  # half with open tasks
    with database.read() as s:
        assert total_reserved(s) == 5 * THREADS
        released_tasks = s.scalar(select(func.count()).select_from(PickTask))
    assert released_tasks == THREADS // 2
    outcomes = [Outcome() for _ in range(2 * THREADS)]

    def canceller(index: int) -> None:
        def cancel() -> None:
            with database.write() as s:
                cancel_order(s, order(s, first[index]), reason="race")
            outcomes[index].cancelled.append(first[index])

        _attempt(outcomes[index], cancel)

    def allocator(index: int) -> None:
        outcome = outcomes[THREADS + index]

        def allocate() -> None:
            with database.write() as s:
                result = allocate_order(s, order(s, second[index]), today=TODAY)
            outcome.allocations.append(result)

        _attempt(outcome, allocate)

    workers: list[Callable[[], None]] = []
    for index in range(THREADS):
        workers.append(lambda i=index: canceller(i))
        workers.append(lambda i=index: allocator(i))
    _run_together(workers)
    assert [e for o in outcomes for e in o.errors] == []
    assert sorted(n for o in outcomes for n in o.cancelled) == first
    _check_allocation_books(database, site, outcomes)
    with database.read() as s:
        for number in first:
            assert order(s, number).status is OrderStatus.CANCELLED
            assert open_reservations(s, number) == []
        assert set(
            s.scalars(
                select(PickTask.status).where(
                    PickTask.order_id.in_([order(s, n).id for n in first])
                )
            )
        ) == {TaskStatus.CANCELLED}
        # What is reserved now belongs to the second orders only, and never beyond 100.
        open_total = sum(r.quantity for r in open_reservations(s))
        assert open_total == total_reserved(s) <= 100
        assert open_total == sum(a.lines[0].allocated for o in outcomes for a in o.allocations)
        released = s.scalars(
            select(Reservation).where(Reservation.status == ReservationStatus.RELEASED)
        ).all()
        assert sum(r.quantity for r in released) == 5 * THREADS


def test_racing_wave_planners_and_continuous_releases_take_each_order_once(database, site):
    with database.write() as s:
        put_stock(s, site, "MUG", "A1-01", 500)
        for n in range(60):
            new_order(s, f"W-{n:03d}", [("MUG", 1)])
        allocate_orders(s, list(s.scalars(select(Order).order_by(Order.id))))
    outcomes = [Outcome() for _ in range(6)]

    def plan(outcome: Outcome) -> Callable[[], None]:
        def work() -> None:
            with database.write() as s:
                plan_waves(s, now=NOW)

        return lambda: _attempt(outcome, work)

    def release(outcome: Outcome) -> Callable[[], None]:
        def work() -> None:
            with database.write() as s:
                release_continuous(
                    s, zone_wip_limit=1000, pack_station_wip_limit=1000, now=NOW, max_orders=15
                )

        return lambda: _attempt(outcome, work)

    _run_together([plan(o) for o in outcomes[:3]] + [release(o) for o in outcomes[3:]])
    assert [o.errors for o in outcomes] == [[] for _ in outcomes]
    with database.read() as s:
        assert_consistent(s)
        waves = dict(s.execute(select(Wave.id, Wave.code)).all())
        in_waves = s.execute(select(Order.number, Order.wave_id)).all()
        tasks = s.execute(select(PickTask.order_id, func.count()).group_by(PickTask.order_id)).all()
        released_in_planned = s.scalar(
            select(func.count())
            .select_from(Order)
            .join(Wave, Order.wave_id == Wave.id)
            .where(Order.status == OrderStatus.RELEASED, Wave.status != WaveStatus.RELEASED)
        )
        empty_waves = s.scalar(
            select(func.count()).select_from(Wave).where(~Wave.id.in_(select(Order.wave_id)))
        )
    assert all(wave_id in waves for _number, wave_id in in_waves)  # every order was taken
    assert all(count == 1 for _order, count in tasks)  # none was released twice
    assert len(in_waves) == 60
    # No order was moved from one wave to another by a second planner.
    assert (released_in_planned, empty_waves) == (0, 0)
