"""The virtual light panel in Chromium against `wms demo` with its simulated devices."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from .conftest import LiveServer, _free_port, screenshot

WAIT_MS = 30_000


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """`wms demo` (serving): a small demo warehouse with its simulated light buses and printer."""
    root = tmp_path_factory.mktemp("lights-site")
    config = yaml.safe_load(Path("config.yaml").read_text())
    database_url = f"sqlite:///{root / 'demo.sqlite3'}"
    port = _free_port()
    config["server"]["port"] = port
    config_path = root / "config.yaml"
    config_path.write_text(yaml.safe_dump(config))
    env = {k: v for k, v in os.environ.items() if k not in ("WMS_CONFIG", "WMS_DATABASE_URL")}
    log = (root / "server.log").open("w")
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "web.cli", "--config", str(config_path), "demo"),
            *("--database", database_url, "--locations", "200", "--items", "80"),
            *("--b2c-orders", "40", "--b2b-orders", "4"),
            "--no-simulate",  # a person presses here; the simulator's presses are tested apart
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 120
    while "devices.ptl.driver PTL bus demo-ptl-p" not in (root / "server.log").read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError((root / "server.log").read_text())
        time.sleep(0.2)
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", config_path, database_url)
    finally:
        process.terminate()
        try:
            # The demo stops its floor simulator (up to 15 s) before it exits.
            process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()


def _light_picks(database_url: str) -> list[tuple[str, str]]:
    path = database_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        return db.execute(
            "SELECT scan_event.id, scan_event.outcome FROM scan_event "
            "JOIN movement ON movement.scan_id = scan_event.id "
            "WHERE scan_event.kind = 'light' AND movement.kind = 'pick'"
        ).fetchall()


def test_clicking_a_lit_light_confirms_the_pick(demo_server: LiveServer, page) -> None:
    page.goto(f"{demo_server.url}/login")
    page.fill("input[name=username]", "super")
    page.fill("input[name=password]", "super-demo")
    page.click("button[type=submit]")
    page.goto(f"{demo_server.url}/lights")
    page.wait_for_selector("#live-state.live-on", timeout=WAIT_MS)
    lit = page.locator('.ptl-light[data-device="demo-ptl-p"][data-lit="true"]').first
    lit.wait_for(timeout=WAIT_MS)
    location = lit.get_attribute("data-location")
    assert location and location != "P-DONE"
    quantity = lit.locator(".ptl-qty").inner_text()
    assert int(quantity) >= 1
    assert "light-green" in (lit.get_attribute("class") or "")
    screenshot(page, "lights-before-press")
    lit.click()
    # The press travels to the simulator, the driver reads it, the pick is confirmed, and the
    # light goes dark on the page over Socket.IO.
    button = page.locator(f'.ptl-light[data-device="demo-ptl-p"][data-location="{location}"]')
    page.wait_for_function(
        "el => el.dataset.lit === 'false'", arg=button.element_handle(), timeout=WAIT_MS
    )
    page.wait_for_selector(".ptl-feedback.ok", timeout=WAIT_MS)
    assert quantity in page.inner_text("#press-feedback")
    screenshot(page, "lights-after-press")
    deadline = time.monotonic() + 30
    while not _light_picks(demo_server.database_url) and time.monotonic() < deadline:
        time.sleep(0.2)
    picks = _light_picks(demo_server.database_url)
    assert len(picks) == 1 and picks[0][1] == "accepted"


def test_the_device_page_shows_every_demo_device(demo_server: LiveServer, page) -> None:
    page.goto(f"{demo_server.url}/login")
    page.fill("input[name=username]", "super")
    page.fill("input[name=password]", "super-demo")
    page.click("button[type=submit]")
    page.goto(f"{demo_server.url}/devices")
    for name in ("demo-ptl-p", "demo-put-wall", "demo-scanner-pack-1"):
        card = page.locator(f"#device-{name}")
        card.wait_for(timeout=WAIT_MS)
        assert "online" in card.locator('[data-field="label"]').inner_text()
    page.wait_for_selector("#live-state.live-on", timeout=WAIT_MS)
    screenshot(page, "devices")


def test_the_put_wall_screen_answers_a_scan(demo_server: LiveServer, page) -> None:
    page.goto(f"{demo_server.url}/login")
    page.fill("input[name=username]", "super")
    page.fill("input[name=password]", "super-demo")
    page.click("button[type=submit]")
    page.goto(f"{demo_server.url}/lights")
    form = page.locator('.ptl-wall-scan[data-device="demo-put-wall"]')
    form.locator("input[name=code]").fill("NO-SUCH-TOTE")
    form.locator("button[type=submit]").click()
    message = page.locator('.ptl-wall-msg[data-wall="demo-put-wall"]')
    page.wait_for_selector('.ptl-wall-msg[data-wall="demo-put-wall"].bad', timeout=WAIT_MS)
    assert message.inner_text() == "NO-SUCH-TOTE is neither a batch nor a tote."


def test_the_floor_simulator_presses_lit_lights(demo_server: LiveServer) -> None:
    """`wms simulate`'s light picker reads the panel and presses a lit light like a person."""
    import random

    from web.simulate import Supervisor

    supervisor = Supervisor(demo_server.url, "super", "super-demo")
    before = len(_light_picks(demo_server.database_url))
    rng = random.Random(1)
    deadline = time.monotonic() + 45
    presses = 0
    # A press on a pick light picks; one on the order-complete light passes the tote on, and
    # the next tote's picks light: keep pressing, as the simulator does, until one is picked.
    while len(_light_picks(demo_server.database_url)) == before:
        assert time.monotonic() < deadline, f"no light pick after {presses} presses"
        presses += supervisor.press_lit_lights(rng)
        time.sleep(0.5)
    assert presses >= 1
