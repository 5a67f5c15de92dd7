"""The pack screen and the packing, print job and shipping API on a real app and printer."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from devices.printer.simulator import SimulatedZebraPrinter
from tests.labels.decoding import decode, pdf_pages
from tests.web.conftest import PASSWORD
from tests.wms.order_flow_site import NOW, TODAY, build_site, new_order, order
from web import create_app
from web.spooler import get_spooler
from wms.access import NewUser, create_user
from wms.allocation import allocate_orders
from wms.catalog import NewLocation, create_location
from wms.config import parse_settings
from wms.db import Database
from wms.db.ledger import receive
from wms.db.schema import Item, ItemGtin, Location, PickTask, PrintJob
from wms.model import LocationType, OrderStatus, PrintJobState, Role, TaskStatus
from wms.picks import confirm_pick
from wms.release import release_orders

WAIT_S = 30.0


@pytest.fixture
def printer() -> Iterator[SimulatedZebraPrinter]:
    with SimulatedZebraPrinter() as sim:
        yield sim


@pytest.fixture
def app(database: Database, tmp_path, printer: SimulatedZebraPrinter) -> Iterator[Flask]:
    """The app with pack station pack-1, its simulated Zebra, cartons and the test site."""
    settings = parse_settings(
        {
            "site_name": "Test warehouse",
            "database": {"url": database.url},
            "printers": [{"name": "pack-1-zebra", "url": printer.url, "station": "pack-1"}],
            "cartons": [
                {
                    "code": "S",
                    "name": "Small",
                    "length_mm": 250,
                    "width_mm": 180,
                    "height_mm": 100,
                    "max_weight_g": 5000,
                }
            ],
            "pack_stations": [{"name": "pack-1", "location": "PACK-1"}],
        }
    )
    build_site(database)
    with database.write() as session:
        create_location(session, NewLocation("DOCK-1", "S", LocationType.DOCK))
        for role in Role:
            create_user(
                session,
                NewUser(
                    username=role.value,
                    display_name=f"Test {role.value}",
                    role=role,
                    password=PASSWORD,
                    language="fr" if role is Role.PACKER else "en",
                ),
            )
    application = create_app(
        settings, instance_dir=tmp_path / "var", database=database, testing=True
    )
    spooler = get_spooler(application)
    spooler.start()
    yield application
    spooler.stop()


FACES = {"MUG": "A1-01", "PEN": "A1-02", "ITEM-01": "A1-03"}


def _picked_order(database: Database, number: str, lines) -> dict[str, str]:
    """A B2C order picked in full; the unit GTINs of MUG, PEN and ITEM-01."""
    with database.write() as s:
        for sku, quantity in lines:
            receive(
                s,
                item_id=s.scalars(select(Item.id).where(Item.sku == sku)).one(),
                location_id=s.scalars(select(Location.id).where(Location.code == FACES[sku])).one(),
                quantity=quantity + 5,
            )
        new_order(s, number, lines, carrier="DHL")
        orders = [order(s, number)]
        allocate_orders(s, orders, today=TODAY)
        release_orders(s, orders, now=NOW)
        order_id = orders[0].id
    with database.read() as s:
        tasks = s.scalars(
            select(PickTask).where(
                PickTask.order_id == order_id, PickTask.status == TaskStatus.OPEN
            )
        ).all()
    for task in tasks:
        with database.write() as s:
            confirm_pick(s, task.id, task.quantity, now=NOW)
    with database.read() as s:
        assert order(s, number).status is OrderStatus.PICKED
        return {
            sku: s.scalars(
                select(ItemGtin.gtin)
                .join(Item, Item.id == ItemGtin.item_id)
                .where(Item.sku == sku, ItemGtin.pack_quantity == 1)
            ).one()
            for sku in FACES
        }


def _csrf(client: FlaskClient) -> str:
    page = client.get("/pack/pack-1").get_data(as_text=True)
    match = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert match
    return match.group(1)


def _post(client: FlaskClient, path: str, token: str, body: dict | None = None):
    return client.post(
        f"/api/v1{path}", json=body if body is not None else {}, headers={"X-CSRFToken": token}
    )


def _wait_printed(database: Database, job_ids: list[int]) -> None:
    deadline = time.monotonic() + WAIT_S
    while True:
        with database.read() as s:
            states = [s.get_one(PrintJob, i).state for i in job_ids]
        if all(state is PrintJobState.PRINTED for state in states):
            return
        assert time.monotonic() < deadline, states
        time.sleep(0.05)


def test_the_pack_page_is_not_for_pickers(login, client, app) -> None:
    login(Role.PICKER)
    assert client.get("/pack/pack-1").status_code == 403
    assert client.get("/api/v1/pack/stations/pack-1").status_code == 403


def test_the_pack_page_renders_in_french_for_the_packer(login, client, app) -> None:
    login(Role.PACKER)
    page = client.get("/pack/pack-1")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "pack-1-zebra" in text
    assert "Poste d’emballage" in text or "Poste d'emballage" in text
    assert client.get("/pack/nowhere").status_code == 404
    dock = client.get("/pack/dock/DOCK-1")
    assert dock.status_code == 200 and "Quai DOCK-1" in dock.get_data(as_text=True)
    assert client.get("/pack/dock/PACK-1").status_code == 404  # not a dock door
    stations = client.get("/pack").get_data(as_text=True)
    # The printer's state, in French: ready once the sender has asked it, unknown before.
    assert re.search(r"pack-1-zebra: (prête|inconnu)", stations), stations


def test_pack_an_order_through_the_api_and_the_label_reaches_the_printer(
    login, client, app, database: Database, printer: SimulatedZebraPrinter
) -> None:
    gtins = _picked_order(database, "C-1", [("MUG", 2), ("PEN", 1)])
    login(Role.PACKER)
    token = _csrf(client)
    opened = _post(client, "/pack/stations/pack-1/open", token, {"scan": "C-1"})
    assert opened.status_code == 200, opened.get_json()
    assert [(line["sku"], line["remaining"]) for line in opened.get_json()["lines"]] == [
        ("MUG", 2),
        ("PEN", 1),
    ]
    assert opened.get_json()["suggested_carton"] == "S"
    wrong = _post(client, "/pack/orders/C-1/scan", token, {"scan": gtins["ITEM-01"]})
    assert wrong.status_code == 422
    body = wrong.get_json()
    assert body["reason"] == "wrong_item"
    assert "ITEM-01" in body["message"] and "Mauvais article" in body["message"]
    for sku in ("MUG", "MUG", "PEN"):
        answer = _post(
            client, "/pack/orders/C-1/scan", token, {"scan": gtins[sku], "station": "pack-1"}
        )
        assert answer.status_code == 200, answer.get_json()
    # One unit taken back out of the open parcel and scanned again.
    parcel = answer.get_json()["parcels"][0]
    mug_row = next(c for c in parcel["contents"] if c["sku"] == "MUG")
    taken_out = _post(client, f"/pack/orders/C-1/contents/{mug_row['id']}/remove", token)
    assert [line["remaining"] for line in taken_out.get_json()["lines"]] == [2, 0]
    for _ in range(2):
        assert (
            _post(client, "/pack/orders/C-1/scan", token, {"scan": gtins["MUG"]}).status_code == 200
        )
    bad_weight = _post(
        client, "/pack/orders/C-1/close", token, {"carton": "S", "weight_g": "heavy"}
    )
    assert bad_weight.status_code == 422 and "weight_g" in str(bad_weight.get_json())
    closed = _post(
        client,
        "/pack/orders/C-1/close",
        token,
        {"carton": "S", "weight_g": 900, "station": "pack-1"},
    )
    assert closed.status_code == 200, closed.get_json()
    data = closed.get_json()
    assert data["status"] == "packed" and data["close"]["order_packed"]
    [job_id] = data["close"]["print_job_ids"]
    _wait_printed(database, [job_id])
    with database.read() as s:
        job = s.get_one(PrintJob, job_id)
        assert [received.data for received in printer.jobs] == [job.zpl]
    station = client.get("/api/v1/pack/stations/pack-1").get_json()
    assert station["printer"]["state"] == "ready"
    assert station["print_jobs"][0]["state"] == "printed"
    preview = client.get(f"/api/v1/print-jobs/{job_id}/preview.pdf")
    assert preview.status_code == 200 and preview.data.startswith(b"%PDF")
    packing = client.get("/api/v1/pack/orders/C-1/packing-list.pdf")
    assert packing.status_code == 200 and packing.data.startswith(b"%PDF")
    # The same label as PDF, for a site without a Zebra: its barcode reads the tracking number.
    labels_pdf = client.get("/api/v1/pack/orders/C-1/labels.pdf")
    assert labels_pdf.status_code == 200 and labels_pdf.data.startswith(b"%PDF")
    [page] = pdf_pages(labels_pdf.data)
    assert "C-1-1" in {barcode.text for barcode in decode(page)}
    assert client.get("/api/v1/pack/orders/NOPE/labels.pdf").status_code == 404
    assert _post(client, f"/print-jobs/{job_id}/void", token).status_code == 409
    again = _post(client, f"/print-jobs/{job_id}/reprint", token)
    assert again.status_code == 201
    _wait_printed(database, [again.get_json()["id"]])
    assert [received.data for received in printer.jobs] == [job.zpl, job.zpl]

    # Ship: the parcel label is scanned at the dock, the truck leaves, the API shows tracking.
    parcels = client.get("/api/v1/parcels?order=C-1").get_json()["items"]
    assert [p["tracking_number"] for p in parcels] == ["C-1-1"]
    assert _post(client, "/docks/DOCK-9/load", token, {"scan": "C-1-1"}).get_json()["reason"] == (
        "unknown_dock"
    )
    loaded = _post(client, "/docks/DOCK-1/load", token, {"scan": "C-1-1"})
    assert loaded.status_code == 200, loaded.get_json()
    shipment = loaded.get_json()["shipment"]
    assert (shipment["carrier"], shipment["dock"]) == ("DHL", "DOCK-1")
    twice = _post(client, "/docks/DOCK-1/load", token, {"scan": "C-1-1"})
    assert twice.get_json()["reason"] == "already_loaded"
    at_dock = client.get("/api/v1/shipments?status=open&dock=DOCK-1").get_json()["items"]
    assert [s["id"] for s in at_dock] == [shipment["id"]]
    assert client.get("/api/v1/shipments?dock=DOCK-2").get_json()["items"] == []
    shipped = _post(client, f"/shipments/{shipment['id']}/ship", token)
    assert shipped.status_code == 200, shipped.get_json()
    listing = client.get("/api/v1/shipments?status=shipped").get_json()["items"]
    assert [(s["id"], [p["tracking_number"] for p in s["parcels"]]) for s in listing] == [
        (shipment["id"], ["C-1-1"])
    ]
    with database.read() as s:
        assert order(s, "C-1").status is OrderStatus.SHIPPED


def test_scans_of_the_station_serial_scanner_reach_its_screen(login, client, app) -> None:
    from devices.scanner.codec import Scan
    from devices.scanner.driver import ScanRead
    from web.pack import station_scans

    login(Role.PACKER)
    scans = station_scans(app)
    scans.scanner_station["pack-1-scanner"] = "pack-1"  # as config.yaml's devices would say
    start = client.get("/api/v1/pack/stations/pack-1/scans?after=0&wait=0").get_json()
    assert start["scans"] == []
    scans.on_event("scan", ScanRead("pack-1-scanner", Scan(raw="C-1", data="C-1")))
    scans.on_event("scan", ScanRead("other-scanner", Scan(raw="X", data="X")))  # not pack-1's
    scans.on_event("health", {"device": "pack-1-scanner"})
    answer = client.get(f"/api/v1/pack/stations/pack-1/scans?after={start['last']}&wait=5")
    assert answer.get_json()["scans"] == [{"seq": start["last"] + 1, "raw": "C-1"}]
    later = client.get(
        f"/api/v1/pack/stations/pack-1/scans?after={answer.get_json()['last']}&wait=0.2"
    )
    assert later.get_json()["scans"] == []
    assert client.get("/api/v1/pack/stations/pack-1/scans?wait=99").status_code == 422


def test_a_station_takes_the_scanners_config_gives_it() -> None:
    from web.pack import station_has_scanner, station_scans

    settings = parse_settings(
        {
            "devices": [
                {
                    "name": "s1",
                    "kind": "scanner",
                    "driver": "serial-line",
                    "url": "loop://",
                    "station": "pack-1",
                },
                {"name": "s2", "kind": "scanner", "driver": "serial-line", "url": "loop://"},
                {
                    "name": "s3",
                    "kind": "scanner",
                    "driver": "serial-line",
                    "url": "loop://",
                    "station": "put-wall-1",
                },
            ],
            "pack_stations": [
                {"name": "pack-1", "location": "PACK-1"},
                {"name": "pack-2", "location": "PACK-2", "scanner": "s2"},
                {"name": "pack-3", "location": "PACK-3"},
            ],
        }
    )
    bare = Flask(__name__)
    bare.extensions["wms_settings"] = settings
    assert station_scans(bare).scanner_station == {"s1": "pack-1", "s2": "pack-2"}
    assert [station_has_scanner(settings, f"pack-{n}") for n in (1, 2, 3)] == [True, True, False]
