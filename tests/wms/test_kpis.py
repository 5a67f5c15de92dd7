"""KPIs counted from a constructed event history, with exact expected figures, on both databases."""

from __future__ import annotations

import datetime as dt

import pytest

from wms.db import Database
from wms.db.schema import (
    Item,
    Location,
    Movement,
    Order,
    OrderEvent,
    OrderLine,
    PickBatch,
    PickTask,
    Reservation,
    ScanEvent,
    Stock,
    User,
    Zone,
)
from wms.errors import InvalidInput
from wms.kpis import Rate, csv_rows, floor_kpis
from wms.model import (
    BatchKind,
    LocationType,
    MovementKind,
    OrderKind,
    OrderStatus,
    Role,
    ScanOutcome,
    TaskKind,
    TaskStatus,
    ZoneKind,
)

T0 = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)  # the shift starts at 08:00


def at(minutes: float) -> dt.datetime:
    """Minutes into the shift."""
    return T0 + dt.timedelta(minutes=minutes)


def build_history(db: Database) -> None:
    """Two pickers in two zones over two hours, with wrong scans, a short, and four orders.

    picker1 (zone A): 08:10 pick of 2 units (line 1), 08:20 pick of 1 unit (line 2),
        09:05 pick of 3 units (line 1 again: same line, still one line), 3 wrong scans,
        1 refused scan that is not a wrong scan (no_batch), 1 accepted scan.
    picker2 (zone B): 08:30 pick of 1 unit (line 3), 09:40 a short that still found 1 unit
        (line 4) -> a pick and a short, 1 wrong scan.
    Outside the range: a pick at 07:59 and one at 10:00 (the end is exclusive).
    Orders: o1 released 08:00 packed 08:40 shipped 09:30; o2 released 08:00 packed 09:20;
    o3 released 08:15 (expedited: a second released step at 08:45) packed 08:45;
    o4 released 08:00, never packed.
    """
    with db.write() as s:
        za = Zone(code="A", name="Fast movers", kind=ZoneKind.HANDHELD)
        zb = Zone(code="B", name="Bulk", kind=ZoneKind.HANDHELD)
        zp = Zone(code="P", name="Pack", kind=ZoneKind.SHIPPING)
        s.add_all([za, zb, zp])
        s.flush()
        la = Location(code="A-01", barcode="LA01", zone_id=za.id, type=LocationType.PICK_FACE)
        lb = Location(code="B-01", barcode="LB01", zone_id=zb.id, type=LocationType.PICK_FACE)
        pack = Location(code="PACK-1", barcode="PK1", zone_id=zp.id, type=LocationType.PACK_STATION)
        item = Item(sku="SKU-1", name="Mug")
        p1 = User(username="picker1", display_name="Jamie", role=Role.PICKER)
        p2 = User(username="picker2", display_name="Camille", role=Role.PICKER)
        s.add_all([la, lb, pack, item, p1, p2])
        s.flush()
        stock = Stock(location_id=la.id, item_id=item.id, on_hand=100)
        s.add(stock)
        orders = [Order(number=f"o{i}", kind=OrderKind.B2C) for i in range(1, 5)]
        s.add_all(orders)
        s.flush()
        lines = [
            OrderLine(order_id=orders[i].id, line_no=1, item_id=item.id, quantity=5)
            for i in range(4)
        ]
        s.add_all(lines)
        batch = PickBatch(code="B1", kind=BatchKind.CLUSTER, zone_id=za.id)
        s.add(batch)
        s.flush()
        reservation = Reservation(order_line_id=lines[0].id, stock_id=stock.id, quantity=1)
        s.add(reservation)
        s.flush()

        def pick(user: User, loc: Location, line: OrderLine, units: int, minute: float) -> None:
            s.add(
                Movement(
                    kind=MovementKind.PICK,
                    item_id=item.id,
                    quantity=units,
                    from_location_id=loc.id,
                    to_location_id=pack.id,
                    order_id=line.order_id,
                    order_line_id=line.id,
                    user_id=user.id,
                    created_at=at(minute),
                )
            )

        pick(p1, la, lines[0], 2, 10)
        pick(p1, la, lines[1], 1, 20)
        pick(p1, la, lines[0], 3, 65)
        pick(p2, lb, lines[2], 1, 30)
        pick(p2, lb, lines[3], 1, 100)
        pick(p1, la, lines[1], 4, -1)  # before the range
        pick(p2, lb, lines[2], 4, 120)  # at the end: excluded
        # A write-off of the short is an adjustment, not a pick.
        s.add(
            Movement(
                kind=MovementKind.ADJUSTMENT,
                item_id=item.id,
                quantity=2,
                from_location_id=lb.id,
                user_id=p2.id,
                reason="short_pick",
                created_at=at(100),
            )
        )

        def task(user: User, status: TaskStatus, minute: float, seq: int) -> None:
            s.add(
                PickTask(
                    batch_id=batch.id,
                    sequence=seq,
                    kind=TaskKind.HANDHELD,
                    status=status,
                    order_id=orders[0].id,
                    order_line_id=lines[0].id,
                    reservation_id=reservation.id,
                    location_id=la.id,
                    zone_id=za.id,
                    item_id=item.id,
                    quantity=5,
                    done_at=at(minute) if status is not TaskStatus.OPEN else None,
                    done_by=user.id if status is not TaskStatus.OPEN else None,
                )
            )

        task(p1, TaskStatus.DONE, 10, 1)
        task(p1, TaskStatus.DONE, 20, 2)
        task(p1, TaskStatus.DONE, 65, 3)
        task(p2, TaskStatus.DONE, 30, 4)
        task(p2, TaskStatus.SHORT, 100, 5)
        task(p2, TaskStatus.OPEN, 0, 6)
        task(p2, TaskStatus.SHORT, 130, 7)  # after the range

        def scan(user: User, reason: str | None, minute: float, n: int) -> None:
            s.add(
                ScanEvent(
                    id=f"{user.username}-{n}",
                    user_id=user.id,
                    raw="X",
                    kind="location",
                    outcome=ScanOutcome.REFUSED if reason else ScanOutcome.ACCEPTED,
                    reason=reason,
                    received_at=at(minute),
                )
            )

        for n, reason in enumerate(["wrong_location", "wrong_item", "wrong_tote"]):
            scan(p1, reason, 15 + n, n)
        scan(p1, "no_batch", 19, 10)
        scan(p1, None, 21, 11)
        scan(p2, "wrong_item", 31, 1)
        scan(p2, "wrong_item", 125, 2)  # after the range

        def step(order: Order, status: OrderStatus, minute: float) -> None:
            s.add(OrderEvent(order_id=order.id, status=status, at=at(minute)))

        step(orders[0], OrderStatus.RELEASED, 0)
        step(orders[0], OrderStatus.PACKED, 40)
        step(orders[0], OrderStatus.SHIPPED, 90)
        step(orders[1], OrderStatus.RELEASED, 0)
        step(orders[1], OrderStatus.PACKED, 80)
        step(orders[2], OrderStatus.RELEASED, 15)
        step(orders[2], OrderStatus.RELEASED, 45)
        step(orders[2], OrderStatus.PACKED, 45)
        step(orders[3], OrderStatus.RELEASED, 0)


