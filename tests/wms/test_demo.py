"""The demo warehouse: realistic, consistent with the ledger, the same for the same seed."""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from labels.gs1 import is_valid_gtin
from wms import access
from wms.access import authenticate, authenticate_badge, user_for_token
from wms.db import Database
from wms.db.ledger import verify_ledger
from wms.db.schema import (
    Customer,
    Item,
    ItemGtin,
    Location,
    Movement,
    Order,
    OrderEvent,
    OrderLine,
    Reservation,
    Stock,
    Zone,
)
from wms.demo import DEMO_LOGINS, DemoSummary, generate_demo
from wms.errors import Conflict, InvalidInput
from wms.model import LocationType, MovementKind, OrderKind, OrderStatus, Role

SMALL: dict[str, Any] = {"pick_locations": 120, "items": 40, "b2c_orders": 30, "b2b_orders": 3}
NOW = dt.datetime(2026, 5, 11, 9, 30, tzinfo=dt.UTC)
TODAY = NOW.date()


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hash the demo users' passwords with a small scrypt cost: same code, a fraction of the time.

    Each demo hashes eight passwords at ~50 ms apiece on purpose; a hash records its own cost,
    so checking it later works the same.
    """
    monkeypatch.setattr(access, "_SCRYPT_N", 2**8)


@pytest.fixture
def demo(database: Database) -> DemoSummary:
    """A small demo warehouse on each backend."""
    return generate_demo(database, seed=7, now=NOW, **SMALL)


def _count(session: Any, entity: type, *where: Any) -> int:
    return int(session.scalar(select(func.count()).select_from(entity).where(*where)) or 0)


def test_counts_match_the_summary_and_the_sizes_asked(database: Database) -> None:
    phases: dict[str, list[tuple[int, int]]] = defaultdict(list)
    demo = generate_demo(
        database, seed=7, now=NOW, progress=lambda p, d, t: phases[p].append((d, t)), **SMALL
    )
    assert (demo.pick_locations, demo.reserve_locations, demo.items) == (120, 30, 40)
    assert (demo.b2c_orders, demo.b2b_orders, demo.users, demo.customers) == (30, 3, 8, 6)
    assert demo.locations == 120 + 30 + demo.shipping_locations
    assert "api_token" not in repr(demo)  # a secret stays out of logs
    assert set(phases) == {"locations", "items", "stock", "orders", "users"}
    assert all(calls[-1][0] == calls[-1][1] for calls in phases.values())
    with database.read() as s:
        assert sorted(s.scalars(select(Zone.code))) == ["A", "B", "R", "S"]
        by_type = {
            kind: count
            for kind, count in s.execute(
                select(Location.type, func.count()).group_by(Location.type)
            )
        }
        assert by_type[LocationType.PICK_FACE] == 120
        assert by_type[LocationType.RESERVE] == 30
        assert by_type[LocationType.PACK_STATION] == 4
        assert by_type[LocationType.DOCK] == 3
        assert by_type[LocationType.STAGING] >= 1
        a_faces = _count(s, Location, Location.code.like("A-%"))
        assert a_faces == 84  # 70% of the pick faces in the fast-mover zone
        assert sorted(s.scalars(select(Location.code).where(Location.zone.has(code="S")))) == [
            *(f"DOCK-{n}" for n in (1, 2, 3)),
            *(f"PACK-{n}" for n in (1, 2, 3, 4)),
            *(f"PW-{n:02d}" for n in range(1, 25)),
            *(f"STAGE-{n:02d}" for n in range(1, 7)),
        ]
        assert _count(s, Item) == 40 and _count(s, ItemGtin) == demo.gtins
        assert _count(s, Stock) == demo.stock_rows
        assert _count(s, Movement) == demo.receipts
        assert _count(s, Order, Order.kind == OrderKind.B2C) == 30
        assert _count(s, Order, Order.kind == OrderKind.B2B) == 3
        assert _count(s, OrderLine) == demo.order_lines
        assert _count(s, Customer, Customer.kind == OrderKind.B2B) == 5
        # Received, not allocated: allocation is the next step, not the demo's.
        assert set(s.scalars(select(Order.status))) == {OrderStatus.RECEIVED}
        assert _count(s, OrderEvent, OrderEvent.status == OrderStatus.RECEIVED) == 33
        assert _count(s, Reservation) == 0
        assert s.scalar(select(func.sum(Stock.reserved))) == 0
        assert s.scalar(select(func.sum(OrderLine.allocated_quantity))) == 0


def test_layout_is_walked_in_an_s_shape_with_unique_contiguous_sequences(
    demo: DemoSummary, database: Database
) -> None:
    with database.read() as s:
        rows = s.execute(
            select(Zone.code.label("zone"), Location)
            .join(Location.zone)
            .order_by(Zone.code, Location.walk_sequence)
        ).all()
    by_zone: dict[str, list[Location]] = defaultdict(list)
    for zone_code, location in rows:
        by_zone[zone_code].append(location)
    for zone, locations in by_zone.items():
        sequences = [row.walk_sequence for row in locations]
        assert sequences == list(range(1, len(locations) + 1)), zone
    for zone in "ABR":
        for row in by_zone[zone]:
            assert re.fullmatch(rf"{zone}-\d{{2}}-\d{{2}}-\d", row.code), row.code
            assert row.code == f"{zone}-{row.aisle}-{row.bay}-{row.level}" == row.barcode
            assert row.y > 0 and row.x >= 0
    # Serpentine: y rises along aisle 1, falls along aisle 2, rises again along aisle 3.
    a_aisles: dict[str, list[float]] = defaultdict(list)
    for row in by_zone["A"]:
        a_aisles[row.aisle].append(row.y)
    assert len(a_aisles) >= 3
    for number, ys in a_aisles.items():
        expected = sorted(ys) if int(number) % 2 else sorted(ys, reverse=True)
        assert ys == expected, number
    xs = sorted({row.x for row in by_zone["A"]})
    assert [round(b - a, 3) for a, b in zip(xs, xs[1:], strict=False)] == [3.0] * (len(xs) - 1)
    # Zones do not overlap on the floor: B's aisles start to the right of A's.
    assert min(row.x for row in by_zone["B"]) > max(xs)


def test_every_gtin_is_valid_and_cases_share_the_unit_number(
    demo: DemoSummary, database: Database
) -> None:
    with database.read() as s:
        gtins = s.execute(select(Item.sku, ItemGtin.gtin, ItemGtin.pack_quantity).join(Item)).all()
        names = list(s.scalars(select(Item.name)))
    assert len(gtins) == demo.gtins
    units = {sku: gtin for sku, gtin, pack in gtins if pack == 1}
    cases = [(sku, gtin, pack) for sku, gtin, pack in gtins if pack > 1]
    assert len(units) == 40 and len(cases) >= 10
    for _sku, gtin, _pack in gtins:
        assert is_valid_gtin(gtin) and len(gtin) == 14
    for sku, gtin in units.items():
        assert gtin.startswith("05412345"), sku  # a GTIN-13 under the company prefix
    for sku, gtin, pack in cases:
        assert pack in (6, 12, 24)
        assert gtin[0] == "1" and gtin[1:13] == units[sku][1:13]
    assert all(name[0].isupper() and " " in name for name in names)


def test_stock_is_in_the_ledger_with_fefo_worthy_lots(
    demo: DemoSummary, database: Database
) -> None:
    with database.read() as s:
        assert verify_ledger(s) == []
        assert set(s.scalars(select(Movement.kind))) == {MovementKind.RECEIPT}
        stock = s.execute(
            select(Item.sku, Item.lot_tracked, Location.type, Stock.lot, Stock.expiry)
            .join(Item, Stock.item_id == Item.id)
            .join(Location, Stock.location_id == Location.id)
        ).all()
    skus_at_faces: dict[str, int] = defaultdict(int)
    for sku, lot_tracked, location_type, lot, expiry in stock:
        if location_type is LocationType.PICK_FACE:
            skus_at_faces[sku] += 1
            assert expiry is None or expiry > TODAY  # nothing expired is at a pick face
        assert bool(lot) == lot_tracked == (expiry is not None)
        if lot:
            assert re.fullmatch(r"L\d{4}-\d{2}", lot)
    assert len(skus_at_faces) == 40 and set(skus_at_faces.values()) <= {1, 2}
    expired = [row for row in stock if row.expiry is not None and row.expiry < TODAY]
    assert len(expired) == 1 and expired[0].type is LocationType.RESERVE
    assert demo.lot_tracked_items >= 1


def test_orders_look_like_webshop_parcels_and_store_deliveries(
    demo: DemoSummary, database: Database
) -> None:
    with database.read() as s:
        orders = list(s.scalars(select(Order).order_by(Order.number)))
        customers = {c.id: c for c in s.scalars(select(Customer))}
        case_of = {
            sku: pack
            for sku, pack in s.execute(
                select(Item.sku, ItemGtin.pack_quantity)
                .join(Item)
                .where(ItemGtin.pack_quantity > 1)
            )
        }
        lines = {o.id: [(line.item.sku, line.quantity) for line in o.lines] for o in orders}
    b2c = [o for o in orders if o.kind is OrderKind.B2C]
    b2b = [o for o in orders if o.kind is OrderKind.B2B]
    for order in b2c:
        assert 1 <= len(lines[order.id]) <= 4
        assert all(quantity in (1, 2) for _, quantity in lines[order.id])
        assert order.ship_to_country in ("BE", "NL", "FR") and order.ship_to_name
        assert order.carrier in ("bpost", "PostNL", "DPD", "DHL") and order.service
        assert order.cut_off is not None
        assert order.cut_off.date() == TODAY and order.cut_off.hour in (14, 16, 18)
        assert 0 <= order.priority <= 2
    assert sum(len(lines[o.id]) <= 2 for o in b2c) >= 0.8 * len(b2c)
    for order in b2b:
        customer = customers[order.customer_id or 0]
        assert customer.kind is OrderKind.B2B
        assert order.label_requirements == {"sscc": True, "template": customer.label_template}
        assert order.dock in ("DOCK-1", "DOCK-2", "DOCK-3")
        start, end = order.delivery_window_start, order.delivery_window_end
        assert start is not None and end is not None
        assert start.date() == TODAY + dt.timedelta(days=1) and start < end
        assert 5 <= len(lines[order.id]) <= 30
        for sku, quantity in lines[order.id]:
            assert quantity % case_of[sku] == 0  # whole cases


def test_demo_users_sign_in_and_the_erp_token_works(demo: DemoSummary, database: Database) -> None:
    assert {login.role for login in DEMO_LOGINS} == set(Role)
    pickers = [login for login in DEMO_LOGINS if login.role is Role.PICKER]
    assert {login.language for login in pickers} >= {"en", "fr", "nl"}
    with database.read() as s:
        for login in DEMO_LOGINS:
            user = authenticate(s, login.username, login.password)
            assert user is not None and user.role is login.role, login.username
            assert user.language == login.language
            if login.badge:
                assert authenticate_badge(s, login.badge) == user
        assert authenticate(s, "admin", "wrong-password") is None
    with database.write() as s:
        user = user_for_token(s, demo.api_token)
        assert user is not None and user.username == "erp" and user.role is Role.INTEGRATION


def _plain(value: Any) -> Any:
    # PostgreSQL hands back aware datetimes, SQLite naive ones (both UTC): compare the wall time.
    return value.replace(tzinfo=None) if isinstance(value, dt.datetime) else value


def _snapshot(db: Database) -> list[list[tuple[Any, ...]]]:
    with db.read() as s:
        tables = (
            s.execute(select(Item.sku, Item.name, Item.weight_g).order_by(Item.sku)).all(),
            s.execute(select(ItemGtin.gtin, ItemGtin.pack_quantity).order_by(ItemGtin.gtin)).all(),
            s.execute(
                select(Location.code, Location.walk_sequence, Location.x, Location.y).order_by(
                    Location.code
                )
            ).all(),
            s.execute(
                select(Location.code, Item.sku, Stock.lot, Stock.expiry, Stock.on_hand)
                .join(Location, Stock.location_id == Location.id)
                .join(Item, Stock.item_id == Item.id)
                .order_by(Location.code, Item.sku, Stock.lot)
            ).all(),
            s.execute(
                select(
                    Order.number, Order.ship_to_name, Order.cut_off, Item.sku, OrderLine.quantity
                )
                .join(OrderLine, OrderLine.order_id == Order.id)
                .join(Item, OrderLine.item_id == Item.id)
                .order_by(Order.number, OrderLine.line_no)
            ).all(),
        )
        return [[tuple(_plain(v) for v in row) for row in table] for table in tables]


def test_same_seed_same_warehouse_other_seed_another(
    demo: DemoSummary, database: Database, tmp_path: Path
) -> None:
    again = Database(f"sqlite:///{tmp_path}/again.sqlite3")
    other = Database(f"sqlite:///{tmp_path}/other.sqlite3")
    try:
        for db, seed in ((again, 7), (other, 8)):
            db.create_all()
            generate_demo(db, seed=seed, now=NOW, **SMALL)
        first = _snapshot(database)
        assert _snapshot(again) == first
        assert _snapshot(other)[0] != first[0] and _snapshot(other)[4] != first[4]
    finally:
        again.dispose()
        other.dispose()


def test_the_demo_refuses_a_filled_database_and_bad_arguments(
    demo: DemoSummary, database: Database
) -> None:
    with pytest.raises(Conflict, match="empty database"):
        generate_demo(database, now=NOW, **SMALL)
    with pytest.raises(InvalidInput, match="company prefix"):
        generate_demo(database, gs1_company_prefix="54A", **SMALL)
    with pytest.raises(InvalidInput, match="room for 9 GTINs; 40 items asked"):
        generate_demo(database, gs1_company_prefix="54123456789", **SMALL)
    with database.read() as s:
        assert _count(s, Order) == 33 and verify_ledger(s) == []


def test_a_demo_built_in_the_evening_has_its_cut_offs_ahead(database):
    evening = dt.datetime(2026, 5, 11, 23, 30, tzinfo=dt.UTC)
    generate_demo(database, seed=7, now=evening, **SMALL)
    with database.read() as session:
        cut_offs = set(session.scalars(select(Order.cut_off).where(Order.cut_off.is_not(None))))
    # (SQLite hands back naive UTC times.)
    assert cut_offs and all(
        (c.replace(tzinfo=dt.UTC) if c.tzinfo is None else c) > evening for c in cut_offs
    )
