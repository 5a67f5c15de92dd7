"""The supervisor's floor dashboard in headless Chromium, beside a handheld in a second context:
a pick confirmed on the handheld shows on the dashboard, and a reassignment made on the
dashboard reaches the handheld."""

from __future__ import annotations

import re
import time

from sqlalchemy import select

from tests.e2e.conftest import screenshot
from wms.access import NewUser, create_user
from wms.db import Database
from wms.db.schema import AuditLog, BatchOrder, Item, ItemGtin, Order, PickBatch, User
from wms.demo import DEMO_LOGINS
from wms.model import BatchStatus, Role
from wms.picks import cancel_order

BADGE = "E2E-DASH-01"


def _wedge(page, code: str) -> None:
    page.keyboard.type(code, delay=3)
    page.keyboard.press("Enter")


def _feedback(page, result: str) -> str:
    page.wait_for_function(
        f"document.getElementById('feedback').dataset.result === '{result}'", timeout=30_000
    )
    text = page.locator("#feedback").inner_text()
    page.evaluate("document.getElementById('feedback').dataset.result = ''")
    return text


def _gtin(db: Database, sku: str) -> str:
    with db.read() as session:
        gtin = session.scalar(
            select(ItemGtin.gtin)
            .join(Item, Item.id == ItemGtin.item_id)
            .where(Item.sku == sku, ItemGtin.pack_quantity == 1)
            .limit(1)
        )
    assert gtin is not None
    return gtin


ACTIVE = (BatchStatus.ASSIGNED, BatchStatus.IN_PROGRESS)


def _cart_of(db: Database) -> str:
    with db.read() as session:
        code = session.scalar(
            select(PickBatch.code)
            .join(User, User.id == PickBatch.picker_id)
            .where(User.badge == BADGE, PickBatch.status.in_(ACTIVE))
        )
    assert code is not None
    return code


def test_the_dashboard_follows_the_floor_and_steers_it(live_server, browser):
    db = Database(live_server.database_url)
    try:
        with db.write() as session:
            if session.scalar(select(User.id).where(User.badge == BADGE)) is None:
                create_user(session, NewUser("e2edash", "Dana Dash", Role.PICKER, None, BADGE))

        # The supervisor's screen: a laptop-sized window.
        boss = next(x for x in DEMO_LOGINS if x.role == Role.SUPERVISOR)
        office = browser.new_context(viewport={"width": 1600, "height": 1000})
        board = office.new_page()
        board.goto(f"{live_server.url}/login")
        board.fill("input[name=username]", boss.username)
        board.fill("input[name=password]", boss.password)
        board.click("button[type=submit]")
        board.goto(f"{live_server.url}/dashboard")
        board.locator("#live-state.live-on").wait_for(timeout=30_000)
        board.locator('#pickers tr[data-picker="e2edash"]').wait_for(timeout=30_000)

        # Release the next planned wave from the dashboard, so that this test adds the cart it
        # takes to the floor (the other browser tests share this server and its carts).
        answers: list[str] = []
        board.on("dialog", lambda dialog: dialog.accept(answers.pop(0)))
        answers.append("e2e: more work for the floor")
        planned = board.locator("#waves tr", has=board.get_by_role("button", name="Release"))
        planned.first.get_by_role("button", name="Release").click()
        board.locator("#action-result.ok").wait_for(timeout=30_000)
        board.evaluate("document.getElementById('action-result').className = 'hint'")

        # The handheld: badge in, take a cart; the dashboard shows it on the picker's row.
        floor = browser.new_context(viewport={"width": 360, "height": 740}, has_touch=True)
        hand = floor.new_page()
        hand.goto(f"{live_server.url}/badge")
        _wedge(hand, BADGE)
        hand.wait_for_url(re.compile(r".*/handheld$"))
        hand.locator("#conn.live-on").wait_for()
        hand.click("#take")
        hand.wait_for_function("document.getElementById('app').dataset.state !== 'idle'")
        row = board.locator('#pickers tr[data-picker="e2edash"]')
        code = _cart_of(db)
        board.wait_for_function(
            "(code) => document.querySelector('#pickers tr[data-picker=\"e2edash\"]')"
            ".textContent.includes(code)",
            arg=code,
            timeout=30_000,
        )

        # Reassign the cart back to the pool from the dashboard: two prompts, then the push
        # reaches the handheld, which goes idle.
        answers.extend(["", "e2e: Dana goes to receiving"])
        row.get_by_role("button", name="Reassign").click()
        board.locator("#action-result.ok").wait_for(timeout=30_000)
        hand.wait_for_function(
            "document.getElementById('app').dataset.state === 'idle'", timeout=30_000
        )
        board.locator("#audit li", has_text="reassign batch").first.wait_for(timeout=30_000)
        with db.read() as session:
            entries = session.scalars(select(AuditLog).order_by(AuditLog.id.desc()).limit(2))
            reassigned, released = entries
        assert (reassigned.username, reassigned.action, reassigned.target, reassigned.reason) == (
            boss.username,
            "reassign_batch",
            f"batch:{code}",
            "e2e: Dana goes to receiving",
        )
        assert (released.action, released.reason) == (
            "release_wave",
            "e2e: more work for the floor",
        )
        assert released.target.startswith("wave:W")

        # Take a cart again, start it, pick the first task: the dashboard's ticker shows it.
        hand.click("#take")
        hand.wait_for_function("document.getElementById('app').dataset.state !== 'idle'")
        position = 0
        while hand.evaluate("document.getElementById('app').dataset.state") == "tote_start":
            position += 1
            _wedge(hand, f"TOTE-DASH-{position:02d}")
            _feedback(hand, "ok")
        location = hand.locator("#t-location").inner_text()
        _wedge(hand, location)
        _feedback(hand, "ok")
        sku = hand.locator("#t-desc").inner_text().split(" ")[0]
        for _ in range(int(hand.locator("#t-qty").inner_text())):
            _wedge(hand, _gtin(db, sku))
            _feedback(hand, "ok")
        tote = int(hand.locator("#t-tote").inner_text())
        _wedge(hand, f"TOTE-DASH-{tote:02d}")
        assert "Picked" in _feedback(hand, "ok")
        confirmed = time.monotonic()
        ticker = board.locator("#pick-ticker li", has_text=f"e2edash {location}")
        ticker.first.wait_for(timeout=30_000)
        shown_after = time.monotonic() - confirmed
        print(f"pick shown on the dashboard {shown_after:.2f} s after the handheld's answer")
        # The panels and KPIs follow within their throttle: the picker's picks in the last hour.
        board.wait_for_function(
            "document.querySelector('#pickers tr[data-picker=\"e2edash\"] td:nth-child(5)')"
            ".textContent === '1'",
            timeout=30_000,
        )
        screenshot(board, "dashboard")
        office.close()
        floor.close()
        # A cart left half-picked would stay on the floor for the tests that follow on this
        # server: cancel its orders (their open picks go with them).
        with db.write() as session:
            for order in session.scalars(
                select(Order)
                .join(BatchOrder, BatchOrder.order_id == Order.id)
                .join(PickBatch, PickBatch.id == BatchOrder.batch_id)
                .join(User, User.id == PickBatch.picker_id)
                .where(User.badge == BADGE, PickBatch.status.in_(ACTIVE))
            ):
                cancel_order(session, order, reason="e2e dashboard test: cart left half-picked")
    finally:
        db.dispose()
