"""Allocation in the database: reservations per location, statuses and reasons, cancel, change."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from picking.allocation import Shortage
from wms.allocation import (
    SHORTAGE_TEXT,
    LineAllocation,
    allocate_order,
    allocate_orders,
    release_reservations,
)
from wms.db.schema import Location, Order, OrderLine, Reservation
from wms.errors import Conflict, InvalidInput, NotFound
from wms.model import HandlingUnit, OrderKind, OrderStatus, ReservationStatus, TaskStatus
from wms.picks import cancel_order, change_line_quantity
from wms.release import release_orders

from .order_flow_site import (
    BACKENDS,
    NOW,
    TODAY,
    assert_consistent,
    fresh_database,
    history,
    new_order,
    open_reservations,
    order,
    put_stock,
    reserved_by_stock,
    site_of,
    tasks_of,
    total_reserved,
    yogurt_lots,
)

EACH, CASE, PALLET = HandlingUnit.EACH, HandlingUnit.CASE, HandlingUnit.PALLET


@pytest.fixture(params=BACKENDS)
def database(request, tmp_path):
    with fresh_database(request.param, tmp_path) as db:
        yield db


@pytest.fixture
def site(database):
    return site_of(database)


def _held(s: Session, number: str) -> list[tuple[int, int, HandlingUnit]]:
    """(stock id, quantity, unit) of an order's open reservations."""
    return sorted((r.stock_id, r.quantity, r.unit) for r in open_reservations(s, number))


# --------------------------------------------------------------------------- FEFO, shelf life


def test_fefo_reserves_the_earliest_lot_in_reserve_and_never_the_expired_one(database, site):
    with database.write() as s:
        lots = yogurt_lots(s, site)
        new_order(s, "C-1", [("YOGURT", 12)])
    with database.write() as s:
        result = allocate_order(s, order(s, "C-1"), today=TODAY)
    assert result.status is OrderStatus.ALLOCATED
    assert result.lines == (LineAllocation(1, "YOGURT", 12, 12, "allocated", ""),)
    with database.read() as s:
        assert _held(s, "C-1") == sorted([(lots["Y-SHORT"], 10, EACH), (lots["Y-MID"], 2, EACH)])
        assert_consistent(s)
        assert order(s, "C-1").status is OrderStatus.ALLOCATED
        assert history(s, "C-1")[-1] == (OrderStatus.ALLOCATED, "YOGURT 12/12")


def test_customer_minimum_shelf_life_skips_the_short_dated_lot(database, site):
    with database.write() as s:
        lots = yogurt_lots(s, site)
        new_order(s, "S-1", [("YOGURT", 25)], kind=OrderKind.B2B, customer="SHOP")
    with database.write() as s:
        result = allocate_order(s, order(s, "S-1"), today=TODAY)
    assert result.status is OrderStatus.ALLOCATED
    with database.read() as s:
        assert _held(s, "S-1") == sorted([(lots["Y-MID"], 10, EACH), (lots["Y-LONG"], 15, EACH)])
        assert_consistent(s)


def test_only_short_dated_lots_backorder_with_the_shelf_life_reason(database, site):
    with database.write() as s:
        put_stock(s, site, "YOGURT", "A2-01", 50, lot="OLD", expiry=TODAY - dt.timedelta(3))
        put_stock(s, site, "YOGURT", "R1-02", 50, lot="SOON", expiry=TODAY + dt.timedelta(10))
        new_order(s, "S-2", [("YOGURT", 5)], kind=OrderKind.B2B, customer="SHOP")
        new_order(s, "C-2", [("YOGURT", 5)])
    with database.write() as s:
        shop = allocate_order(s, order(s, "S-2"), today=TODAY)
    assert shop.status is OrderStatus.BACKORDERED
    assert shop.lines[0].status == "backordered"
    assert shop.lines[0].allocated == 0
    assert shop.lines[0].reason == SHORTAGE_TEXT[Shortage.SHELF_LIFE_TOO_SHORT]
    with database.write() as s:
        web = allocate_order(s, order(s, "C-2"), today=TODAY)
    assert web.status is OrderStatus.ALLOCATED  # no minimum: the lot of 10 days will do
    with database.read() as s:
        assert total_reserved(s) == 5
        assert_consistent(s)


