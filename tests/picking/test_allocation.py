"""Pure allocation: FEFO/FIFO, shelf life, whole cases and pallets, never beyond what is free."""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict

import pytest

from picking.allocation import (
    AllocationPlan,
    HandlingUnit,
    LineDemand,
    Shortage,
    StockCandidate,
    plan_allocation,
)

TODAY = dt.date(2025, 3, 3)
T0 = dt.datetime(2025, 1, 1, 8, 0, tzinfo=dt.UTC)
EACH, CASE, PALLET = HandlingUnit.EACH, HandlingUnit.CASE, HandlingUnit.PALLET


def cand(
    stock_id: int,
    available: int,
    *,
    days_old: int = 0,
    unit: HandlingUnit = EACH,
    face: bool = True,
    walk: int = 0,
    expiry_in: int | None = None,
    lot: str = "",
) -> StockCandidate:
    """A candidate received ``days_old`` days after T0's reference, expiring in ``expiry_in``."""
    return StockCandidate(
        stock_id=stock_id,
        location_id=1000 + stock_id,
        available=available,
        received_at=T0 + dt.timedelta(days=days_old),
        unit=unit,
        pick_face=face,
        walk_sequence=walk,
        lot=lot or f"L{stock_id}",
        expiry=None if expiry_in is None else TODAY + dt.timedelta(days=expiry_in),
    )


def takes(plan: AllocationPlan) -> list[tuple[int, int, HandlingUnit]]:
    """The plan's takes as plain tuples, in plan order."""
    return [(t.stock_id, t.quantity, t.unit) for t in plan.takes]


# --------------------------------------------------------------------------- FEFO and shelf life


def test_fefo_takes_the_earliest_expiry_first_even_from_reserve():
    stock = [
        cand(1, 10, expiry_in=90, face=True, days_old=0),  # pick face, oldest receipt
        cand(2, 4, expiry_in=5, face=False, days_old=20),  # reserve, expires first
        cand(3, 10, expiry_in=30, face=False, days_old=10),
    ]
    plan = plan_allocation(LineDemand(12, dated=True), stock, TODAY)
    assert takes(plan) == [(2, 4, EACH), (3, 8, EACH)]
    assert (plan.short, plan.reason, plan.allocated) == (0, Shortage.NONE, 12)


def test_fefo_prefers_the_pick_face_between_lots_of_the_same_expiry():
    stock = [cand(1, 5, expiry_in=10, face=False), cand(2, 5, expiry_in=10, face=True)]
    plan = plan_allocation(LineDemand(3, dated=True), stock, TODAY)
    assert takes(plan) == [(2, 3, EACH)]


def test_an_expired_lot_is_never_taken_even_when_it_is_oldest_and_on_the_face():
    stock = [
        cand(1, 100, expiry_in=-1, face=True, days_old=0),
        cand(2, 3, expiry_in=40, face=False, days_old=50),
    ]
    plan = plan_allocation(LineDemand(5, dated=True), stock, TODAY)
    assert takes(plan) == [(2, 3, EACH)]
    assert (plan.short, plan.reason) == (2, Shortage.NOT_ENOUGH)


def test_only_expired_stock_gives_expired_only():
    stock = [cand(1, 10, expiry_in=-1), cand(2, 10, expiry_in=-30)]
    plan = plan_allocation(LineDemand(4, dated=True), stock, TODAY)
    assert plan == AllocationPlan((), 4, Shortage.EXPIRED_ONLY)


def test_minimum_shelf_life_skips_short_dated_lots():
    stock = [
        cand(1, 10, expiry_in=5),  # too short for 14 days
        cand(2, 10, expiry_in=13),  # still too short
        cand(3, 10, expiry_in=14),  # exactly 14 days left: acceptable
        cand(4, 10, expiry_in=60),
    ]
    plan = plan_allocation(LineDemand(15, dated=True, min_shelf_life_days=14), stock, TODAY)
    assert takes(plan) == [(3, 10, EACH), (4, 5, EACH)]
    assert plan.reason is Shortage.NONE


def test_only_short_dated_stock_gives_shelf_life_too_short():
    stock = [cand(1, 10, expiry_in=-2), cand(2, 10, expiry_in=5)]
    plan = plan_allocation(LineDemand(3, dated=True, min_shelf_life_days=14), stock, TODAY)
    assert plan == AllocationPlan((), 3, Shortage.SHELF_LIFE_TOO_SHORT)


def test_shelf_life_shortage_leaves_the_fresh_part_allocated_as_not_enough():
    stock = [cand(1, 50, expiry_in=5), cand(2, 2, expiry_in=100)]
    plan = plan_allocation(LineDemand(6, dated=True, min_shelf_life_days=10), stock, TODAY)
    assert takes(plan) == [(2, 2, EACH)]
    assert (plan.short, plan.reason) == (4, Shortage.NOT_ENOUGH)


