"""A small hand-built site for the order-flow tests, and helpers to stock it and check it.

Zones and locations (x, y in metres; walk sequence snakes through each zone)::

    A  handheld       aisles A1, A2, A3 at x = 0, 3, 6; six each-pick faces per aisle
    B  handheld       aisle B1 at x = 10: four case pick faces (handling unit case)
    R  reserve        aisles R1, R2 at x = 20, 23: four reserve slots each; R2 holds pallets
    L  pick-to-light  aisle L1 at x = 40: four pick faces
    S  shipping       a staging lane and two pack stations

Items: MUG, PEN and ITEM-01..ITEM-12 (plain eaches), TEA (case GTIN of 12), WATER (case of 24,
pallet of 480), YOGURT (lot and expiry tracked), LED and BULB (pick-to-light).
Customers: SHOP (B2B, 14 days minimum shelf life), BAR (B2B, none), WEB (B2C).
"""

from __future__ import annotations

import atexit
import datetime as dt
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from labels.gs1 import with_check_digit
from wms.catalog import NewGtin, NewItem, NewLocation, create_item, create_location, ensure_zone
from wms.db import Database
from wms.db.ledger import post_movement, receive, verify_ledger
from wms.db.schema import (
    Customer,
    Item,
    Location,
    Order,
    OrderEvent,
    OrderLine,
    PickTask,
    Reservation,
    Stock,
    Zone,
    metadata,
)
from wms.ledger import MovementRequest
from wms.model import (
    HandlingUnit,
    LocationType,
    MovementKind,
    OrderKind,
    OrderStatus,
    ReservationStatus,
    TaskStatus,
    ZoneKind,
)
from wms.orders import NewOrder, NewOrderLine, create_order

TODAY = dt.datetime.now(dt.UTC).date()
NOW = dt.datetime.combine(TODAY, dt.time(9, 0), tzinfo=dt.UTC)
BAY_M = 1.5
TEA_CASE = 12
WATER_CASE = 24
WATER_PALLET = 480
PLAIN_ITEMS = tuple(f"ITEM-{n:02d}" for n in range(1, 13))


@dataclass(frozen=True)
class Site:
    """Ids of what the site holds, by code, SKU and customer code."""

    zones: dict[str, int]
    loc: dict[str, int]
    item: dict[str, int]
    customers: dict[str, int]

    def code_of(self, location_id: int) -> str:
        """The code of a location id."""
        return next(code for code, id_ in self.loc.items() if id_ == location_id)


def _gtin(n: int) -> str:
    return with_check_digit(f"871234{n:06d}")


def _locations() -> list[tuple[NewLocation, HandlingUnit]]:
    places: list[tuple[NewLocation, HandlingUnit]] = []
    walk = 0
    for index, aisle in enumerate(("A1", "A2", "A3")):
        bays = range(1, 7) if index % 2 == 0 else range(6, 0, -1)
        for bay in bays:
            walk += 1
            code = f"{aisle}-{bay:02d}"
            places.append(
                (
                    NewLocation(
                        code,
                        "A",
                        LocationType.PICK_FACE,
                        aisle=aisle,
                        bay=f"{bay:02d}",
                        walk_sequence=walk,
                        x=3.0 * index,
                        y=BAY_M * bay,
                    ),
                    HandlingUnit.EACH,
                )
            )
    for bay in range(1, 5):
        code = f"B1-{bay:02d}"
        places.append(
            (
                NewLocation(
                    code,
                    "B",
                    LocationType.PICK_FACE,
                    aisle="B1",
                    bay=f"{bay:02d}",
                    walk_sequence=100 + bay,
                    x=10.0,
                    y=BAY_M * bay,
                ),
                HandlingUnit.CASE,
            )
        )
    for index, aisle in enumerate(("R1", "R2")):
        for bay in range(1, 5):
            code = f"{aisle}-{bay:02d}"
            places.append(
                (
                    NewLocation(
                        code,
                        "R",
                        LocationType.RESERVE,
                        aisle=aisle,
                        bay=f"{bay:02d}",
                        walk_sequence=200 + 10 * index + bay,
                        x=20.0 + 3.0 * index,
                        y=BAY_M * bay,
                    ),
                    HandlingUnit.PALLET if aisle == "R2" else HandlingUnit.EACH,
                )
            )
    for bay in range(1, 5):
        code = f"L1-{bay:02d}"
        places.append(
            (
                NewLocation(
                    code,
                    "L",
                    LocationType.PICK_FACE,
                    aisle="L1",
                    bay=f"{bay:02d}",
                    walk_sequence=300 + bay,
                    x=40.0,
                    y=BAY_M * bay,
                ),
                HandlingUnit.EACH,
            )
        )
    for code, kind, x in (
        ("STAGE-1", LocationType.STAGING, 0.0),
        ("PACK-1", LocationType.PACK_STATION, 4.0),
        ("PACK-2", LocationType.PACK_STATION, 8.0),
    ):
        places.append((NewLocation(code, "S", kind, x=x, y=-5.0), HandlingUnit.EACH))
    return places