def test_only_expired_lots_backorder_with_the_expired_reason(database, site):
    with database.write() as s:
        put_stock(s, site, "YOGURT", "A2-01", 50, lot="OLD", expiry=TODAY - dt.timedelta(1))
        new_order(s, "C-3", [("YOGURT", 1)])
    with database.write() as s:
        result = allocate_order(s, order(s, "C-3"), today=TODAY)
    assert result.status is OrderStatus.BACKORDERED
    assert result.lines[0].reason == SHORTAGE_TEXT[Shortage.EXPIRED_ONLY]
    with database.read() as s:
        assert open_reservations(s) == []
        assert total_reserved(s) == 0


# --------------------------------------------------------------------------- statuses and reasons


def test_partly_allocated_and_backordered_lines_say_why(database, site):
    with database.write() as s:
        put_stock(s, site, "MUG", "A1-01", 5)
        new_order(s, "C-4", [("MUG", 8), ("PEN", 2)])
        new_order(s, "C-5", [("PEN", 1)])
    with database.write() as s:
        partly = allocate_order(s, order(s, "C-4"), today=TODAY)
        backordered = allocate_order(s, order(s, "C-5"), today=TODAY)
    assert partly.status is OrderStatus.PARTLY_ALLOCATED
    assert partly.lines == (
        LineAllocation(1, "MUG", 8, 5, "partly_allocated", SHORTAGE_TEXT[Shortage.NOT_ENOUGH]),
        LineAllocation(2, "PEN", 2, 0, "backordered", SHORTAGE_TEXT[Shortage.NO_STOCK]),
    )
    assert backordered.status is OrderStatus.BACKORDERED
    with database.read() as s:
        assert order(s, "C-4").status is OrderStatus.PARTLY_ALLOCATED
        assert order(s, "C-5").status is OrderStatus.BACKORDERED
        assert [st for st, _d in history(s, "C-4")] == [
            OrderStatus.RECEIVED,
            OrderStatus.PARTLY_ALLOCATED,
        ]
        assert_consistent(s)


def test_a_backordered_order_is_allocated_once_stock_arrives(database, site):
    with database.write() as s:
        new_order(s, "C-6", [("PEN", 3)])
    with database.write() as s:
        assert allocate_order(s, order(s, "C-6"), today=TODAY).status is OrderStatus.BACKORDERED
    with database.write() as s:
        put_stock(s, site, "PEN", "A2-03", 10)
    with database.write() as s:
        again = allocate_order(s, order(s, "C-6"), today=TODAY)
    assert again.status is OrderStatus.ALLOCATED
    with database.write() as s:
        # Allocating an allocated order again reserves nothing more.
        assert allocate_order(s, order(s, "C-6"), today=TODAY).status is OrderStatus.ALLOCATED
    with database.read() as s:
        assert total_reserved(s) == 3
        assert len(open_reservations(s)) == 1
        assert_consistent(s)


def test_stock_that_pickers_cannot_reach_is_not_allocated(database, site):
    with database.write() as s:
        put_stock(s, site, "MUG", "STAGE-1", 10)
        put_stock(s, site, "MUG", "PACK-1", 10)
        put_stock(s, site, "PEN", "A1-02", 10)
        s.get_one(Location, site.loc["A1-02"]).active = False
        new_order(s, "C-7", [("MUG", 2), ("PEN", 1)])
    with database.write() as s:
        result = allocate_order(s, order(s, "C-7"), today=TODAY)
    assert result.status is OrderStatus.BACKORDERED
    assert [line.status for line in result.lines] == ["backordered", "backordered"]
    assert result.lines[0].reason == SHORTAGE_TEXT[Shortage.NO_STOCK]
    assert result.lines[1].reason  # stock at an inactive location: some reason is given
    with database.read() as s:
        assert open_reservations(s) == []
        assert total_reserved(s) == 0


