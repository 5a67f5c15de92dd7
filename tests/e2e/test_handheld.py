"""The picker's handheld in headless Chromium against a real server: wedge scans, a wrong
item, and a scan made offline that survives closing the tab."""

from __future__ import annotations

import re

from sqlalchemy import select

from tests.e2e.conftest import screenshot
from wms.db import Database
from wms.db.schema import Item, ItemGtin, Location, PickTask
from wms.demo import DEMO_LOGINS
from wms.model import Role


def _wedge(page, code: str) -> None:
    """Type like a keyboard-wedge scanner: the whole code in a few ms, then Enter."""
    page.keyboard.type(code, delay=3)
    page.keyboard.press("Enter")


def _gtin(db_url: str, sku: str, other: bool = False) -> str:
    db = Database(db_url)
    try:
        with db.read() as session:
            item_id = session.scalar(select(Item.id).where(Item.sku == sku))
            condition = ItemGtin.item_id != item_id if other else ItemGtin.item_id == item_id
            return session.scalar(
                select(ItemGtin.gtin).where(condition, ItemGtin.pack_quantity == 1).limit(1)
            )
    finally:
        db.dispose()


def _feedback(page, result: str) -> str:
    page.wait_for_function(
        f"document.getElementById('feedback').dataset.result === '{result}'", timeout=30_000
    )
    text = page.locator("#feedback").inner_text()
    page.evaluate("document.getElementById('feedback').dataset.result = ''")
    return text


def test_a_picker_picks_with_wedge_scans_and_loses_nothing_offline(live_server, browser):
    picker = next(x for x in DEMO_LOGINS if x.role == Role.PICKER and x.language == "en")
    context = browser.new_context(viewport={"width": 360, "height": 740}, has_touch=True)
    page = context.new_page()
    page.goto(f"{live_server.url}/badge")
    _wedge(page, picker.badge)
    page.wait_for_url(re.compile(r".*/handheld$"))
    page.locator("#conn.live-on").wait_for()
    page.click("#take")
    page.wait_for_function("document.getElementById('app').dataset.state !== 'idle'")

    # Start the cart: one empty tote per order.
    position = 0
    while page.evaluate("document.getElementById('app').dataset.state") == "tote_start":
        position += 1
        _wedge(page, f"TOTE-E2E-{position:02d}")
        assert "TOTE-E2E" in _feedback(page, "ok")
    screenshot(page, "handheld-task")

    # A wrong item is refused, said in words, and the task does not move.
    location = page.locator("#t-location").inner_text()
    _wedge(page, location)
    assert "confirmed" in _feedback(page, "ok")
    sku = page.locator("#t-desc").inner_text().split(" ")[0]
    _wedge(page, _gtin(live_server.database_url, sku, other=True))
    assert "Wrong item" in _feedback(page, "bad")
    screenshot(page, "handheld-wrong-item")

    # The right item, as many as asked, then the tote: picked. Then the rest of the cart,
    # all but the last pick, which is scanned offline below.
    def pick_current() -> None:
        sku = page.locator("#t-desc").inner_text().split(" ")[0]
        for _ in range(int(page.locator("#t-qty").inner_text())):
            _wedge(page, _gtin(live_server.database_url, sku))
            _feedback(page, "ok")
        tote = int(page.locator("#t-tote").inner_text())
        _wedge(page, f"TOTE-E2E-{tote:02d}")
        assert "Picked" in _feedback(page, "ok")

    pick_current()
    while True:
        done, total = (int(x) for x in page.locator("#progress").inner_text().split(" / "))
        if total - done <= 1:
            break
        _wedge(page, page.locator("#t-location").inner_text())
        _feedback(page, "ok")
        pick_current()
    assert total - done == 1, "the cart needs at least two picks for the offline part"

    # Offline: the next location scan is kept in the browser, shown as waiting...
    next_location = page.locator("#t-location").inner_text()
    context.set_offline(True)
    page.locator("#conn.live-off").wait_for()
    _wedge(page, next_location)
    page.locator("#pending:not([hidden])").wait_for()
    assert "1" in page.locator("#pending").inner_text()
    screenshot(page, "handheld-offline")
    page.close()  # ...and survives the tab being closed

    context.set_offline(False)
    page = context.new_page()
    page.goto(f"{live_server.url}/handheld")
    page.wait_for_function("document.getElementById('pending').hidden === true", timeout=30_000)
    page.wait_for_function("document.getElementById('app').dataset.state === 'item'")
    assert "confirmed" in _feedback(page, "ok")  # the answer to the scan kept offline
    db = Database(live_server.database_url)
    try:
        with db.read() as session:
            confirmed = session.scalar(
                select(PickTask.location_confirmed)
                .join(Location, PickTask.location_id == Location.id)
                .where(Location.code == next_location, PickTask.status == "open")
                .limit(1)
            )
        assert confirmed is True
    finally:
        db.dispose()
    # Back online, the last pick of the cart is finished: the whole cluster batch is picked.
    page.locator("#conn.live-on").wait_for()
    sku = page.locator("#t-desc").inner_text().split(" ")[0]
    for _ in range(int(page.locator("#t-qty").inner_text())):
        _wedge(page, _gtin(live_server.database_url, sku))
        _feedback(page, "ok")
    tote = int(page.locator("#t-tote").inner_text())
    _wedge(page, f"TOTE-E2E-{tote:02d}")
    assert "Picked" in _feedback(page, "ok")
    page.wait_for_function("document.getElementById('app').dataset.state === 'idle'")
    context.close()


def test_a_supervisor_reassigning_the_cart_reaches_the_handheld_live(live_server, browser):
    picker = next(x for x in DEMO_LOGINS if x.role == Role.PICKER and x.username == "picker4")
    boss = next(x for x in DEMO_LOGINS if x.role == Role.SUPERVISOR)
    handheld = browser.new_context(viewport={"width": 360, "height": 740})
    page = handheld.new_page()
    page.goto(f"{live_server.url}/badge")
    _wedge(page, picker.badge)
    page.wait_for_url(re.compile(r".*/handheld$"))
    page.locator("#conn.live-on").wait_for()
    page.click("#take")
    page.wait_for_function("document.getElementById('app').dataset.state !== 'idle'")
    code = page.locator("#batch-code").inner_text()
    assert code.startswith("B")

    office = browser.new_context()
    desk = office.new_page()
    desk.goto(f"{live_server.url}/login")
    desk.fill("#username", boss.username)
    desk.fill("#password", boss.password)
    desk.click("button[type=submit]")
    desk.wait_for_url(re.compile(r".*/overview$"))
    token = desk.locator("input[name=csrf_token]").first.get_attribute("value")
    status = desk.evaluate(
        """([code, token]) => fetch(`/api/v1/batches/${code}/reassign`, {
               method: "POST",
               headers: {"Content-Type": "application/json", "X-CSRFToken": token},
               body: JSON.stringify({picker: null})}).then(r => r.status)""",
        [code, token],
    )
    assert status == 200
    # The picker's screen drops the cart by itself, without a reload.
    page.wait_for_function(
        "document.getElementById('app').dataset.state === 'idle'", timeout=30_000
    )
    assert page.locator("#batch-code").inner_text() == ""
    screenshot(page, "handheld-reassigned")
    office.close()
    handheld.close()
