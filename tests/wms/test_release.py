"""Release: waves, continuous release under WIP limits, batches, routes, totes, hold, expedite."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter, defaultdict

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from picking.routing import route_length
from wms.allocation import allocate_orders
from wms.db.schema import (
    BatchOrder,
    Location,
    Order,
    OrderLine,
    PickBatch,
    PickTask,
    ReplenishmentTask,
    Stock,
    Wave,
)
from wms.errors import Conflict
from wms.model import (
    BatchKind,
    HandlingUnit,
    OrderKind,
    OrderStatus,
    TaskKind,
    TaskStatus,
    WaveStatus,
)
from wms.orders import set_status
from wms.picks import confirm_pick
from wms.release import (
    EXPEDITE_PRIORITY,
    ReleaseOptions,
    expedite_order,
    hold_order,
    plan_waves,
    release_continuous,
    release_orders,
    release_wave,
    zone_layout,
)

from .order_flow_site import (
    BACKENDS,
    NOW,
    TODAY,
    Site,
    assert_consistent,
    empty_stock_row,
    fresh_database,
    history,
    new_order,
    open_reservations,
    open_tasks,
    order,
    plain_faces,
    put_stock,
    set_zone_wip_limit,
    site_of,
    stock_plain_items,
    tasks_of,
)

_TICKS = itertools.count(1)
CUT_2PM = NOW.replace(hour=14)
CUT_4PM = NOW.replace(hour=16)
FACES = plain_faces()
UNRELEASED = (
    OrderStatus.RECEIVED,
    OrderStatus.ALLOCATED,
    OrderStatus.PARTLY_ALLOCATED,
    OrderStatus.BACKORDERED,
)


@pytest.fixture(params=BACKENDS)
def database(request, tmp_path):
    with fresh_database(request.param, tmp_path) as db:
        yield db


@pytest.fixture
def site(database):
    return site_of(database)


def _later() -> dt.datetime:
    """A moment after every earlier one (continuous release names its wave by the moment)."""
    return NOW + dt.timedelta(seconds=next(_TICKS))


def _allocate(s: Session, *numbers: str) -> None:
    wanted = numbers or tuple(s.scalars(select(Order.number).order_by(Order.id)))
    allocate_orders(s, [order(s, n) for n in wanted], today=TODAY)


def _released(s: Session) -> set[str]:
    return set(s.scalars(select(Order.number).where(Order.status == OrderStatus.RELEASED)))


def _check_released(s: Session, numbers: set[str], detail: str | None = None) -> None:
    """Each order is released, with one 'released' event in its history."""
    for number in numbers:
        assert order(s, number).status is OrderStatus.RELEASED, number
        released = [d for st, d in history(s, number) if st is OrderStatus.RELEASED]
        assert len(released) == 1, (number, history(s, number))
        if detail is not None:
            assert released[0] == detail


def _check_tasks_match_reservations(s: Session) -> None:
    """Every open reservation of a released order has exactly one live pick task like it."""
    live = [t for t in tasks_of(s) if t.status is not TaskStatus.CANCELLED]
    by_reservation = Counter(t.reservation_id for t in live)
    released = [
        r
        for r in open_reservations(s)
        if s.get_one(Order, s.get_one(OrderLine, r.order_line_id).order_id).status not in UNRELEASED
    ]
    assert released
    for reservation in open_reservations(s):
        expected = 1 if reservation in released else 0
        assert by_reservation[reservation.id] == expected, reservation.id
    tasks = {t.reservation_id: t for t in live}
    for reservation in released:
        task = tasks[reservation.id]
        stock = s.get_one(Stock, reservation.stock_id)
        assert task.quantity == reservation.quantity
        assert task.unit is reservation.unit
        assert task.order_line_id == reservation.order_line_id
        assert task.item_id == stock.item_id
        assert task.lot == stock.lot
        if task.waits_for_id is None:
            assert task.location_id == stock.location_id
        location = s.get_one(Location, task.location_id)
        assert task.zone_id == location.zone_id


def _check_batches(s: Session, totes_per_cart: int) -> list[PickBatch]:
    """Sequences 1..n, tote positions consistent per order, routes that the sequence walks."""
    batches = list(s.scalars(select(PickBatch).order_by(PickBatch.id)))
    layouts = {}
    for batch in batches:
        tasks = sorted(batch.tasks, key=lambda t: t.sequence)
        assert [t.sequence for t in tasks] == list(range(1, len(tasks) + 1)), batch.code
        totes = {bo.order_id: bo.tote_position for bo in batch.orders}
        assert len(set(totes.values())) == len(totes), "two orders share a tote"
        assert {t.order_id for t in tasks} == set(totes), batch.code
        for task in tasks:
            assert task.tote_position == totes[task.order_id], batch.code
            assert task.zone_id == batch.zone_id
        assert batch.totes == len(totes)
        if batch.kind is BatchKind.CLUSTER:
            assert len(totes) <= totes_per_cart
            assert all(s.get_one(Order, o).kind is OrderKind.B2C for o in totes)
        else:
            assert len(totes) == 1
        if batch.zone_id not in layouts:
            layouts[batch.zone_id] = zone_layout(s, batch.zone_id)
        geometry = layouts[batch.zone_id]
        walked = route_length(geometry.layout, [geometry.points[t.location_id] for t in tasks])
        assert batch.route_method
        assert batch.route_length_m > 0
        assert walked <= batch.route_length_m + 0.01, (batch.code, walked, batch.route_length_m)
    return batches


# --------------------------------------------------------------------------- waves


def test_plan_waves_groups_by_cut_off_carrier_and_priority(database, site):
    with database.write() as s:
        stock_plain_items(s, site)
        specs = {
            "W-1": (CUT_2PM, "DHL", 0),
            "W-2": (CUT_2PM, "DHL", 0),
            "W-3": (CUT_2PM, "UPS", 0),
            "W-4": (CUT_2PM, "DHL", 5),
            "W-5": (CUT_4PM, "DHL", 0),
            "HELD": (CUT_2PM, "DHL", 0),
        }
        for number, (cut_off, carrier, priority) in specs.items():
            new_order(
                s,
                number,
                [("ITEM-01", 1)],
                cut_off=cut_off,
                carrier=carrier,
                priority=priority,
            )
        new_order(s, "BACK", [("PEN", 1)], cut_off=CUT_2PM, carrier="DHL")  # no stock
        _allocate(s)
        new_order(s, "NEW", [("ITEM-02", 1)], cut_off=CUT_2PM, carrier="DHL")  # not allocated
        hold_order(s, order(s, "HELD"))
    with database.write() as s:
        waves = plan_waves(s, now=NOW)
        members = {
            w.code: sorted(s.scalars(select(Order.number).where(Order.wave_id == w.id)))
            for w in waves
        }
        shape = [(w.carrier, w.priority, w.cut_off is None) for w in waves]
        codes = [w.code for w in waves]
    assert [members[c] for c in codes] == [
        ["W-4"],  # earliest cut-off, highest priority first
        ["W-1", "W-2"],
        ["W-3"],
        ["W-5"],
    ]
    assert shape == [
        ("DHL", 5, False),
        ("DHL", 0, False),
        ("UPS", 0, False),
        ("DHL", 0, False),
    ]
    assert len(set(codes)) == 4
    with database.read() as s:
        for number in ("HELD", "BACK", "NEW"):
            assert order(s, number).wave_id is None
        assert all(w.status is WaveStatus.PLANNED for w in s.scalars(select(Wave)))
    with database.write() as s:
        assert plan_waves(s, now=NOW) == []  # nothing left to plan
        new_order(s, "LATE", [("ITEM-03", 1)], cut_off=CUT_2PM, carrier="DHL")
        _allocate(s, "LATE")
        late = plan_waves(s, now=NOW)  # the same second: still a new, distinct code
        assert len(late) == 1
        assert late[0].code not in codes


def test_orders_without_cut_off_go_in_the_last_wave(database, site):
    with database.write() as s:
        stock_plain_items(s, site)
        new_order(s, "NC-1", [("ITEM-01", 1)], carrier="DHL")
        new_order(s, "NC-2", [("ITEM-02", 1)], cut_off=CUT_4PM, carrier="DHL")
        new_order(s, "NC-3", [("ITEM-03", 1)], cut_off=CUT_2PM, carrier="DHL")
        _allocate(s)
    with database.write() as s:
        waves = plan_waves(s, now=NOW)
        members = [
            list(s.scalars(select(Order.number).where(Order.wave_id == w.id))) for w in waves
        ]
    assert members == [["NC-3"], ["NC-2"], ["NC-1"]]


def _wave_site(s: Session, site: Site) -> None:
    """Seven small B2C orders, a B2B order of cases, pallets and eaches, a pick-to-light order."""
    stock_plain_items(s, site)
    put_stock(s, site, "TEA", "B1-01", 48)
    put_stock(s, site, "TEA", "A2-02", 40)
    put_stock(s, site, "WATER", "R2-01", 960)
    put_stock(s, site, "LED", "L1-01", 20)
    put_stock(s, site, "BULB", "L1-02", 20)
    small = [
        ("ITEM-01", "ITEM-05"),
        ("ITEM-02",),
        ("ITEM-09", "ITEM-10"),
        ("ITEM-06",),
        ("ITEM-12",),
        ("ITEM-03", "ITEM-04"),
        ("ITEM-11",),
    ]
    for n, skus in enumerate(small, start=1):
        new_order(s, f"C-{n}", [(sku, 1 + n % 3) for sku in skus], cut_off=CUT_2PM, carrier="DHL")
    new_order(
        s,
        "B-1",
        [("TEA", 30), ("WATER", 960)],
        kind=OrderKind.B2B,
        customer="BAR",
        cut_off=CUT_2PM,
        carrier="DHL",
    )
    new_order(s, "L-1", [("LED", 2), ("BULB", 1)], cut_off=CUT_2PM, carrier="DHL")
    new_order(s, "MIX", [("ITEM-07", 1), ("LED", 1)], cut_off=CUT_2PM, carrier="DHL")


def test_release_wave_turns_every_reservation_into_one_routed_task(database, site):
    with database.write() as s:
        _wave_site(s, site)
        _allocate(s)
    with database.write() as s:
        (wave,) = plan_waves(s, now=NOW)
        code = wave.code
    options = ReleaseOptions(totes_per_cart=3, tote_max_units=20)
    with database.write() as s:
        result = release_wave(s, code, user_id=None, options=options, now=NOW)
    numbers = {f"C-{n}" for n in range(1, 8)} | {"B-1", "L-1", "MIX"}
    with database.read() as s:
        reservations = open_reservations(s)
        assert result.orders == len(numbers)
        assert result.tasks == len(reservations) == len(tasks_of(s))
        assert result.replenishments == 0
        _check_tasks_match_reservations(s)
        batches = _check_batches(s, totes_per_cart=3)
        assert sorted(result.batches) == sorted(b.code for b in batches)
        assert result.route_length_m == pytest.approx(
            sum(b.route_length_m for b in batches), abs=0.1
        )
        _check_released(s, numbers, detail=code)
        wave = s.scalars(select(Wave).where(Wave.code == code)).one()
        assert wave.status is WaveStatus.RELEASED
        assert wave.released_at is not None
        assert all(b.wave_id == wave.id for b in batches)
        # B2C orders in the handheld zone: cluster carts of at most three orders.
        zone_a = [b for b in batches if b.zone_id == site.zones["A"]]
        cluster = [b for b in zone_a if b.kind is BatchKind.CLUSTER]
        carted = Counter(bo.order_id for b in cluster for bo in b.orders)
        b2c_in_a = {order(s, n).id for n in numbers if n.startswith("C-") or n == "MIX"}
        assert set(carted) == b2c_in_a and set(carted.values()) == {1}
        assert len(cluster) >= 3
        # The B2B order: one order batch per zone, whole cases and pallets.
        b2b = order(s, "B-1")
        b2b_batches = [b for b in batches if {bo.order_id for bo in b.orders} == {b2b.id}]
        assert {b.kind for b in b2b_batches} == {BatchKind.ORDER}
        units = {
            (site.code_of(t.location_id), t.unit, t.quantity) for b in b2b_batches for t in b.tasks
        }
        assert units == {
            ("B1-01", HandlingUnit.CASE, 24),
            ("A2-02", HandlingUnit.EACH, 6),
            ("R2-01", HandlingUnit.PALLET, 960),
        }
        # Pick-to-light: light tasks, each order's share on its own.
        light = [t for t in tasks_of(s) if t.zone_id == site.zones["L"]]
        assert {t.kind for t in light} == {TaskKind.LIGHT}
        assert {t.order_id for t in light} == {order(s, "L-1").id, order(s, "MIX").id}
        others = [t for t in tasks_of(s) if t.zone_id != site.zones["L"]]
        assert {t.kind for t in others} == {TaskKind.HANDHELD}
        # Every order has a pack station, spread over the two.
        stations = Counter(order(s, n).pack_station_id for n in numbers)
        assert set(stations) == {site.loc["PACK-1"], site.loc["PACK-2"]}
        assert max(stations.values()) - min(stations.values()) <= 1
        assert_consistent(s)
    with pytest.raises(Conflict), database.write() as s:
        release_wave(s, code, options=options, now=NOW)


def test_release_is_not_repeated_for_reservations_that_have_tasks(database, site):
    with database.write() as s:
        _wave_site(s, site)
        _allocate(s)
    with database.write() as s:
        first = release_orders(s, [order(s, "C-1"), order(s, "B-1")], now=NOW)
    with database.write() as s:
        again = release_orders(s, [order(s, "C-1"), order(s, "B-1")], now=NOW)
    assert first.tasks == 5
    assert (again.tasks, again.batches) == (0, ())
    with database.read() as s:
        assert len(tasks_of(s)) == 5
        _check_released(s, {"C-1", "B-1"})


def test_nearby_orders_share_a_cart(database, site):
    with database.write() as s:
        stock_plain_items(s, site)
        # Created alternating between aisle A1 and aisle A3 (far apart).
        for n, sku in enumerate(("ITEM-04", "ITEM-12", "ITEM-03", "ITEM-11"), start=1):
            new_order(s, f"N-{n}", [(sku, 1)])
        _allocate(s)
    with database.write() as s:
        release_orders(
            s,
            [order(s, f"N-{n}") for n in range(1, 5)],
            options=ReleaseOptions(totes_per_cart=2),
            now=NOW,
        )
    with database.read() as s:
        carts = {
            frozenset(s.get_one(Order, bo.order_id).number for bo in b.orders)
            for b in s.scalars(select(PickBatch))
        }
        _check_batches(s, totes_per_cart=2)
    assert carts == {frozenset({"N-1", "N-3"}), frozenset({"N-2", "N-4"})}


def test_an_order_trip_walks_each_aisle_once(database, site):
    with database.write() as s:
        put_stock(s, site, "MUG", "A1-01", 5)
        put_stock(s, site, "WATER", "A3-01", 50)
        put_stock(s, site, "PEN", "A1-02", 5)
        new_order(
            s, "B-2", [("MUG", 1), ("WATER", 2), ("PEN", 3)], kind=OrderKind.B2B, customer="BAR"
        )
        _allocate(s)
    with database.write() as s:
        result = release_orders(s, [order(s, "B-2")], now=NOW)
    assert len(result.batches) == 1
    with database.read() as s:
        walk = [site.code_of(t.location_id) for t in tasks_of(s, "B-2")]
        batch = s.scalars(select(PickBatch)).one()
        assert batch.kind is BatchKind.ORDER
        assert batch.route_length_m == pytest.approx(21.0, abs=0.01)
    assert walk in (["A1-01", "A1-02", "A3-01"], ["A3-01", "A1-02", "A1-01"])


def test_oversize_b2c_order_is_picked_as_its_own_order_batch(database, site):
    with database.write() as s:
        stock_plain_items(s, site)
        new_order(s, "BIG", [("ITEM-01", 15), ("ITEM-02", 10)])
        new_order(s, "SMALL", [("ITEM-03", 1)])
        _allocate(s)
    with database.write() as s:
        release_orders(
            s,
            [order(s, "BIG"), order(s, "SMALL")],
            options=ReleaseOptions(totes_per_cart=4, tote_max_units=20),
            now=NOW,
        )
    with database.read() as s:
        kinds = {
            s.get_one(Order, bo.order_id).number: b.kind
            for b in s.scalars(select(PickBatch))
            for bo in b.orders
        }
        _check_batches(s, totes_per_cart=4)
    assert kinds == {"BIG": BatchKind.ORDER, "SMALL": BatchKind.CLUSTER}


def test_reserve_stock_of_an_item_without_pick_face_is_picked_from_reserve(database, site):
    with database.write() as s:
        put_stock(s, site, "MUG", "R1-01", 10)
        new_order(s, "C-20", [("MUG", 2)])
        _allocate(s)
    with database.write() as s:
        result = release_orders(s, [order(s, "C-20")], now=NOW)
    assert result.replenishments == 0
    with database.read() as s:
        (task,) = tasks_of(s, "C-20")
        assert (site.code_of(task.location_id), task.waits_for_id) == ("R1-01", None)
        assert task.zone_id == site.zones["R"]


# --------------------------------------------------------------------------- hold and expedite


def test_a_held_order_is_not_released_and_goes_once_the_hold_is_lifted(database, site):
    with database.write() as s:
        stock_plain_items(s, site)
        new_order(s, "H-1", [("ITEM-01", 1)], cut_off=CUT_2PM)
        new_order(s, "H-2", [("ITEM-02", 1)], cut_off=CUT_2PM)
        _allocate(s)
        hold_order(s, order(s, "H-1"))
    with database.write() as s:
        result = release_continuous(s, zone_wip_limit=50, pack_station_wip_limit=50, now=_later())
    assert result.orders == 1
    with database.read() as s:
        assert _released(s) == {"H-2"}
        assert order(s, "H-1").status is OrderStatus.ALLOCATED
        assert tasks_of(s, "H-1") == []
        assert history(s, "H-1")[-1] == (OrderStatus.ALLOCATED, "held")
    with database.write() as s:
        hold_order(s, order(s, "H-1"), held=False)
        assert history(s, "H-1")[-1] == (OrderStatus.ALLOCATED, "hold lifted")
    with database.write() as s:
        release_continuous(s, zone_wip_limit=50, pack_station_wip_limit=50, now=_later())
    with database.read() as s:
        _check_released(s, {"H-1", "H-2"})


def test_an_order_held_after_wave_planning_stays_out_of_the_wave(database, site):
    with database.write() as s:
        stock_plain_items(s, site)
        new_order(s, "H-3", [("ITEM-01", 1)], cut_off=CUT_2PM)
        new_order(s, "H-4", [("ITEM-02", 1)], cut_off=CUT_2PM)
        _allocate(s)
    with database.write() as s:
        (wave,) = plan_waves(s, now=NOW)
        code = wave.code
        hold_order(s, order(s, "H-3"))
    with database.write() as s:
        result = release_wave(s, code, now=NOW)
    assert result.orders == 1
    with database.read() as s:
        assert _released(s) == {"H-4"}
        assert tasks_of(s, "H-3") == []


def test_an_order_held_out_of_a_released_wave_is_released_once_the_hold_is_lifted(database, site):
    with database.write() as s:
        stock_plain_items(s, site)
        new_order(s, "H-5", [("ITEM-01", 1)], cut_off=CUT_2PM)
        new_order(s, "H-6", [("ITEM-02", 1)], cut_off=CUT_2PM)
        _allocate(s)
    with database.write() as s:
        (wave,) = plan_waves(s, now=NOW)
        hold_order(s, order(s, "H-5"))
        code = wave.code
    with database.write() as s:
        release_wave(s, code, now=NOW)
    with database.write() as s:
        hold_order(s, order(s, "H-5"), held=False)
    with database.write() as s:
        for wave in plan_waves(s, now=NOW + dt.timedelta(minutes=5)):
            release_wave(s, wave.code, now=NOW + dt.timedelta(minutes=5))
        release_continuous(s, zone_wip_limit=50, pack_station_wip_limit=50, now=_later())
    with database.read() as s:
        assert order(s, "H-5").status is OrderStatus.RELEASED


def test_a_released_order_cannot_be_held(database, site):
    with database.write() as s:
        stock_plain_items(s, site)
        new_order(s, "H-7", [("ITEM-01", 1)])
        _allocate(s)
        release_orders(s, [order(s, "H-7")], now=NOW)
    with pytest.raises(Conflict), database.write() as s:
        hold_order(s, order(s, "H-7"))
    with database.read() as s:
        assert order(s, "H-7").held is False


def test_expedite_releases_at_once_even_from_hold_or_a_planned_wave(database, site):
    with database.write() as s:
        stock_plain_items(s, site)
        new_order(s, "E-1", [("ITEM-01", 1), ("ITEM-09", 2)], cut_off=CUT_4PM)
        new_order(s, "E-2", [("ITEM-02", 1)], cut_off=CUT_4PM)
        new_order(s, "E-3", [("ITEM-03", 1)], cut_off=CUT_4PM)
        _allocate(s)
    with database.write() as s:
        (wave,) = plan_waves(s, now=NOW)
        code = wave.code
        hold_order(s, order(s, "E-3"))
    with database.write() as s:
        result = expedite_order(s, order(s, "E-1"))
        held = expedite_order(s, order(s, "E-3"))
    assert (result.orders, result.tasks) == (1, 2)
    assert (held.orders, held.tasks) == (1, 1)
    with database.read() as s:
        _check_released(s, {"E-1", "E-3"})
        for number in ("E-1", "E-3"):
            expedited = order(s, number)
            assert expedited.priority == EXPEDITE_PRIORITY
            assert expedited.held is False
            assert (OrderStatus.ALLOCATED, "expedited") in history(s, number)
            batches = {t.batch for t in tasks_of(s, number)}
            assert {b.priority for b in batches} == {EXPEDITE_PRIORITY}
        assert order(s, "E-2").status is OrderStatus.ALLOCATED
    with database.write() as s:
        rest = release_wave(s, code, now=NOW)
    assert (rest.orders, rest.tasks) == (1, 1)  # E-2 only: E-1 is not released twice
    with database.read() as s:
        _check_tasks_match_reservations(s)
        assert len(tasks_of(s)) == 4
    with database.write() as s:
        again = expedite_order(s, order(s, "E-2"))  # already released: only its priority
    assert again.tasks == 0
    with database.read() as s:
        assert {t.batch.priority for t in tasks_of(s, "E-2")} == {EXPEDITE_PRIORITY}


# --------------------------------------------------------------------------- continuous release


def _one_line_orders(s: Session, site: Site, count: int) -> list[str]:
    stock_plain_items(s, site)
    numbers = []
    for n in range(1, count + 1):
        number = f"Q-{n}"
        new_order(s, number, [(f"ITEM-{n:02d}", 1)], cut_off=CUT_4PM)
        numbers.append(number)
    return numbers


def test_continuous_release_respects_a_zone_wip_limit(database, site):
    with database.write() as s:
        numbers = _one_line_orders(s, site, 6)
        order(s, "Q-6").priority = 5  # the most urgent goes first
        _allocate(s)
    with database.write() as s:
        first = release_continuous(s, zone_wip_limit=3, pack_station_wip_limit=100, now=_later())
    assert (first.orders, first.tasks) == (3, 3)
    with database.read() as s:
        assert _released(s) == {"Q-6", "Q-1", "Q-2"}
        assert len(open_tasks(s)) == 3
    with database.write() as s:
        assert (
            release_continuous(s, zone_wip_limit=3, pack_station_wip_limit=100, now=_later()).orders
            == 0
        )
    with database.write() as s:
        for task in open_tasks(s)[:2]:
            confirm_pick(s, task.id, task.quantity, now=NOW)
    with database.write() as s:
        later = release_continuous(s, zone_wip_limit=3, pack_station_wip_limit=100, now=_later())
    assert later.orders == 2
    with database.read() as s:
        assert len(open_tasks(s)) == 3
        released = {
            o.number for o in s.scalars(select(Order)) if o.status is not OrderStatus.ALLOCATED
        }
        assert released == set(numbers) - {"Q-5"}
        _check_released(s, {"Q-3", "Q-4"})
        _check_tasks_match_reservations(s)
        assert_consistent(s)


def test_a_zone_own_wip_limit_wins_over_the_default(database, site):
    with database.write() as s:
        _one_line_orders(s, site, 4)
        _allocate(s)
        set_zone_wip_limit(s, site, "A", 1)
    with database.write() as s:
        result = release_continuous(s, zone_wip_limit=10, pack_station_wip_limit=100, now=_later())
    assert result.orders == 1
    with database.read() as s:
        assert _released(s) == {"Q-1"}


def test_continuous_release_respects_the_pack_station_limit(database, site):
    with database.write() as s:
        _one_line_orders(s, site, 5)
        _allocate(s)
    with database.write() as s:
        first = release_continuous(s, zone_wip_limit=100, pack_station_wip_limit=1, now=_later())
    assert first.orders == 2
    with database.read() as s:
        assert _released(s) == {"Q-1", "Q-2"}
        stations = {order(s, n).pack_station_id for n in ("Q-1", "Q-2")}
        assert stations == {site.loc["PACK-1"], site.loc["PACK-2"]}
    with database.write() as s:
        for task in open_tasks(s):
            confirm_pick(s, task.id, task.quantity, now=NOW)
    with database.write() as s:
        # Picked but not packed: the stations are still full.
        assert (
            release_continuous(s, zone_wip_limit=100, pack_station_wip_limit=1, now=_later()).orders
            == 0
        )
        freed = order(s, "Q-1")
        freed_station = freed.pack_station_id
        set_status(s, freed, OrderStatus.PACKED)
    with database.write() as s:
        after = release_continuous(s, zone_wip_limit=100, pack_station_wip_limit=1, now=_later())
    assert after.orders == 1
    with database.read() as s:
        assert _released(s) == {"Q-3"}
        assert order(s, "Q-3").pack_station_id == freed_station
        _check_released(s, {"Q-3"})


def test_a_pack_station_own_wip_limit_is_respected(database, site):
    with database.write() as s:
        _one_line_orders(s, site, 6)
        _allocate(s)
        s.get_one(Location, site.loc["PACK-1"]).wip_limit = 1
        s.get_one(Location, site.loc["PACK-2"]).wip_limit = 2
    with database.write() as s:
        result = release_continuous(s, zone_wip_limit=100, pack_station_wip_limit=10, now=_later())
    with database.read() as s:
        waiting = Counter(order(s, n).pack_station_id for n in _released(s))
    assert result.orders == 3
    assert waiting == {site.loc["PACK-1"]: 1, site.loc["PACK-2"]: 2}


def test_zone_wip_limit_counts_picks_that_wait_for_replenishment_in_the_pick_face_zone(
    database, site
):
    with database.write() as s:
        for n in range(1, 4):
            sku = f"ITEM-{n:02d}"
            empty_stock_row(s, site, sku, FACES[sku])
            put_stock(s, site, sku, "R1-01", 10)
            new_order(s, f"RP-{n}", [(sku, 1)])
        _allocate(s)
        set_zone_wip_limit(s, site, "R", 100)
    with database.write() as s:
        result = release_continuous(s, zone_wip_limit=2, pack_station_wip_limit=100, now=_later())
        replenishments = s.scalars(select(ReplenishmentTask)).all()
    assert result.replenishments == len(replenishments) >= 1
    with database.read() as s:
        in_a = [t for t in open_tasks(s) if t.zone_id == site.zones["A"]]
    assert len(in_a) <= 2


def test_two_continuous_releases_at_the_same_moment(database, site):
    with database.write() as s:
        _one_line_orders(s, site, 2)
        _allocate(s)
    with database.write() as s:
        assert release_continuous(s, zone_wip_limit=1, pack_station_wip_limit=9, now=NOW).orders
    with database.write() as s:
        for task in open_tasks(s):
            confirm_pick(s, task.id, task.quantity, now=NOW)
    with database.write() as s:
        assert release_continuous(s, zone_wip_limit=1, pack_station_wip_limit=9, now=NOW).orders
    with database.read() as s:
        _check_released(s, {"Q-2"})


def test_continuous_release_with_nothing_to_release(database, site):
    with database.write() as s:
        result = release_continuous(s, zone_wip_limit=5, pack_station_wip_limit=5, now=_later())
    assert (result.orders, result.tasks, result.batches) == (0, 0, ())
    with database.read() as s:
        assert s.scalars(select(Wave)).all() == []
        assert s.scalars(select(PickTask)).all() == []
        assert s.scalars(select(BatchOrder)).all() == []


def test_release_groups_tasks_by_zone_and_kind(database, site):
    """Pick-and-pass: an order with lines in two zones gets one share per zone."""
    with database.write() as s:
        stock_plain_items(s, site)
        put_stock(s, site, "LED", "L1-03", 5)
        new_order(s, "Z-1", [("ITEM-01", 1), ("LED", 1)])
        _allocate(s)
    with database.write() as s:
        release_orders(s, [order(s, "Z-1")], now=NOW)
    with database.read() as s:
        by_zone = defaultdict(set)
        for task in tasks_of(s, "Z-1"):
            by_zone[task.zone_id].add((task.kind, task.batch.kind))
    assert dict(by_zone) == {
        site.zones["A"]: {(TaskKind.HANDHELD, BatchKind.CLUSTER)},
        site.zones["L"]: {(TaskKind.LIGHT, BatchKind.ORDER)},
    }


def test_an_order_bigger_than_a_zone_wip_limit_goes_when_the_zone_is_idle(database, site):
    with database.write() as s:
        stock_plain_items(s, site)
        new_order(s, "BIG-1", [(f"ITEM-{n:02d}", 1) for n in (1, 2, 3)], cut_off=CUT_4PM)
        new_order(s, "SMALL-1", [("ITEM-04", 1)], cut_off=CUT_4PM)
        _allocate(s)
    with database.write() as s:
        # Three picks against a limit of two: waiting for room would wait forever.
        first = release_continuous(s, zone_wip_limit=2, pack_station_wip_limit=100, now=_later())
    assert (first.orders, first.tasks) == (1, 3)
    with database.read() as s:
        assert _released(s) == {"BIG-1"}
    with database.write() as s:
        # The zone is over its limit now: nothing more until it drains.
        assert (
            release_continuous(s, zone_wip_limit=2, pack_station_wip_limit=100, now=_later()).orders
            == 0
        )
    with database.write() as s:
        for task in open_tasks(s):
            confirm_pick(s, task.id, task.quantity, now=NOW)
    with database.write() as s:
        later = release_continuous(s, zone_wip_limit=2, pack_station_wip_limit=100, now=_later())
    assert later.orders == 1
    with database.read() as s:
        _check_tasks_match_reservations(s)
        assert_consistent(s)