def test_pick_faces_first_then_reserve_oldest_first(database, site):
    old = NOW - dt.timedelta(days=30)
    with database.write() as s:
        reserve = put_stock(s, site, "MUG", "R1-01", 40, received_at=old)
        face_new = put_stock(s, site, "MUG", "A1-01", 4, received_at=NOW)
        face_old = put_stock(s, site, "MUG", "A1-02", 3, received_at=old)
        new_order(s, "C-8", [("MUG", 10)])
    with database.write() as s:
        allocate_order(s, order(s, "C-8"), today=TODAY)
    with database.read() as s:
        held = [(r.stock_id, r.quantity) for r in open_reservations(s, "C-8")]
    assert held == [(face_old, 3), (face_new, 4), (reserve, 3)]


# --------------------------------------------------------------------------- B2B units


def test_b2b_line_reserves_whole_cases_from_case_locations_and_eaches_for_the_rest(database, site):
    with database.write() as s:
        each = put_stock(s, site, "TEA", "A3-06", 100, received_at=NOW - dt.timedelta(9))
        cases = put_stock(s, site, "TEA", "B1-01", 36, received_at=NOW - dt.timedelta(5))
        put_stock(s, site, "TEA", "B1-02", 36, received_at=NOW - dt.timedelta(1))
        new_order(s, "S-3", [("TEA", 30)], kind=OrderKind.B2B, customer="BAR")
        new_order(s, "C-9", [("TEA", 30)])
    with database.write() as s:
        assert allocate_order(s, order(s, "S-3"), today=TODAY).status is OrderStatus.ALLOCATED
        assert allocate_order(s, order(s, "C-9"), today=TODAY).status is OrderStatus.ALLOCATED
    with database.read() as s:
        assert _held(s, "S-3") == sorted([(cases, 24, CASE), (each, 6, EACH)])
        # A B2C line takes eaches only, from the each location.
        assert _held(s, "C-9") == [(each, 30, EACH)]
        assert_consistent(s)


def test_b2b_line_reserves_whole_pallets_then_cases_then_eaches(database, site):
    with database.write() as s:
        pallets = put_stock(s, site, "WATER", "R2-01", 960, received_at=NOW - dt.timedelta(9))
        cases = put_stock(s, site, "WATER", "B1-03", 48, received_at=NOW - dt.timedelta(8))
        each = put_stock(s, site, "WATER", "A3-05", 100, received_at=NOW - dt.timedelta(7))
        new_order(s, "S-4", [("WATER", 1000)], kind=OrderKind.B2B, customer="BAR")
    with database.write() as s:
        result = allocate_order(s, order(s, "S-4"), today=TODAY)
    assert result.status is OrderStatus.ALLOCATED
    with database.read() as s:
        assert _held(s, "S-4") == sorted(
            [(pallets, 960, PALLET), (cases, 24, CASE), (each, 16, EACH)]
        )
        assert_consistent(s)


# --------------------------------------------------------------------------- many orders at once


class _Rollback(Exception):
    """Raised to undo a transaction on purpose."""


def _orders_and_stock(database, site) -> list[str]:
    rng = random.Random(7)
    numbers = []
    with database.write() as s:
        yogurt_lots(s, site)
        put_stock(s, site, "MUG", "A1-01", 15, received_at=NOW - dt.timedelta(3))
        put_stock(s, site, "MUG", "R1-01", 25, received_at=NOW - dt.timedelta(9))
        put_stock(s, site, "PEN", "A2-03", 12)
        put_stock(s, site, "TEA", "A3-06", 40)
        put_stock(s, site, "TEA", "B1-01", 48)
        for n in range(40):
            kind = rng.choice([OrderKind.B2C, OrderKind.B2C, OrderKind.B2B])
            skus = rng.sample(["MUG", "PEN", "TEA", "YOGURT"], rng.randint(1, 3))
            number = f"M-{n:03d}"
            new_order(
                s,
                number,
                [(sku, rng.randint(1, 14)) for sku in skus],
                kind=kind,
                customer="SHOP" if kind is OrderKind.B2B else None,
            )
            numbers.append(number)
    return numbers