def test_undated_item_ignores_expiry_fields():
    stock = [cand(1, 5, expiry_in=-10, days_old=0)]
    plan = plan_allocation(LineDemand(5, dated=False), stock, TODAY)
    assert takes(plan) == [(1, 5, EACH)]


# --------------------------------------------------------------------------- FIFO


def test_fifo_takes_pick_faces_first_then_oldest_receipt():
    stock = [
        cand(1, 10, face=False, days_old=0),  # oldest of all, but in reserve
        cand(2, 3, face=True, days_old=9),
        cand(3, 4, face=True, days_old=2),  # oldest pick face
        cand(4, 10, face=False, days_old=5),
    ]
    plan = plan_allocation(LineDemand(12), stock, TODAY)
    assert takes(plan) == [(3, 4, EACH), (2, 3, EACH), (1, 5, EACH)]


def test_fifo_breaks_ties_by_walk_sequence():
    stock = [cand(1, 5, walk=30), cand(2, 5, walk=10), cand(3, 5, walk=20)]
    plan = plan_allocation(LineDemand(7), stock, TODAY)
    assert takes(plan) == [(2, 5, EACH), (3, 2, EACH)]


def test_b2c_line_takes_eaches_and_breaks_cases_only_after_each_locations():
    stock = [
        cand(1, 24, unit=CASE, days_old=0),
        cand(2, 5, unit=EACH, face=False, days_old=9),
    ]
    plan = plan_allocation(LineDemand(8, bulk=False, case_quantity=12), stock, TODAY)
    assert takes(plan) == [(2, 5, EACH), (1, 3, EACH)]
    assert all(t.unit is EACH for t in plan.takes)


# --------------------------------------------------------------------------- B2B cases and pallets


def test_b2b_thirty_with_case_twelve_is_two_cases_and_six_eaches():
    stock = [
        cand(1, 100, unit=EACH, days_old=0),  # oldest, but eaches
        cand(2, 36, unit=CASE, days_old=5),
        cand(3, 36, unit=CASE, days_old=9),
    ]
    plan = plan_allocation(LineDemand(30, bulk=True, case_quantity=12), stock, TODAY)
    assert takes(plan) == [(2, 24, CASE), (1, 6, EACH)]
    assert plan.reason is Shortage.NONE


def test_b2b_cases_come_from_several_case_locations_when_one_is_low():
    stock = [cand(1, 12, unit=CASE, days_old=0), cand(2, 40, unit=CASE, days_old=1)]
    plan = plan_allocation(LineDemand(36, bulk=True, case_quantity=12), stock, TODAY)
    assert takes(plan) == [(1, 12, CASE), (2, 24, CASE)]


def test_b2b_without_each_stock_breaks_a_case_for_the_remainder():
    stock = [cand(1, 40, unit=CASE)]
    plan = plan_allocation(LineDemand(30, bulk=True, case_quantity=12), stock, TODAY)
    assert takes(plan) == [(1, 24, CASE), (1, 6, EACH)]
    assert plan.allocated == 30


def test_b2b_pallets_first_then_cases_then_eaches():
    stock = [
        cand(1, 480, unit=PALLET, face=False, days_old=0),
        cand(2, 960, unit=PALLET, face=False, days_old=1),
        cand(3, 48, unit=CASE, days_old=2),
        cand(4, 100, unit=EACH, days_old=3),
    ]
    demand = LineDemand(1000, bulk=True, case_quantity=24, pallet_quantity=480)
    plan = plan_allocation(demand, stock, TODAY)
    assert takes(plan) == [(1, 480, PALLET), (2, 480, PALLET), (3, 24, CASE), (4, 16, EACH)]
    assert plan.allocated == 1000


def test_b2b_pallets_without_case_size_leave_the_remainder_in_eaches():
    stock = [cand(1, 1440, unit=PALLET, face=False), cand(2, 100, unit=EACH)]
    plan = plan_allocation(LineDemand(1000, bulk=True, pallet_quantity=480), stock, TODAY)
    assert takes(plan) == [(1, 960, PALLET), (2, 40, EACH)]


def test_b2b_less_than_a_pallet_takes_no_pallet():
    stock = [cand(1, 960, unit=PALLET, face=False), cand(2, 500, unit=EACH)]
    plan = plan_allocation(LineDemand(479, bulk=True, pallet_quantity=480), stock, TODAY)
    assert takes(plan) == [(2, 479, EACH)]


def test_partial_pallet_location_gives_no_whole_pallet():
    stock = [cand(1, 400, unit=PALLET, face=False), cand(2, 600, unit=EACH)]
    plan = plan_allocation(LineDemand(480, bulk=True, pallet_quantity=480), stock, TODAY)
    assert takes(plan) == [(2, 480, EACH)]


# --------------------------------------------------------------------------- shortages


@pytest.mark.parametrize("stock", [[], [cand(1, 0)], [cand(1, -3)]])
def test_no_free_stock_gives_no_stock(stock):
    assert plan_allocation(LineDemand(5), stock, TODAY) == AllocationPlan((), 5, Shortage.NO_STOCK)


