"""The screens in headless Chromium against a real server on a demo warehouse."""

from __future__ import annotations

import re

from sqlalchemy import text

from tests.e2e.conftest import screenshot
from wms.db import Database
from wms.demo import DEMO_LOGINS
from wms.model import OrderKind, Role
from wms.orders import NewOrder, NewOrderLine, create_order


def _login_of(role: Role, language: str | None = None):
    return next(
        login
        for login in DEMO_LOGINS
        if login.role == role and (language is None or login.language == language)
    )


def test_badge_scan_as_a_wedge_burst_signs_a_picker_in(live_server, page):
    picker = _login_of(Role.PICKER, "en")
    page.set_viewport_size({"width": 360, "height": 740})  # a 5-inch handheld
    page.goto(f"{live_server.url}/badge")
    # A wedge scanner types the whole badge within milliseconds, then presses Enter.
    page.keyboard.type(picker.badge, delay=4)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/handheld$"))
    assert picker.display_name in page.get_by_role("heading").inner_text()
    screenshot(page, "handheld-home")


def test_an_unknown_badge_is_refused_on_screen(live_server, page):
    page.goto(f"{live_server.url}/badge")
    page.keyboard.type("BADGE-9999", delay=4)
    page.keyboard.press("Enter")
    alert = page.get_by_role("alert")
    assert "not known" in alert.inner_text()
    assert page.url.endswith("/badge")
    screenshot(page, "badge-refused")


def test_a_french_picker_gets_french(live_server, page):
    picker = _login_of(Role.PICKER, "fr")
    page.goto(f"{live_server.url}/badge")
    page.keyboard.type(picker.badge, delay=4)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/handheld$"))
    assert "Chariot suivant" in page.content()


def test_supervisor_overview_is_live(live_server, page):
    supervisor = _login_of(Role.SUPERVISOR)
    page.goto(f"{live_server.url}/login")
    page.fill("#username", supervisor.username)
    page.fill("#password", supervisor.password)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/overview$"))
    live = page.locator("#live-state")
    live.filter(has_text="live").wait_for()
    page.wait_for_function("document.getElementById('live-state').className.includes('live-on')")
    orders = page.locator('[data-figure="orders"]')
    before = int(orders.inner_text().replace(",", ""))
    assert before == 44  # 40 B2C + 4 B2B from the demo the fixture built
    screenshot(page, "overview")

    # An order arrives from elsewhere: the open screen updates without a reload.
    db = Database(live_server.database_url)
    with db.write() as session:
        sku = session.execute(text("SELECT sku FROM item LIMIT 1")).scalar_one()
        create_order(session, NewOrder("E2E-1", OrderKind.B2C, [NewOrderLine(sku, 1)]))
    db.dispose()
    page.wait_for_function(
        "document.querySelector('[data-figure=\"orders\"]').textContent.replace(',', '') == '45'",
        timeout=30_000,
    )
