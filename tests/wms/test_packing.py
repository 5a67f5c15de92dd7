"""Packing on SQLite and PostgreSQL: scan-verified units, refusals, split parcels, close."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from labels.code128 import FNC1
from labels.documents import Address, ShippingLabel
from labels.gs1 import is_valid_sscc
from labels.layout import BarcodeItem
from labels.pdf import packing_list_pdf
from labels.sscc import SsccScheme
from labels.zpl import label_drawing
from wms import print_jobs
from wms.allocation import allocate_orders
from wms.catalog import NewLocation, create_location
from wms.db.schema import (
    BatchOrder,
    ItemGtin,
    Movement,
    Parcel,
    ParcelContent,
    PickBatch,
    PickTask,
    PrintJob,
    Shipment,
    Stock,
)
from wms.model import (
    LocationType,
    MovementKind,
    OrderKind,
    OrderStatus,
    ParcelStatus,
    PrintJobState,
    ShipmentStatus,
    TaskStatus,
)
from wms.packing import (
    CartonSpec,
    PackContext,
    PackRefusal,
    UnitSize,
    close_parcel,
    find_order,
    pack_view,
    packing_list,
    remove_from_parcel,
    scan_unit,
    suggest_carton,
)
from wms.picks import confirm_pick
from wms.release import release_orders
from wms.shipping import load_parcel, ship

from .order_flow_site import (
    BACKENDS,
    NOW,
    TODAY,
    Site,
    assert_consistent,
    fresh_database,
    history,
    new_order,
    order,
    put_stock,
    site_of,
)

CARTONS = (
    CartonSpec("S", 250, 180, 100, 5_000, 150),
    CartonSpec("M", 400, 300, 200, 15_000, 350),
    CartonSpec("L", 600, 400, 400, 30_000, 700),
)
SCHEME = SsccScheme("5412345")
CONTEXT = PackContext(CARTONS, SCHEME, Address("Demo warehouse"), printer="pack-1-zebra")


@pytest.fixture(params=BACKENDS)
def database(request, tmp_path):
    with fresh_database(request.param, tmp_path) as db:
        yield db


@pytest.fixture
def site(database):
    return site_of(database)


def _gtin(s: Session, site: Site, sku: str, pack: int = 1) -> str:
    return s.scalars(
        select(ItemGtin.gtin).where(
            ItemGtin.item_id == site.item[sku], ItemGtin.pack_quantity == pack
        )
    ).one()


def _picked(database, site: Site, number: str, lines, **kwargs) -> int:
    """An order created, allocated, released and picked in full; its id."""
    with database.write() as s:
        new_order(s, number, lines, **kwargs)
        orders = [order(s, number)]
        allocate_orders(s, orders, today=TODAY)
        release_orders(s, orders, now=NOW)
    with database.read() as s:
        tasks = s.scalars(
            select(PickTask).where(
                PickTask.order_id == order(s, number).id, PickTask.status == TaskStatus.OPEN
            )
        ).all()
    for task in tasks:
        with database.write() as s:
            confirm_pick(s, task.id, task.quantity, now=NOW)
    with database.read() as s:
        picked = order(s, number)
        assert picked.status is OrderStatus.PICKED
        return picked.id


def _refused(database, reason: str, call) -> PackRefusal:
    with pytest.raises(PackRefusal) as caught, database.write() as s:
        call(s)
    assert caught.value.reason == reason, caught.value.message
    return caught.value


def test_the_smallest_carton_that_fits_by_volume_size_and_weight() -> None:
    small = UnitSize(100, 100, 50, 200, 2)
    assert suggest_carton(CARTONS, [small]).code == "S"
    assert suggest_carton(CARTONS, [UnitSize(100, 100, 50, 200, 20)]).code == "M"  # volume
    assert suggest_carton(CARTONS, [UnitSize(300, 20, 20, 100, 1)]).code == "M"  # too long
    assert suggest_carton(CARTONS, [UnitSize(10, 10, 10, 6_000, 1)]).code == "M"  # weight
    assert suggest_carton(CARTONS, [UnitSize(10, 10, 10, 40_000, 1)]) is None
    assert suggest_carton(CARTONS, []).code == "S"


def test_pack_a_b2c_order_with_refusals_then_close_it(database, site) -> None:
    with database.write() as s:
        put_stock(s, site, "MUG", "A1-01", 10)
        put_stock(s, site, "PEN", "A1-02", 10)
        put_stock(s, site, "ITEM-01", "A1-03", 10)
    order_id = _picked(database, site, "C-1", [("MUG", 2), ("PEN", 1)], carrier="DHL")
    with database.read() as s:
        mug, pen, other = (_gtin(s, site, sku) for sku in ("MUG", "PEN", "ITEM-01"))
        station = order(s, "C-1").pack_station_id
        assert find_order(s, "C-1").id == order_id
        view = pack_view(s, order_id, CARTONS)
    assert [(line.sku, line.picked, line.remaining) for line in view.lines] == [
        ("MUG", 2, 2),
        ("PEN", 1, 1),
    ]
    assert view.open_parcel is None
    refusal = _refused(database, "wrong_item", lambda s: scan_unit(s, order_id, other))
    assert refusal.params == {"sku": "ITEM-01", "order": "C-1"}
    _refused(database, "unknown_barcode", lambda s: scan_unit(s, order_id, "4006381333931"))
    _refused(database, "unreadable", lambda s: scan_unit(s, order_id, "\t"))
    with database.write() as s:
        first = scan_unit(s, order_id, mug, station="pack-1")
        scan_unit(s, order_id, f"]C101{mug}", station="pack-1")  # a GS1-128 of the same unit
    assert (first.sku, first.packed, first.picked, first.parcel_number) == ("MUG", 1, 2, 1)
    _refused(database, "too_many", lambda s: scan_unit(s, order_id, mug))
    missing = _refused(
        database,
        "missing",
        lambda s: close_parcel(s, order_id, CONTEXT, carton="S", weight_g=900),
    )
    assert missing.params == {"units": 1, "items": "1 x PEN"}
    with database.write() as s:
        scan_unit(s, order_id, pen)
    _refused(
        database,
        "unknown_carton",
        lambda s: close_parcel(s, order_id, CONTEXT, carton="XL", weight_g=1),
    )
    _refused(
        database,
        "weight_needed",
        lambda s: close_parcel(s, order_id, CONTEXT, carton="S", weight_g=0),
    )
    _refused(
        database,
        "too_heavy",
        lambda s: close_parcel(s, order_id, CONTEXT, carton="S", weight_g=9_000),
    )
    with database.write() as s:
        result = close_parcel(
            s, order_id, CONTEXT, carton="S", weight_g=900, station="pack-1", user_id=None
        )
    assert (result.order_packed, result.remaining, len(result.print_job_ids)) == (True, 0, 1)
    with database.read() as s:
        packed = order(s, "C-1")
        assert packed.status is OrderStatus.PACKED
        assert [st for st, _d in history(s, "C-1")][-2:] == [OrderStatus.PICKED, OrderStatus.PACKED]
        parcel = s.scalars(select(Parcel).where(Parcel.order_id == order_id)).one()
        assert (parcel.status, parcel.carton, parcel.weight_g) == (ParcelStatus.CLOSED, "S", 900)
        assert (parcel.tracking_number, parcel.sscc) == ("C-1-1", None)
        moves = s.scalars(
            select(Movement).where(
                Movement.order_id == order_id, Movement.kind == MovementKind.PACK
            )
        ).all()
        assert sorted((m.quantity, m.from_location_id, m.to_location_id) for m in moves) == [
            (1, station, site.loc["STAGE-1"]),
            (2, station, site.loc["STAGE-1"]),
        ]
        on_lane = s.scalars(
            select(Stock.on_hand).where(Stock.location_id == site.loc["STAGE-1"])
        ).all()
        assert sorted(on_lane) == [1, 2]
        assert_consistent(s)
        job = s.get_one(PrintJob, result.print_job_ids[0])
        assert (job.printer, job.state, job.document) == (
            "pack-1-zebra",
            PrintJobState.QUEUED,
            "shipping_label",
        )
        expected = ShippingLabel(
            order_number="C-1",
            ship_to=Address("C-1"),
            carrier="DHL",
            tracking_number="C-1-1",
            ship_from=Address("Demo warehouse"),
            weight_kg=parcel.weight_g / 1000,  # type: ignore[arg-type, operator]
        )
        assert print_jobs.job_drawings(job) == [label_drawing(expected)]
    _refused(database, "already_packed", lambda s: find_order(s, "C-1"))
    _refused(database, "already_packed", lambda s: scan_unit(s, order_id, mug))
    _refused(
        database,
        "already_packed",
        lambda s: close_parcel(s, order_id, CONTEXT, carton="S", weight_g=900),
    )


def test_an_order_split_over_two_parcels_gets_labels_one_of_two_and_two_of_two(
    database, site
) -> None:
    with database.write() as s:
        put_stock(s, site, "MUG", "A1-01", 10)
    order_id = _picked(database, site, "C-2", [("MUG", 3)])
    with database.read() as s:
        mug = _gtin(s, site, "MUG")
    with database.write() as s:
        scan_unit(s, order_id, mug)
        content = scan_unit(s, order_id, mug)
    with database.read() as s:
        view = pack_view(s, order_id, CARTONS)
        assert view.open_parcel is not None and view.open_parcel.units == 2
    with database.write() as s:
        parcel = s.get_one(Parcel, content.parcel_id)
        row = s.scalars(select(ParcelContent).where(ParcelContent.parcel_id == parcel.id)).one()
        remove_from_parcel(s, order_id, row.id)
        scan_unit(s, order_id, mug)
    with database.write() as s:
        first = close_parcel(s, order_id, CONTEXT, carton="S", weight_g=400, split=True)
    assert (first.order_packed, first.remaining, first.print_job_ids) == (False, 2, ())
    with database.write() as s:
        second_scan = scan_unit(s, order_id, mug)
        scan_unit(s, order_id, mug)
    assert second_scan.parcel_number == 2
    with database.write() as s:
        last = close_parcel(s, order_id, CONTEXT, carton="S", weight_g=800)
    assert last.order_packed and len(last.print_job_ids) == 2
    with database.read() as s:
        document = packing_list(s, order_id, Address("Demo warehouse"))
    assert [(line.sku, line.quantity, line.carton) for line in document.lines] == [
        ("MUG", 1, 1),
        ("MUG", 2, 2),
    ]
    assert [(c.number, c.weight_kg, c.tracking_number) for c in document.cartons] == [
        (1, Decimal("0.4"), "C-2-1"),
        (2, Decimal("0.8"), "C-2-2"),
    ]
    assert packing_list_pdf(document).startswith(b"%PDF")
    with database.read() as s:
        jobs = [s.get_one(PrintJob, i) for i in last.print_job_ids]
        texts = [
            {item.text for item in print_jobs.job_drawings(job)[0].items if hasattr(item, "text")}
            for job in jobs
        ]
        assert any("1 OF 2" in t.upper() or "1/2" in t for t in texts[0])
        assert any("2 OF 2" in t.upper() or "2/2" in t for t in texts[1])


def test_a_b2b_case_gets_an_sscc_and_a_gs1_logistic_label(database, site) -> None:
    with database.write() as s:
        put_stock(s, site, "TEA", "B1-01", 36)
    order_id = _picked(database, site, "S-1", [("TEA", 24)], kind=OrderKind.B2B, customer="BAR")
    with database.read() as s:
        case_gtin, unit_gtin = _gtin(s, site, "TEA", 12), _gtin(s, site, "TEA")
    with database.write() as s:
        assert scan_unit(s, order_id, case_gtin).quantity == 12
    with database.write() as s:
        close_parcel(s, order_id, CONTEXT, carton="M", weight_g=6_000, split=True)
        scan_unit(s, order_id, case_gtin)
    with database.write() as s:
        result = close_parcel(s, order_id, CONTEXT, carton="M", weight_g=6_000)
    with database.read() as s:
        parcels = s.scalars(
            select(Parcel).where(Parcel.order_id == order_id).order_by(Parcel.number)
        ).all()
        ssccs = [p.sscc for p in parcels]
        assert all(code and is_valid_sscc(code) for code in ssccs)
        assert [SCHEME.serial_of(code) for code in ssccs] == [1, 2]  # type: ignore[arg-type]
        assert [p.tracking_number for p in parcels] == ssccs
        job = s.get_one(PrintJob, result.print_job_ids[0])
        assert job.document == "logistic_label"
        barcodes = [
            item.data.removeprefix(FNC1)
            for item in print_jobs.job_drawings(job)[0].items
            if isinstance(item, BarcodeItem)
        ]
        assert f"00{ssccs[0]}" in barcodes
        assert f"02{unit_gtin}3712" in barcodes  # content GTIN and count 12


def test_lot_tracked_units_need_the_picked_lot(database, site) -> None:
    with database.write() as s:
        put_stock(
            s, site, "YOGURT", "A2-01", 20, lot="Y-LONG", expiry=TODAY.replace(year=TODAY.year + 1)
        )
    order_id = _picked(database, site, "C-3", [("YOGURT", 1)])
    with database.read() as s:
        gtin = _gtin(s, site, "YOGURT")
    _refused(database, "lot_needed", lambda s: scan_unit(s, order_id, gtin))
    refusal = _refused(
        database, "wrong_lot", lambda s: scan_unit(s, order_id, f"]C101{gtin}10Y-OTHER")
    )
    assert refusal.params["expected"] == "Y-LONG"
    with database.write() as s:
        accepted = scan_unit(s, order_id, f"]C101{gtin}10Y-LONG")
    assert accepted.lot == "Y-LONG"


def test_an_order_is_found_by_its_tote_and_its_cart_slot_and_must_be_picked(database, site) -> None:
    with database.write() as s:
        put_stock(s, site, "MUG", "A1-01", 10)
    order_id = _picked(database, site, "C-4", [("MUG", 1)])
    with database.write() as s:
        slot = s.scalars(select(BatchOrder).where(BatchOrder.order_id == order_id)).one()
        slot.tote_barcode = "TOTE-0042"
        cart = slot.batch_id
    with database.read() as s:
        code = s.get_one(PickBatch, cart).code
        assert find_order(s, "TOTE-0042").id == order_id
        assert find_order(s, f"{code}/{slot.tote_position}").id == order_id
    _refused(database, "unknown_order", lambda s: find_order(s, "NOPE-1"))
    with database.write() as s:
        new_order(s, "C-5", [("MUG", 1)])
    _refused(database, "not_picked", lambda s: find_order(s, "C-5"))


def test_config_cartons_and_pack_stations_are_checked() -> None:
    from wms.config import ConfigError, parse_settings

    settings = parse_settings(
        {
            "printers": [{"name": "zebra-1", "url": "tcp://127.0.0.1:9100", "station": "pack-1"}],
            "cartons": [
                {"code": "S", "length_mm": 1, "width_mm": 1, "height_mm": 1, "max_weight_g": 1}
            ],
            "pack_stations": [{"name": "pack-1", "location": "PACK-1"}],
        }
    )
    printer = settings.station_printer("pack-1")
    assert printer is not None and printer.name == "zebra-1"
    assert settings.station_printer("pack-9") is None
    with pytest.raises(ConfigError, match="names printer 'nope'"):
        parse_settings({"pack_stations": [{"name": "pack-1", "location": "P", "printer": "nope"}]})
    with pytest.raises(ConfigError, match="carton names must be unique"):
        parse_settings(
            {
                "cartons": [
                    {"code": "S", "length_mm": 1, "width_mm": 1, "height_mm": 1, "max_weight_g": 1}
                ]
                * 2
            }
        )


# --------------------------------------------------------------------------- shipping


def _packed(database, site: Site, number: str, sku: str, quantity: int, **kwargs) -> int:
    order_id = _picked(database, site, number, [(sku, quantity)], **kwargs)
    with database.read() as s:
        gtin = _gtin(s, site, sku)
    for _ in range(quantity):
        with database.write() as s:
            scan_unit(s, order_id, gtin)
        with database.write() as s:
            close_parcel(s, order_id, CONTEXT, carton="S", weight_g=300, split=_ < quantity - 1)
    return order_id


def test_parcels_are_loaded_by_label_at_the_dock_and_shipped_with_tracking(database, site):
    with database.write() as s:
        create_location(s, NewLocation("DOCK-1", "S", LocationType.DOCK))
        create_location(s, NewLocation("DOCK-2", "S", LocationType.DOCK))
        put_stock(s, site, "MUG", "A1-01", 10)
        put_stock(s, site, "TEA", "B1-01", 36)
    first = _packed(database, site, "C-10", "MUG", 2, carrier="DHL")
    _packed(database, site, "C-11", "MUG", 1, carrier="UPS")
    b2b = _picked(database, site, "S-10", [("TEA", 12)], kind=OrderKind.B2B, customer="BAR")
    with database.read() as s:
        case = _gtin(s, site, "TEA", 12)
    with database.write() as s:
        scan_unit(s, b2b, case)
    with database.write() as s:
        close_parcel(s, b2b, CONTEXT, carton="M", weight_g=6_000)
    with database.read() as s:
        sscc = s.scalars(select(Parcel.sscc).where(Parcel.order_id == b2b)).one()
    _refused(database, "unknown_dock", lambda s: load_parcel(s, "DOCK-9", "C-10-1"))
    _refused(database, "unknown_parcel", lambda s: load_parcel(s, "DOCK-1", "C-99-1"))
    with database.write() as s:
        loaded = load_parcel(s, "DOCK-1", "C-10-1")
    assert loaded["order_parcels_to_load"] == [2]
    shipment_id = loaded["shipment"]["id"]
    _refused(database, "already_loaded", lambda s: load_parcel(s, "DOCK-1", "C-10-1"))
    refusal = _refused(database, "parcels_not_loaded", lambda s: ship(s, shipment_id))
    assert refusal.params == {"parcels": "C-10 #2"}
    with database.write() as s:
        again = load_parcel(s, "DOCK-1", "C-10-2")
        ups = load_parcel(s, "DOCK-1", "C-11-1")  # another carrier: another shipment
        case_loaded = load_parcel(s, "DOCK-2", f"]C100{sscc}")  # the GS1-128 SSCC barcode
    assert again["shipment"]["id"] == shipment_id
    assert ups["shipment"]["id"] != shipment_id
    assert case_loaded["parcel"]["sscc"] == sscc
    with database.write() as s:
        ship(s, shipment_id)
    _refused(database, "shipment_shipped", lambda s: ship(s, shipment_id))
    with database.read() as s:
        shipped = order(s, "C-10")
        assert shipped.status is OrderStatus.SHIPPED
        assert history(s, "C-10")[-1] == (OrderStatus.SHIPPED, "DHL from DOCK-1: C-10-1, C-10-2")
        assert order(s, "C-11").status is OrderStatus.PACKED  # its truck has not left
        out = s.scalars(
            select(Movement).where(Movement.order_id == first, Movement.kind == MovementKind.SHIP)
        ).all()
        assert [(m.quantity, m.from_location_id, m.to_location_id) for m in out] == [
            (2, site.loc["STAGE-1"], None)
        ]
        assert s.get_one(Shipment, shipment_id).status is ShipmentStatus.SHIPPED
        assert {p.status for p in s.scalars(select(Parcel).where(Parcel.order_id == first))} == {
            ParcelStatus.SHIPPED
        }
        assert_consistent(s)


BAR_TEMPLATE = """
name: bar-case
kind: logistic
customer: BAR
size: 4x6
blocks:
  - {type: text, text: "BAR ORDER ${order_number}", size: xlarge}
  - {type: gs1_128, elements: {"00": sscc}, height: 240, module: 4}