def test_kpis_of_a_two_hour_shift(database: Database) -> None:
    build_history(database)
    with database.read() as session:
        kpis = floor_kpis(session, T0, at(120))
    assert kpis.hours == 2.0
    # 5 picks in range, lines {1,2,3,4} = 4, units 2+1+3+1+1 = 8
    assert (kpis.total.picks, kpis.total.lines, kpis.total.units) == (5, 4, 8)
    assert (kpis.total.picks_per_hour, kpis.total.lines_per_hour) == (2.5, 2.0)
    assert kpis.wrong_scans == 4
    assert kpis.wrong_scans_per_100_picks == 80.0
    assert (kpis.tasks_closed, kpis.short_picks) == (5, 1)
    assert kpis.short_pick_rate_percent == 20.0

    by_picker = {p.username: p for p in kpis.by_picker}
    assert list(by_picker) == ["picker1", "picker2"]
    one, two = by_picker["picker1"], by_picker["picker2"]
    assert (one.rate.picks, one.rate.lines, one.rate.units) == (3, 2, 6)
    assert (one.rate.picks_per_hour, one.rate.lines_per_hour) == (1.5, 1.0)
    assert (one.wrong_scans, one.short_picks, one.display_name) == (3, 0, "Jamie")
    assert (two.rate.picks, two.rate.lines, two.rate.units) == (2, 2, 2)
    assert (two.wrong_scans, two.short_picks) == (1, 1)

    zones = {z.code: z.rate for z in kpis.by_zone}
    assert zones == {"A": Rate(3, 2, 6, 1.5, 1.0), "B": Rate(2, 2, 2, 1.0, 1.0)}
    assert [(b.start, b.picks, b.lines, b.units) for b in kpis.by_hour] == [
        (T0, 3, 3, 4),
        (at(60), 2, 2, 4),
    ]
    # packed in range: o1 40 min, o2 80 min, o3 30 min (from its FIRST release at 08:15)
    packed = kpis.release_to_packed
    assert (packed.orders, packed.mean_minutes, packed.median_minutes) == (3, 50.0, 40.0)
    assert packed.p90_minutes == 80.0
    shipped = kpis.release_to_shipped
    assert (shipped.orders, shipped.mean_minutes, shipped.p90_minutes) == (1, 90.0, 90.0)