def _snapshot(s: Session) -> dict[str, object]:
    state: dict[str, object] = {}
    for o in s.scalars(select(Order).order_by(Order.id)):
        lines = s.scalars(
            select(OrderLine).where(OrderLine.order_id == o.id).order_by(OrderLine.line_no)
        ).all()
        state[o.number] = (
            o.status,
            [(line.line_no, line.allocated_quantity) for line in lines],
            _held(s, o.number),
        )
    state["reserved"] = reserved_by_stock(s)
    return state


def test_allocating_many_orders_at_once_equals_one_by_one(database, site):
    numbers = _orders_and_stock(database, site)
    with pytest.raises(_Rollback), database.write() as s:
        together = allocate_orders(s, [order(s, n) for n in numbers], today=TODAY)
        s.flush()
        assert_consistent(s)
        at_once = _snapshot(s)
        raise _Rollback
    with database.read() as s:
        assert total_reserved(s) == 0  # rolled back
    one_by_one = []
    for number in numbers:
        with database.write() as s:
            one_by_one.append(allocate_order(s, order(s, number), today=TODAY))
    with database.read() as s:
        assert _snapshot(s) == at_once
        assert_consistent(s)
    assert together == one_by_one
    statuses = {a.status for a in together}
    assert {OrderStatus.ALLOCATED, OrderStatus.PARTLY_ALLOCATED} <= statuses  # stock ran out
    assert sum(line.allocated for a in together for line in a.lines) == sum(
        line.allocated for a in one_by_one for line in a.lines
    )


def test_allocate_orders_twice_reserves_nothing_more(database, site):
    numbers = _orders_and_stock(database, site)
    with database.write() as s:
        allocate_orders(s, [order(s, n) for n in numbers], today=TODAY)
    with database.read() as s:
        before = _snapshot(s)
    with database.write() as s:
        allocate_orders(s, [order(s, n) for n in numbers], today=TODAY)
    with database.read() as s:
        assert _snapshot(s) == before
        assert_consistent(s)


# --------------------------------------------------------------------------- cancel and change


def test_cancel_releases_every_reservation_and_cancels_open_tasks(database, site):
    with database.write() as s:
        put_stock(s, site, "MUG", "A1-01", 10)
        put_stock(s, site, "MUG", "R1-01", 10)
        put_stock(s, site, "PEN", "A2-03", 10)
        put_stock(s, site, "TEA", "B1-01", 24)
        new_order(s, "KEEP", [("MUG", 4)])
        new_order(s, "GO", [("MUG", 9), ("PEN", 3)])
        new_order(s, "GO-B2B", [("TEA", 24), ("PEN", 2)], kind=OrderKind.B2B, customer="BAR")
    with database.write() as s:
        allocate_order(s, order(s, "KEEP"), today=TODAY)
    with database.read() as s:
        before = reserved_by_stock(s)
    with database.write() as s:
        allocate_order(s, order(s, "GO"), today=TODAY)
        allocate_order(s, order(s, "GO-B2B"), today=TODAY)
        release_orders(s, [order(s, "GO-B2B")], now=NOW)
    with database.read() as s:
        assert len(open_tasks := [t for t in tasks_of(s, "GO-B2B")]) == 2
        assert all(t.status is TaskStatus.OPEN for t in open_tasks)
    with database.write() as s:
        assert cancel_order(s, order(s, "GO"), reason="customer asked") == 12
        assert cancel_order(s, order(s, "GO-B2B")) == 26
    with database.read() as s:
        assert reserved_by_stock(s) == before
        for number in ("GO", "GO-B2B"):
            assert open_reservations(s, number) == []
            assert order(s, number).status is OrderStatus.CANCELLED
            assert all(line.allocated_quantity == 0 for line in order(s, number).lines)
        assert history(s, "GO")[-1] == (OrderStatus.CANCELLED, "customer asked")
        assert {t.status for t in tasks_of(s, "GO-B2B")} == {TaskStatus.CANCELLED}
        released = s.scalars(select(Reservation).where(Reservation.status != "open")).all()
        assert {r.status for r in released} == {ReservationStatus.RELEASED}
        assert_consistent(s)
    with pytest.raises(Conflict), database.write() as s:
        cancel_order(s, order(s, "GO"))