def build_site(db: Database) -> Site:
    """Create the zones, locations, items and customers; no stock yet."""
    with db.write() as s:
        zones = {
            code: ensure_zone(s, code, name, kind).id
            for code, name, kind in (
                ("A", "Each picking", ZoneKind.HANDHELD),
                ("B", "Case picking", ZoneKind.HANDHELD),
                ("R", "Reserve", ZoneKind.RESERVE),
                ("L", "Pick to light", ZoneKind.PICK_TO_LIGHT),
                ("S", "Shipping", ZoneKind.SHIPPING),
            )
        }
        loc: dict[str, int] = {}
        for new, unit in _locations():
            location = create_location(s, new)
            location.handling_unit = unit
            loc[new.code] = location.id
        n = 0

        def gtins(*packs: int) -> tuple[NewGtin, ...]:
            nonlocal n
            made = []
            for pack in packs:
                n += 1
                made.append(NewGtin(_gtin(n), pack))
            return tuple(made)

        items = [
            NewItem("MUG", "Mug", gtins=gtins(1)),
            NewItem("PEN", "Pen", gtins=gtins(1)),
            *(NewItem(sku, f"Plain {sku}", gtins=gtins(1)) for sku in PLAIN_ITEMS),
            NewItem("TEA", "Tea", gtins=gtins(1, TEA_CASE)),
            NewItem("WATER", "Water", gtins=gtins(1, WATER_CASE)),
            NewItem("YOGURT", "Yogurt", gtins=gtins(1), lot_tracked=True, expiry_tracked=True),
            NewItem("LED", "Led", gtins=gtins(1)),
            NewItem("BULB", "Bulb", gtins=gtins(1)),
        ]
        item = {new.sku: create_item(s, new).id for new in items}
        s.get_one(Item, item["WATER"]).pallet_quantity = WATER_PALLET
        customers = {}
        for code, kind, days in (
            ("SHOP", OrderKind.B2B, 14),
            ("BAR", OrderKind.B2B, 0),
            ("WEB", OrderKind.B2C, 0),
        ):
            customer = Customer(code=code, name=code.title(), kind=kind, min_shelf_life_days=days)
            s.add(customer)
            s.flush()
            customers[code] = customer.id
    return Site(zones, loc, item, customers)


# --------------------------------------------------------------------------- fast fresh databases
#
# Creating a PostgreSQL database and its schema per test costs about a second; these tests
# would spend most of their time on it. So the site is built once per process and backend:
# SQLite tests get a copy of a template file; PostgreSQL tests share one database that is
# emptied before each test (DELETE in replica mode, past the append-only triggers) with the site's
# own tables kept and their few test-adjustable columns set back.

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)]
POSTGRES_URL = os.environ.get("WMS_TEST_POSTGRES_URL", "")
SITE_TABLES = ("zone", "location", "item", "item_gtin", "customer")
_sites: dict[str, tuple[str, Site]] = {}


def _admin_conninfo() -> str:
    return make_url(POSTGRES_URL).set(drivername="postgresql").render_as_string(False)


