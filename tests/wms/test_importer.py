"""CSV import: the example files import, and one bad row means nothing is written."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy import func, select

from wms.catalog import ensure_zone
from wms.db import Database
from wms.db.ledger import verify_ledger
from wms.db.schema import Customer, Item, ItemGtin, Location, Movement, Order, OrderLine, Stock
from wms.errors import InvalidInput
from wms.importer import MAX_REPORTED_ERRORS, import_csv
from wms.model import LocationType, MovementKind, OrderKind, OrderStatus, ZoneKind

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"


@pytest.fixture
def site(database: Database) -> Database:
    """The zones of config.yaml and one B2B customer."""
    with database.write() as s:
        ensure_zone(s, "A", "Fast movers", ZoneKind.HANDHELD)
        ensure_zone(s, "B", "Bulk", ZoneKind.HANDHELD)
        ensure_zone(s, "R", "Reserve", ZoneKind.RESERVE)
        ensure_zone(s, "S", "Pack and ship", ZoneKind.SHIPPING)
        s.add(
            Customer(
                code="HORTUS",
                name="Hortus Tuincentra NV",
                kind=OrderKind.B2B,
                min_shelf_life_days=30,
                label_template="hortus-case",
            )
        )
    return database


@pytest.fixture
def catalogue(site: Database) -> Database:
    """The example locations and items imported."""
    for kind in ("locations", "items"):
        assert import_csv(site, kind, EXAMPLES / f"{kind}.csv").ok
    return site


def _count(db: Database, entity: type) -> int:
    with db.read() as s:
        return int(s.scalar(select(func.count()).select_from(entity)) or 0)


def test_every_example_file_imports_in_order(site: Database) -> None:
    calls: dict[str, list[int]] = {}
    reports = {
        kind: import_csv(
            site, kind, EXAMPLES / f"{kind}.csv", progress=calls.setdefault(kind, []).append
        )
        for kind in ("customers", "locations", "items", "stock", "orders")
    }
    assert {k: (r.ok, r.rows_read, r.created) for k, r in reports.items()} == {
        "customers": (True, 3, 3),
        "locations": (True, 14, 14),
        "items": (True, 6, 6),
        "stock": (True, 9, 9),
        "orders": (True, 6, 3),
    }
    for kind, report in reports.items():  # progress only grows, and ends at the row count
        assert calls[kind] == sorted(calls[kind]) and calls[kind][-1] == report.rows_read
    with site.read() as s:
        dock = s.scalar(select(Location).where(Location.code == "DOCK-1"))
        assert dock is not None and dock.type is LocationType.DOCK and dock.y == -18.0
        mug = s.scalar(select(Item).where(Item.sku == "KIT-90001"))
        assert mug is not None and mug.name == "Stoneware mug 350 ml, sage green"
        assert [(g.gtin, g.pack_quantity) for g in mug.gtins] == [
            ("05412345900016", 1),
            ("15412345900013", 12),
        ]
        order = s.scalar(select(Order).where(Order.number == "SO-900001"))
        assert order is not None and order.kind is OrderKind.B2B
        assert order.status is OrderStatus.RECEIVED and order.dock == "DOCK-1"
        assert order.customer is not None and order.customer.code == "HORTUS"
        assert order.label_requirements == {"sscc": True, "template": "hortus-case"}
        assert order.delivery_window_start is not None
        assert [(line.line_no, line.quantity) for line in order.lines] == [
            (1, 48),
            (2, 24),
            (3, 36),
        ]
        web = s.scalar(select(Order).where(Order.number == "WS-900001"))
        assert web is not None and web.ship_to_city == "Antwerpen" and len(web.lines) == 2
        assert web.cut_off is not None and web.cut_off.hour == 18
    assert _count(site, OrderLine) == 6


def test_stock_is_posted_as_receipts_through_the_ledger(catalogue: Database) -> None:
    report = import_csv(catalogue, "stock", EXAMPLES / "stock.csv")
    assert report.ok and report.created == 9
    with catalogue.read() as s:
        assert verify_ledger(s) == []
        kinds = set(s.scalars(select(Movement.kind)))
        assert kinds == {MovementKind.RECEIPT}
        assert s.scalar(select(func.sum(Movement.quantity))) == 611
        chocolate = s.execute(
            select(Stock.lot, Stock.expiry, Stock.on_hand)
            .join(Item)
            .where(Item.sku == "FOO-90004")
            .order_by(Stock.expiry)
        ).all()
        assert [(lot, str(expiry), qty) for lot, expiry, qty in chocolate] == [
            ("L2611-07", "2026-11-30", 24),
            ("L2619-03", "2027-02-28", 240),
        ]
    # The same file again adds to the same stock rows (a second delivery), still balanced.
    assert import_csv(catalogue, "stock", EXAMPLES / "stock.csv").ok
    with catalogue.read() as s:
        assert verify_ledger(s) == []
        assert s.scalar(select(func.sum(Stock.on_hand))) == 2 * 611


def test_one_bad_row_writes_nothing_and_says_where(site: Database) -> None:
    text = (EXAMPLES / "items.csv").read_text(encoding="utf-8")
    bad = text.replace("5412345900030", "5412345900031")  # check digit off by one, on line 4
    report = import_csv(site, "items", io.StringIO(bad))
    assert not report.ok and report.created == 0 and report.rows_read == 6
    assert [(e.line, e.column, e.value) for e in report.errors] == [
        (4, "unit_gtin", "5412345900031")
    ]
    assert str(report.errors[0]) == (
        "line 4, column unit_gtin: value '5412345900031': "
        "a GTIN of 8, 12, 13 or 14 digits with a correct check digit"
    )
    assert _count(site, Item) == 0 and _count(site, ItemGtin) == 0


def test_item_rows_are_checked_against_the_file_and_the_catalogue(catalogue: Database) -> None:
    csv_text = (
        "sku,name,unit_gtin,case_gtin,case_quantity,weight_g,lot_tracked\n"
        "KIT-90001,Already there,,,,,\n"  # line 2: SKU exists
        "NEW-1,New one,5412345900078,,,12,maybe\n"  # line 3: bad boolean
        "NEW-1,Twice,,15412345900075,,-5,\n"  # line 4: duplicate SKU, case without qty, weight
        ",No SKU,5412345900016,,,,\n"  # line 5: empty SKU, GTIN taken
    )
    report = import_csv(catalogue, "items", io.StringIO(csv_text))
    assert [(e.line, e.column) for e in report.errors] == [
        (2, "sku"),
        (3, "lot_tracked"),
        (4, "sku"),
        (4, "case_quantity"),
        (4, "weight_g"),
        (5, "sku"),
        (5, "unit_gtin"),
    ]
    assert "line 3 has it too" in report.errors[2].expected
    assert _count(catalogue, Item) == 6


def test_customer_rows_need_a_free_code_a_name_and_a_kind(site: Database) -> None:
    csv_text = (
        "code,name,kind,min_shelf_life_days,label_template\n"
        "GROENHOF,Groenhof Retail BV,B2B,30,groenhof-case\n"
        "HORTUS,Hortus again,b2b,,\n"
        "GROENHOF,Groenhof twice,b2b,,\n"
        "NONAME,,wholesale,-2,\n"
    )
    report = import_csv(site, "customers", io.StringIO(csv_text))
    assert [str(e) for e in report.errors] == [
        "line 3, column code: value 'HORTUS': a code no other customer has "
        "(an existing customer has it)",
        "line 4, column code: value 'GROENHOF': a code no other customer has (line 2 has it)",
        "line 5, column name: value '': a value (this column may not be empty)",
        "line 5, column kind: value 'wholesale': one of b2c, b2b",
        "line 5, column min_shelf_life_days: value '-2': a whole number >= 0",
    ]
    assert _count(site, Customer) == 1  # only the fixture's: nothing of the file
    good = import_csv(
        site,
        "customers",
        io.StringIO(
            csv_text.split("\n", 2)[0 + 0]
            + "\n"
            + "GROENHOF,Groenhof Retail BV,B2B,30,groenhof-case\n"
        ),
    )
    assert good.ok and good.created == 1
    with site.read() as s:
        groenhof = s.scalar(select(Customer).where(Customer.code == "GROENHOF"))
        assert groenhof is not None and groenhof.kind is OrderKind.B2B
        assert (groenhof.min_shelf_life_days, groenhof.label_template) == (30, "groenhof-case")


def test_location_rows_need_a_known_zone_type_and_free_code(site: Database) -> None:
    csv_text = (
        "code;zone;type;walk_sequence;x\n"  # semicolons, as spreadsheets in BE/FR/NL save
        "A-01-01-1;A;pick_face;1;1,5\n"
        "A-01-01-1;A;pick_face;2;1.5\n"
        "Z-01;Z;pick_face;3;0\n"
        "A-01-01-2;A;shelf;-1;x\n"
    )
    report = import_csv(site, "locations", io.StringIO("\ufeff" + csv_text))
    assert [str(e) for e in report.errors] == [
        "line 3, column code: value 'A-01-01-1': "
        "a code no other location has as code or barcode (line 2 has it)",
        "line 4, column zone: value 'Z': one of the zones A, B, R, S",
        "line 5, column type: value 'shelf': one of pick_face, reserve, staging, put_wall_slot, "
        "pack_station, dock",
        "line 5, column walk_sequence: value '-1': a whole number >= 0",
        "line 5, column x: value 'x': a number in metres, such as 12.5",
    ]
    assert _count(site, Location) == 0
    good = import_csv(
        site, "locations", io.StringIO(csv_text.split("\n", 3)[0] + "\n" + "A-9;A;reserve;0;2,5\n")
    )
    assert good.ok
    with site.read() as s:
        assert s.scalar(select(Location.x).where(Location.code == "A-9")) == 2.5


def test_stock_rows_are_checked_against_items_and_locations(catalogue: Database) -> None:
    csv_text = (
        "location,sku,quantity,lot,expiry\n"
        "NOWHERE,KIT-90001,5,,\n"
        "A-01-01-1,NOPE,5,,\n"
        "A-01-01-1,KIT-90001,0,,\n"
        "A-01-01-1,KIT-90001,5,L1,\n"
        "A-01-02-2,FOO-90004,5,,2026-13-01\n"
        "A-01-02-2,FOO-90004,5,L9,2027-01-01\n"
        "B-01-01-1,FOO-90004,5,L9,2027-02-01\n"
    )
    report = import_csv(catalogue, "stock", io.StringIO(csv_text))
    assert [(e.line, e.column) for e in report.errors] == [
        (2, "location"),
        (3, "sku"),
        (4, "quantity"),
        (5, "lot"),
        (6, "expiry"),
        (6, "lot"),
        (8, "expiry"),
    ]
    assert "the expiry of lot L9 in line 7" in report.errors[-1].expected
    assert _count(catalogue, Movement) == 0 and _count(catalogue, Stock) == 0
    with catalogue.read() as s:
        assert verify_ledger(s) == []


def test_order_rows_are_grouped_and_checked(catalogue: Database) -> None:
    header = (EXAMPLES / "orders.csv").read_text(encoding="utf-8").splitlines()[0]
    rows = [
        "WS-1,b2c,,Ann,,,,BE,bpost,,2026-05-11T18:00:00Z,0,,,,,,KIT-90001,1",
        "WS-1,b2c,,Bob,,,,BE,bpost,,2026-05-11T18:00:00Z,0,,,,,,KIT-90002,1",  # other name
        "WS-2,b2x,NOBODY,,,,,BEL,,,2026-05-11 14:00,101,,,DOCK-9,,,KIT-90001,1",
        "WS-1,b2c,,,,,,,,,,,,,,,,KIT-90001,1",  # order 1 again, not next to its rows
        "SO-1,b2b,HORTUS,,,,,,,,,0,2026-05-12T11:00:00Z,2026-05-12T07:00:00Z,,,,OFF-90003,x",
    ]
    report = import_csv(catalogue, "orders", io.StringIO("\n".join([header, *rows]) + "\n"))
    assert [(e.line, e.column) for e in report.errors] == [
        (3, "ship_to_name"),
        (4, "kind"),
        (4, "customer"),
        (4, "ship_to_country"),
        (4, "dock"),
        (4, "priority"),
        (4, "cut_off"),
        (5, "order_number"),
        (6, "quantity"),
    ]
    assert "first line of order WS-1" in report.errors[0].expected
    assert "time zone" in report.errors[6].expected
    assert _count(catalogue, Order) == 0

    # The delivery window is checked by the order use case's own rules.
    report = import_csv(catalogue, "orders", io.StringIO(header + "\n" + rows[-1][:-1] + "5\n"))
    assert [(e.line, e.column) for e in report.errors] == [(2, "delivery_window_start")]
    assert "starts after it ends" in report.errors[0].expected


def test_an_existing_order_number_is_refused(catalogue: Database) -> None:
    assert import_csv(catalogue, "orders", EXAMPLES / "orders.csv").ok
    again = import_csv(catalogue, "orders", EXAMPLES / "orders.csv")
    assert [(e.line, e.column, e.value) for e in again.errors] == [
        (2, "order_number", "WS-900001"),
        (4, "order_number", "WS-900002"),
        (5, "order_number", "SO-900001"),
    ]
    assert _count(catalogue, Order) == 3


def test_a_missing_column_or_unknown_kind_raises(site: Database) -> None:
    with pytest.raises(InvalidInput, match="missing required column\\(s\\): quantity") as caught:
        import_csv(site, "stock", io.StringIO("location,sku,qty\nA,B,1\n"))
    assert caught.value.details["missing"] == ["quantity"]
    assert caught.value.details["unknown"] == ["qty"]
    with pytest.raises(InvalidInput, match="unknown import kind 'pallets'"):
        import_csv(site, "pallets", io.StringIO("a\n"))
    with pytest.raises(InvalidInput, match="empty"):
        import_csv(site, "items", io.StringIO("\n\n"))


def test_rows_are_numbered_by_file_line_and_errors_are_capped(site: Database) -> None:
    multiline = 'sku,name,description\nA-1,Mug,"two\nlines"\n\nA-1,Mug again,\n'
    report = import_csv(site, "items", io.StringIO(multiline))
    assert [(e.line, e.column) for e in report.errors] == [(5, "sku")]
    assert "line 2 has it too" in report.errors[0].expected

    many = "location,sku,quantity\n" + "X,Y,1\n" * 60
    report = import_csv(site, "stock", io.StringIO(many))
    assert report.error_count == 120 and len(report.errors) == MAX_REPORTED_ERRORS
    short = import_csv(site, "stock", io.StringIO("location,sku,quantity\nX,Y\n"))
    assert str(short.errors[0]).startswith("line 2: 3 values, one per column")