def test_kpis_in_quarter_hour_buckets_and_a_narrower_range(database: Database) -> None:
    build_history(database)
    with database.read() as session:
        kpis = floor_kpis(session, at(0), at(30), bucket_minutes=15)
    assert [(b.start, b.picks) for b in kpis.by_hour] == [(at(0), 1), (at(15), 1)]
    # the 08:30 pick is at the end of the range: excluded
    assert kpis.total.picks == 2
    assert kpis.total.picks_per_hour == 4.0
    assert kpis.wrong_scans == 3
    assert kpis.release_to_packed.orders == 0
    assert kpis.release_to_packed.mean_minutes is None


def test_an_empty_range_has_no_rates(database: Database) -> None:
    with database.read() as session:
        kpis = floor_kpis(session, T0, at(60))
    assert kpis.total.picks == 0
    assert kpis.wrong_scans_per_100_picks is None
    assert kpis.short_pick_rate_percent is None
    assert [b.picks for b in kpis.by_hour] == [0]


def test_a_reversed_or_too_long_range_is_refused(database: Database) -> None:
    with database.read() as session:
        with pytest.raises(InvalidInput, match="end after it starts"):
            floor_kpis(session, at(60), T0)
        with pytest.raises(InvalidInput, match="366 days"):
            floor_kpis(session, T0, T0 + dt.timedelta(days=400))
        with pytest.raises(InvalidInput, match="1 to 1440"):
            floor_kpis(session, T0, at(60), bucket_minutes=0)


def test_csv_rows_carry_every_figure(database: Database) -> None:
    build_history(database)
    with database.read() as session:
        rows = csv_rows(floor_kpis(session, T0, at(120)))
    assert rows[0] == ["section", "key", "name", "picks", "lines", "units", "per_hour", "value"]
    assert ["total", "", "", "5", "4", "8", "2.5", ""] in rows
    assert ["rate", "wrong_scans_per_100_picks", "", "", "", "", "", "80.0"] in rows
    assert ["cycle_time", "release_to_packed.mean_minutes", "", "", "", "", "", "50.0"] in rows
    assert ["picker", "picker1", "Jamie", "3", "2", "6", "1.5", "wrong=3;short=0"] in rows
    assert ["hour", at(60).isoformat(), "", "2", "2", "4", "2", ""] in rows