def _drop_postgres(name: str) -> None:
    with psycopg.connect(_admin_conninfo(), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _template(backend: str) -> tuple[str, Site]:
    """The site's database for this backend: a template file (SQLite) or a shared database."""
    if backend in _sites:
        return _sites[backend]
    if backend == "sqlite":
        folder = tempfile.mkdtemp(prefix="wms-flow-")
        atexit.register(shutil.rmtree, folder, True)
        url = f"sqlite:///{folder}/template.sqlite3"
    else:
        name = f"wms_flow_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(_admin_conninfo(), autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        atexit.register(_drop_postgres, name)
        url = make_url(POSTGRES_URL).set(database=name).render_as_string(False)
    db = Database(url)
    try:
        db.create_all()
        site = build_site(db)
        if backend == "sqlite":
            with db.engine.connect() as connection:
                connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.dispose()
    _sites[backend] = (url, site)
    return url, site


def _empty_postgres(url: str) -> None:
    tables = [t.name for t in reversed(metadata.sorted_tables) if t.name not in SITE_TABLES]
    db = Database(url)
    try:
        with db.engine.begin() as connection:
            connection.execute(text("SET LOCAL lock_timeout = '10s'"))
            # The ledger's tables refuse DELETE by trigger; replica mode skips triggers.
            connection.execute(text("SET LOCAL session_replication_role = replica"))
            for table in tables:
                connection.execute(text(f'DELETE FROM "{table}"'))
            connection.execute(
                text(
                    "UPDATE location SET active = true, replenish_min = NULL, "
                    "replenish_max = NULL, wip_limit = NULL"
                )
            )
            connection.execute(text("UPDATE zone SET wip_limit = NULL"))
    finally:
        db.dispose()


@contextmanager
def fresh_database(backend: str, tmp_path: Path, **engine_kwargs: Any) -> Iterator[Database]:
    """A database holding the site and nothing else, on ``backend``; disposed afterwards."""
    url, _site = _template(backend)
    if backend == "sqlite":
        target = tmp_path / "flow.sqlite3"
        shutil.copyfile(make_url(url).database or "", target)
        url = f"sqlite:///{target}"
    else:
        _empty_postgres(url)
    db = Database(url, **engine_kwargs)
    try:
        yield db
    finally:
        db.dispose()


def site_of(db: Database) -> Site:
    """The site that :func:`fresh_database` put in ``db``."""
    return _template(db.dialect)[1]


# --------------------------------------------------------------------------- stock


def put_stock(
    session: Session,
    site: Site,
    sku: str,
    code: str,
    quantity: int,
    *,
    lot: str = "",
    expiry: dt.date | None = None,
    received_at: dt.datetime | None = None,
) -> int:
    """Receive ``quantity`` through the ledger; return the stock row's id."""
    receive(
        session,
        item_id=site.item[sku],
        location_id=site.loc[code],
        quantity=quantity,
        lot=lot,
        expiry=expiry,
    )
    stock_id = session.scalar(
        select(Stock.id).where(
            Stock.location_id == site.loc[code], Stock.item_id == site.item[sku], Stock.lot == lot
        )
    )
    assert stock_id is not None
    if received_at is not None:
        session.execute(update(Stock).where(Stock.id == stock_id).values(received_at=received_at))
    return stock_id


def empty_stock_row(session: Session, site: Site, sku: str, code: str) -> int:
    """A stock row with nothing on hand (the item's pick face after it ran empty)."""
    stock_id = put_stock(session, site, sku, code, 1)
    post_movement(
        session,
        MovementRequest(
            MovementKind.ADJUSTMENT,
            site.item[sku],
            1,
            from_location_id=site.loc[code],
            reason="counted empty",
        ),
    )
    return stock_id


def yogurt_lots(session: Session, site: Site) -> dict[str, int]:
    """Four YOGURT lots: expired and long-dated on a pick face, short and mid-dated in reserve.

    The earliest lot that has not expired (Y-SHORT) sits in reserve; the pick face holds the
    expired lot and the longest-dated one.
    """
    return {
        "Y-EXP": put_stock(
            session, site, "YOGURT", "A2-01", 10, lot="Y-EXP", expiry=TODAY - dt.timedelta(1)
        ),
        "Y-LONG": put_stock(
            session, site, "YOGURT", "A2-01", 20, lot="Y-LONG", expiry=TODAY + dt.timedelta(120)
        ),
        "Y-SHORT": put_stock(
            session, site, "YOGURT", "R1-02", 10, lot="Y-SHORT", expiry=TODAY + dt.timedelta(5)
        ),
        "Y-MID": put_stock(
            session, site, "YOGURT", "R1-02", 10, lot="Y-MID", expiry=TODAY + dt.timedelta(30)
        ),
    }


def plain_faces() -> dict[str, str]:
    """Where each ITEM-nn has its pick face: spread over the three aisles of zone A."""
    faces = [f"{aisle}-{bay:02d}" for aisle in ("A1", "A2", "A3") for bay in range(3, 7)]
    return dict(zip(PLAIN_ITEMS, faces, strict=True))


def stock_plain_items(session: Session, site: Site, quantity: int = 50) -> None:
    """Every ITEM-nn on its pick face."""
    for sku, code in plain_faces().items():
        put_stock(session, site, sku, code, quantity)


# --------------------------------------------------------------------------- orders


def new_order(
    session: Session,
    number: str,
    lines: Sequence[tuple[str, int]],
    *,
    kind: OrderKind = OrderKind.B2C,
    customer: str | None = None,
    priority: int = 0,
    cut_off: dt.datetime | None = None,
    carrier: str = "",
) -> Order:
    """Create an order (status received)."""
    return create_order(
        session,
        NewOrder(
            number,
            kind,
            [NewOrderLine(sku, quantity) for sku, quantity in lines],
            customer=customer,
            priority=priority,
            cut_off=cut_off,
            carrier=carrier,
        ),
    )


def order(session: Session, number: str) -> Order:
    """The order with that number."""
    return session.scalars(select(Order).where(Order.number == number)).one()


# --------------------------------------------------------------------------- checks


def open_reservations(session: Session, order_number: str | None = None) -> list[Reservation]:
    """Open reservations, of one order or of all, by id."""
    query = select(Reservation).where(Reservation.status == ReservationStatus.OPEN)
    if order_number is not None:
        query = (
            query.join(OrderLine, Reservation.order_line_id == OrderLine.id)
            .join(Order, OrderLine.order_id == Order.id)
            .where(Order.number == order_number)
        )
    return list(session.scalars(query.order_by(Reservation.id)))


def reserved_by_stock(session: Session) -> dict[int, int]:
    """The reserved column of every stock row that has something reserved."""
    return {
        stock_id: reserved
        for stock_id, reserved in session.execute(select(Stock.id, Stock.reserved))
        if reserved
    }


def total_reserved(session: Session) -> int:
    """Sum of the reserved column."""
    return int(session.scalar(select(func.coalesce(func.sum(Stock.reserved), 0))) or 0)


def assert_consistent(session: Session) -> None:
    """Ledger, reserved column, open reservations and lines' allocated quantity all agree."""
    assert verify_ledger(session) == []
    open_by_stock: dict[int, int] = {}
    open_by_line: dict[int, int] = {}
    for reservation in open_reservations(session):
        open_by_stock[reservation.stock_id] = (
            open_by_stock.get(reservation.stock_id, 0) + reservation.quantity
        )
        open_by_line[reservation.order_line_id] = (
            open_by_line.get(reservation.order_line_id, 0) + reservation.quantity
        )
    for stock_id, on_hand, reserved in session.execute(
        select(Stock.id, Stock.on_hand, Stock.reserved)
    ):
        assert 0 <= reserved <= on_hand, (stock_id, on_hand, reserved)
        assert reserved == open_by_stock.get(stock_id, 0), (stock_id, reserved, open_by_stock)
    for line_id, allocated, picked, quantity in session.execute(
        select(
            OrderLine.id,
            OrderLine.allocated_quantity,
            OrderLine.picked_quantity,
            OrderLine.quantity,
        )
    ):
        assert allocated == open_by_line.get(line_id, 0), (line_id, allocated, open_by_line)
        assert allocated + picked <= quantity, (line_id, allocated, picked, quantity)


def history(session: Session, order_number: str) -> list[tuple[OrderStatus, str]]:
    """An order's events in the order they happened."""
    return [
        (event.status, event.detail)
        for event in session.scalars(
            select(OrderEvent)
            .join(Order, OrderEvent.order_id == Order.id)
            .where(Order.number == order_number)
            .order_by(OrderEvent.id)
        )
    ]


def tasks_of(session: Session, order_number: str | None = None) -> list[PickTask]:
    """Pick tasks, of one order or of all, by batch and sequence."""
    query = select(PickTask)
    if order_number is not None:
        query = query.join(Order, PickTask.order_id == Order.id).where(Order.number == order_number)
    return list(session.scalars(query.order_by(PickTask.batch_id, PickTask.sequence)))


def open_tasks(session: Session, order_number: str | None = None) -> list[PickTask]:
    """Open pick tasks."""
    return [t for t in tasks_of(session, order_number) if t.status is TaskStatus.OPEN]


def set_zone_wip_limit(session: Session, site: Site, zone: str, limit: int | None) -> None:
    """Give a zone its own work-in-progress limit (None: the release's default)."""
    session.get_one(Zone, site.zones[zone]).wip_limit = limit


def set_replenishment(session: Session, site: Site, code: str, low: int, high: int) -> None:
    """Give a pick face its replenishment minimum and maximum."""
    location = session.get_one(Location, site.loc[code])
    location.replenish_min, location.replenish_max = low, high