def test_release_reservations_gives_back_the_units_it_held(database, site):
    with database.write() as s:
        put_stock(s, site, "MUG", "A1-01", 10)
        new_order(s, "C-10", [("MUG", 6)])
    with database.write() as s:
        allocate_order(s, order(s, "C-10"), today=TODAY)
    with database.write() as s:
        assert release_reservations(s, order(s, "C-10")) == 6
        assert order(s, "C-10").lines[0].allocated_quantity == 0
    with database.read() as s:
        assert total_reserved(s) == 0
        assert_consistent(s)


def test_change_line_quantity_reallocates(database, site):
    with database.write() as s:
        face = put_stock(s, site, "MUG", "A1-01", 10)
        reserve = put_stock(s, site, "MUG", "R1-01", 30)
        new_order(s, "C-11", [("MUG", 5), ("PEN", 1)])
        put_stock(s, site, "PEN", "A2-03", 5)
    with database.write() as s:
        allocate_order(s, order(s, "C-11"), today=TODAY)
    with database.write() as s:
        line = change_line_quantity(s, order(s, "C-11"), 1, 25, today=TODAY)
        assert (line.quantity, line.allocated_quantity) == (25, 25)
    with database.read() as s:
        mug = [r for r in open_reservations(s, "C-11") if r.stock_id in (face, reserve)]
        assert sorted((r.stock_id, r.quantity) for r in mug) == sorted([(face, 10), (reserve, 15)])
        assert len(open_reservations(s, "C-11")) == 3  # and the PEN line's, untouched
        assert_consistent(s)
    with database.write() as s:
        line = change_line_quantity(s, order(s, "C-11"), 1, 3, today=TODAY)
        assert (line.quantity, line.allocated_quantity) == (3, 3)
    with database.read() as s:
        mug = [r for r in open_reservations(s, "C-11") if r.stock_id in (face, reserve)]
        assert [(r.stock_id, r.quantity) for r in mug] == [(face, 3)]
        assert reserved_by_stock(s).get(reserve, 0) == 0
        assert_consistent(s)


def test_change_line_quantity_updates_the_order_status(database, site):
    with database.write() as s:
        put_stock(s, site, "MUG", "A1-01", 10)
        new_order(s, "C-12", [("MUG", 5)])
    with database.write() as s:
        allocate_order(s, order(s, "C-12"), today=TODAY)
    with database.write() as s:
        line = change_line_quantity(s, order(s, "C-12"), 1, 15, today=TODAY)
        assert line.allocated_quantity == 10
    with database.read() as s:
        assert_consistent(s)
        assert order(s, "C-12").status is OrderStatus.PARTLY_ALLOCATED


def test_change_line_quantity_refuses_bad_requests(database, site):
    with database.write() as s:
        put_stock(s, site, "MUG", "A1-01", 10)
        new_order(s, "C-13", [("MUG", 2)])
    with database.write() as s:
        allocate_order(s, order(s, "C-13"), today=TODAY)
    with pytest.raises(InvalidInput), database.write() as s:
        change_line_quantity(s, order(s, "C-13"), 1, 0, today=TODAY)
    with pytest.raises(NotFound), database.write() as s:
        change_line_quantity(s, order(s, "C-13"), 2, 1, today=TODAY)
    with database.write() as s:
        release_orders(s, [order(s, "C-13")], now=NOW)
    with pytest.raises(Conflict), database.write() as s:
        change_line_quantity(s, order(s, "C-13"), 1, 1, today=TODAY)
    with database.read() as s:
        assert order(s, "C-13").lines[0].quantity == 2
        assert_consistent(s)