def test_not_enough_allocates_what_there_is():
    plan = plan_allocation(LineDemand(10), [cand(1, 3), cand(2, 4, face=False)], TODAY)
    assert takes(plan) == [(1, 3, EACH), (2, 4, EACH)]
    assert (plan.allocated, plan.short, plan.reason) == (7, 3, Shortage.NOT_ENOUGH)


def test_nothing_asked_takes_nothing():
    assert plan_allocation(LineDemand(0), [cand(1, 3)], TODAY) == AllocationPlan(
        (), 0, Shortage.NONE
    )


# --------------------------------------------------------------------------- property


def _random_case(rng: random.Random) -> tuple[LineDemand, list[StockCandidate]]:
    dated = rng.random() < 0.5
    bulk = rng.random() < 0.5
    case = rng.choice([None, 6, 12, 24])
    pallet = rng.choice([None, None, 48, 96, 480])
    demand = LineDemand(
        quantity=rng.randint(0, 600),
        bulk=bulk,
        case_quantity=case,
        pallet_quantity=pallet,
        dated=dated,
        min_shelf_life_days=rng.choice([0, 0, 7, 30]),
    )
    stock = [
        cand(
            n,
            rng.choice([0, rng.randint(1, 30), rng.randint(1, 300)]),
            days_old=rng.randint(0, 60),
            unit=rng.choice([EACH, EACH, CASE, PALLET]),
            face=rng.random() < 0.6,
            walk=rng.randint(0, 50),
            expiry_in=rng.randint(-20, 120) if dated else rng.choice([None, 5]),
        )
        for n in range(1, rng.randint(0, 9) + 1)
    ]
    return demand, stock


@pytest.mark.parametrize("seed", range(8))
def test_property_never_more_than_available_and_the_books_balance(seed):
    rng = random.Random(seed)
    for _ in range(250):
        demand, stock = _random_case(rng)
        plan = plan_allocation(demand, stock, TODAY)
        by_id = {c.stock_id: c for c in stock}
        taken: dict[int, int] = defaultdict(int)
        for take in plan.takes:
            assert take.quantity > 0
            taken[take.stock_id] += take.quantity
        for stock_id, quantity in taken.items():
            assert quantity <= by_id[stock_id].available, (seed, demand, stock, plan)
        assert plan.allocated + plan.short == demand.quantity
        assert plan.allocated <= demand.quantity
        assert (plan.short > 0) == (plan.reason is not Shortage.NONE)
        # Which stock may be taken at all, and that as much of it is taken as is asked.
        best_before = TODAY + dt.timedelta(days=demand.min_shelf_life_days)
        usable = [
            c
            for c in stock
            if c.available > 0 and (not demand.dated or c.expiry is None or c.expiry >= best_before)
        ]
        for stock_id in taken:
            assert by_id[stock_id] in usable, "an expired or too short-dated lot was taken"
        assert plan.allocated == min(demand.quantity, sum(c.available for c in usable))
        # Whole packs only from locations that keep that unit, and only whole ones.
        for take in plan.takes:
            if take.unit is PALLET:
                assert demand.bulk and by_id[take.stock_id].unit is PALLET
                assert take.quantity % (demand.pallet_quantity or 0) == 0
            if take.unit is CASE:
                assert demand.bulk and by_id[take.stock_id].unit is CASE
                assert take.quantity % (demand.case_quantity or 0) == 0
        # Non-bulk dated lines are strictly FEFO: a later lot only once earlier ones are used up.
        if demand.dated and not demand.bulk and plan.takes:
            latest = max(by_id[t.stock_id].expiry or dt.date.max for t in plan.takes)
            for c in usable:
                if (c.expiry or dt.date.max) < latest:
                    assert taken[c.stock_id] == c.available, (seed, demand, stock, plan)
        # Non-bulk undated lines of eaches: reserve only once every pick face is used up.
        if (
            not demand.dated
            and not demand.bulk
            and all(c.unit is EACH for c in stock)
            and any(not by_id[s].pick_face for s in taken)
        ):
            for c in usable:
                if c.pick_face:
                    assert taken[c.stock_id] == c.available, (seed, demand, stock, plan)


def test_property_is_deterministic_and_ignores_candidate_order():
    rng = random.Random(99)
    for _ in range(200):
        demand, stock = _random_case(rng)
        shuffled = stock[:]
        rng.shuffle(shuffled)
        assert plan_allocation(demand, stock, TODAY) == plan_allocation(demand, shuffled, TODAY)


def test_dated_b2b_line_never_leaves_an_earlier_lot_for_cases_of_a_later_one():
    stock = [
        cand(1, 100, unit=EACH, expiry_in=10),
        cand(2, 48, unit=CASE, expiry_in=60),
    ]
    demand = LineDemand(24, bulk=True, case_quantity=12, dated=True)
    plan = plan_allocation(demand, stock, TODAY)
    assert plan.allocated == 24
    assert {t.stock_id for t in plan.takes} == {1}
