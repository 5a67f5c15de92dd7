"""The pack station in headless Chromium against a real server and a simulated Zebra: open an
order by a wedge scan, one wrong item refused, every unit verified, close, and the printer
holds the label the server stored."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from devices.printer.simulator import SimulatedZebraPrinter
from tests.e2e.conftest import _free_port, screenshot
from wms.db import Database
from wms.db.schema import Item, ItemGtin, Order, OrderLine, PickTask, PrintJob
from wms.demo import DEMO_LOGINS
from wms.model import OrderKind, OrderStatus, PrintJobState, Role, TaskStatus
from wms.picks import confirm_pick

WAIT_MS = 30_000


@dataclass(frozen=True)
class PackSite:
    """The server, its database, the pack-1 printer and one picked order to pack."""

    url: str
    database_url: str
    printer: SimulatedZebraPrinter
    order: str
    units: list[str]  # one unit GTIN per unit to pack
    wrong: str  # a GTIN of an item that is not in the order
    dock: str  # the dock door the order leaves from


def _pick_one_order(database_url: str) -> tuple[str, list[str], str, str]:
    """Pick in full a released B2C order of plain (not lot-tracked) items, with few units."""
    db = Database(database_url)
    try:
        with db.read() as s:
            candidates = s.scalars(
                select(Order)
                .where(Order.status == OrderStatus.RELEASED, Order.kind == OrderKind.B2C)
                .order_by(Order.id)
            ).all()
            chosen = None
            for candidate in candidates:
                tasks = s.scalars(select(PickTask).where(PickTask.order_id == candidate.id)).all()
                units = sum(line.quantity for line in candidate.lines)
                plain = all(not line.item.lot_tracked for line in candidate.lines)
                ready = tasks and all(
                    t.waits_for_id is None and t.status is TaskStatus.OPEN for t in tasks
                )
                if (
                    plain
                    and ready
                    and units <= 4
                    and all(
                        t.quantity == line.quantity
                        for line in candidate.lines
                        for t in tasks
                        if t.order_line_id == line.id
                    )
                ):
                    chosen = candidate
                    break
            assert chosen is not None, "the demo released no small plain B2C order"
            task_ids = [(t.id, t.quantity) for t in tasks]
            number = chosen.number
        for task_id, quantity in task_ids:
            with db.write() as s:
                confirm_pick(s, task_id, quantity)
        with db.read() as s:
            order = s.scalars(select(Order).where(Order.number == number)).one()
            assert order.status is OrderStatus.PICKED
            units: list[str] = []
            item_ids = set()
            for line in s.scalars(select(OrderLine).where(OrderLine.order_id == order.id)):
                item_ids.add(line.item_id)
                gtin = s.scalars(
                    select(ItemGtin.gtin).where(
                        ItemGtin.item_id == line.item_id, ItemGtin.pack_quantity == 1
                    )
                ).first()
                assert gtin is not None
                units += [gtin] * line.picked_quantity
            wrong = s.scalars(
                select(ItemGtin.gtin)
                .join(Item, Item.id == ItemGtin.item_id)
                .where(ItemGtin.item_id.not_in(item_ids), ItemGtin.pack_quantity == 1)
                .limit(1)
            ).one()
            dock = order.dock or "DOCK-1"
        return number, units, wrong, dock
    finally:
        db.dispose()


@pytest.fixture(scope="module")
def pack_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PackSite]:
    """`wms demo` with pack-1's printer pointed at a simulated Zebra, then `wms serve`."""
    root = tmp_path_factory.mktemp("pack-site")
    with SimulatedZebraPrinter() as printer:
        config = yaml.safe_load(Path("config.yaml").read_text())
        database_url = f"sqlite:///{root / 'demo.sqlite3'}"
        port = _free_port()
        config["database"]["url"] = database_url
        config["server"]["port"] = port
        config["printers"] = [{"name": "pack-1-zebra", "url": printer.url, "station": "pack-1"}]
        for station in config.get("pack_stations", []):
            station.pop("printer", None)
        config_path = root / "config.yaml"
        config_path.write_text(yaml.safe_dump(config))
        wms = [sys.executable, "-m", "web.cli", "--config", str(config_path)]
        env = {k: v for k, v in os.environ.items() if k not in ("WMS_CONFIG", "WMS_DATABASE_URL")}
        subprocess.run(
            [
                *wms,
                "demo",
                "--no-serve",
                "--database",
                database_url,
                "--locations",
                "200",
                "--items",
                "80",
                "--b2c-orders",
                "40",
                "--b2b-orders",
                "2",
            ],
            check=True,
            env=env,
            capture_output=True,
        )
        number, units, wrong, dock = _pick_one_order(database_url)
        log = (root / "server.log").open("w")
        process = subprocess.Popen([*wms, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        import socket

        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    process.kill()
                    raise RuntimeError((root / "server.log").read_text()) from None
                time.sleep(0.1)
        try:
            yield PackSite(
                f"http://127.0.0.1:{port}", database_url, printer, number, units, wrong, dock
            )
        finally:
            process.terminate()
            process.wait(timeout=10)
            log.close()


def _wedge(page, code: str) -> None:
    """Type like a keyboard-wedge scanner: the whole code in a few ms, then Enter."""
    page.keyboard.type(code, delay=3)
    page.keyboard.press("Enter")


def _feedback(page, css: str) -> str:
    page.wait_for_selector(f"#feedback.{css}", timeout=WAIT_MS)
    text = page.locator("#feedback").inner_text()
    page.evaluate("document.getElementById('feedback').className = 'pack-feedback'")
    return text


def test_pack_an_order_with_one_wrong_scan_and_the_printer_gets_its_label(pack_site, page):
    packer = next(x for x in DEMO_LOGINS if x.role == Role.PACKER)
    page.goto(f"{pack_site.url}/login")
    page.fill("#username", packer.username)
    page.fill("#password", packer.password)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/overview$"))
    page.click("text=Pack")
    page.click("text=pack-1")
    page.wait_for_url(re.compile(r".*/pack/pack-1$"))
    page.wait_for_selector("#printer-state[data-state=ready]", timeout=WAIT_MS)

    page.locator("body").click()
    _wedge(page, pack_site.order)
    assert pack_site.order in _feedback(page, "ok")
    assert page.locator("#o-number").inner_text() == pack_site.order

    _wedge(page, pack_site.wrong)
    refusal = _feedback(page, "bad")
    assert refusal.startswith("Wrong item") and pack_site.order in refusal
    screenshot(page, "pack-wrong-item")

    for gtin in pack_site.units:
        _wedge(page, gtin)
        assert "packed" in _feedback(page, "ok")
    assert (
        page.locator("#lines tbody tr.line-done").count() == page.locator("#lines tbody tr").count()
    )
    # Scans typed into the focused code field are taken out of it again: it is left empty.
    assert page.input_value("#manual-code") == ""
    page.fill("#weight", "1200")
    page.click("#close-order")
    assert f"Order {pack_site.order} packed" in _feedback(page, "ok")

    # The label reaches the simulated printer and the screen shows it printed.
    jobs = pack_site.printer.wait_for_jobs(1, timeout=30)
    assert len(jobs) == 1
    page.wait_for_selector("#jobs tr.job-printed", timeout=WAIT_MS)
    assert page.locator("#labels-pdf").is_visible()
    screenshot(page, "pack-closed")
    db = Database(pack_site.database_url)
    try:
        with db.read() as s:
            order = s.scalars(select(Order).where(Order.number == pack_site.order)).one()
            assert order.status is OrderStatus.PACKED
            job = s.scalars(select(PrintJob).where(PrintJob.order_id == order.id)).one()
            assert job.state is PrintJobState.PRINTED
            assert jobs[0].data == job.zpl
            assert pack_site.order.encode() in job.zpl
    finally:
        db.dispose()

    # At the dock: the parcel label is scanned onto the truck, which then leaves.
    page.goto(f"{pack_site.url}/pack/dock/{pack_site.dock}")
    page.locator("body").click()
    _wedge(page, f"{pack_site.order}-1")
    assert "loaded" in _feedback(page, "ok")
    page.click("#shipments button")
    assert "shipped" in _feedback(page, "ok")
    screenshot(page, "pack-dock-shipped")
    db = Database(pack_site.database_url)
    try:
        with db.read() as s:
            order = s.scalars(select(Order).where(Order.number == pack_site.order)).one()
            assert order.status is OrderStatus.SHIPPED
    finally:
        db.dispose()


def test_a_printer_out_of_paper_turns_red_on_the_dashboard(pack_site, browser):
    supervisor = next(x for x in DEMO_LOGINS if x.role == Role.SUPERVISOR)
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    page = context.new_page()
    try:
        page.goto(f"{pack_site.url}/login")
        page.fill("#username", supervisor.username)
        page.fill("#password", supervisor.password)
        page.click("button[type=submit]")
        page.goto(f"{pack_site.url}/dashboard")
        printer = page.locator('li[data-printer="pack-1-zebra"]')
        page.wait_for_selector(
            'li[data-printer="pack-1-zebra"][data-printer-state="ready"]', timeout=WAIT_MS
        )
        assert "state-ok" in (printer.get_attribute("class") or "")
        pack_site.printer.set_paper_out()
        try:
            # The spooler asks the printer (~HS) every few seconds; the board shows what it saw.
            page.wait_for_selector(
                'li[data-printer="pack-1-zebra"].state-device_fault', timeout=WAIT_MS
            )
            assert printer.get_attribute("data-printer-state") == "paper_out"
            screenshot(page, "dashboard-printer-paper-out")
        finally:
            pack_site.printer.ready()
        page.wait_for_selector('li[data-printer="pack-1-zebra"].state-ok', timeout=WAIT_MS)
    finally:
        context.close()