"""


def test_a_customer_template_from_config_makes_its_b2b_labels(database, site, tmp_path) -> None:
    from wms.config import ConfigError, label_registry, load_settings

    (tmp_path / "bar.yaml").write_text(BAR_TEMPLATE)
    (tmp_path / "config.yaml").write_text("labels:\n  templates: [bar.yaml]\n")
    settings = load_settings(tmp_path / "config.yaml", env={})
    assert settings.labels.templates == [str(tmp_path / "bar.yaml")]
    context = PackContext(
        CARTONS,
        SCHEME,
        Address("Demo warehouse"),
        "pack-1-zebra",
        label_registry(settings.labels.templates),
    )
    with database.write() as s:
        put_stock(s, site, "TEA", "B1-01", 36)
    order_id = _picked(database, site, "S-20", [("TEA", 12)], kind=OrderKind.B2B, customer="BAR")
    with database.read() as s:
        case = _gtin(s, site, "TEA", 12)
    with database.write() as s:
        scan_unit(s, order_id, case)
    with database.write() as s:
        result = close_parcel(s, order_id, context, carton="M", weight_g=6_000)
    with database.read() as s:
        [drawing] = print_jobs.job_drawings(s.get_one(PrintJob, result.print_job_ids[0]))
    assert drawing.template == "bar-case"
    assert any(getattr(item, "text", "") == "BAR ORDER S-20" for item in drawing.items)

    (tmp_path / "bar.yaml").write_text("name: broken\nkind: logistic\nblocks: [{type: nope}]\n")
    with pytest.raises(ConfigError, match="bar.yaml"):
        load_settings(tmp_path / "config.yaml", env={})
