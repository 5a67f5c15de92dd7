"""Pick-to-light zones end to end: the real driver against the simulator over socket://, a real
database (SQLite and PostgreSQL), presses confirming picks through the domain."""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from devices.ptl.codec import Button as DeviceButton
from devices.ptl.codec import LightAddress
from devices.ptl.driver import ButtonPressed
from web import create_app
from web.extensions import socketio
from web.floor_devices import (
    DeviceSetupError,
    FloorDevices,
    get_floor_devices,
    simulated_devices,
)
from wms.access import NewUser, create_user
from wms.allocation import allocate_orders
from wms.config import ConfigError, Settings, parse_settings
from wms.db import Database
from wms.db.schema import (
    FloorException,
    ItemGtin,
    Movement,
    Order,
    PickBatch,
    PickTask,
    ScanEvent,
)
from wms.model import MovementKind, Role, TaskStatus
from wms.picks import confirm_pick
from wms.release import ReleaseOptions, release_orders

from ..wms.order_flow_site import (
    BACKENDS,
    TODAY,
    fresh_database,
    new_order,
    order,
    put_stock,
    site_of,
    stock_plain_items,
)

LIGHTS = {"L1-01": 1, "L1-02": 2, "L1-03": 3, "L1-04": 4, "L-DONE": 5}
WAIT = 15.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _settings(db: Database) -> Settings:
    return parse_settings(
        {
            "database": {"url": db.url},
            "zones": [{"code": "L", "name": "Lights", "kind": "pick_to_light"}],
            "devices": [
                {
                    "name": "ptl-l",
                    "kind": "ptl_bus",
                    "driver": "generic-ptl-v1",
                    "url": f"socket://127.0.0.1:{_free_port()}",
                    "baudrate": 38400,
                    "zone": "L",
                    "lights": LIGHTS,
                    "order_complete": "L-DONE",
                    "options": {"idle_check": 0.2},
                }
            ],
        }
    )


def _wait(condition: Callable[[], Any], what: str, timeout: float = WAIT) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(params=BACKENDS)
def database(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Database]:
    with fresh_database(request.param, tmp_path) as db:
        yield db


@pytest.fixture
def floor(database: Database, tmp_path: Any) -> Iterator[FloorDevices]:
    """Two light orders released into zone L, the bus and its simulator running."""
    site = site_of(database)
    with database.write() as s:
        put_stock(s, site, "LED", "L1-01", 20)
        put_stock(s, site, "BULB", "L1-02", 20)
        new_order(s, "L-1", [("LED", 2), ("BULB", 1)], priority=5)
        new_order(s, "L-2", [("LED", 3)])
        orders = [order(s, "L-1"), order(s, "L-2")]
        allocate_orders(s, orders, today=TODAY)
        release_orders(s, orders)
        create_user(
            s,
            NewUser(
                username="boss", display_name="Boss", role=Role.SUPERVISOR, password="pw-boss-123"
            ),
        )
    settings = _settings(database)
    app = create_app(settings, instance_dir=tmp_path / "var", database=database, testing=True)
    devices = get_floor_devices(app)
    assert devices is not None and not devices.running  # built with the app, never started
    devices.use_simulators(simulated_devices(settings))
    devices.refresh = 0.1
    devices.app = app  # type: ignore[attr-defined]
    devices.start()
    try:
        yield devices
    finally:
        devices.stop()


def _sim_light(floor: FloorDevices, location: str) -> Any:
    assert floor.simulators is not None
    return floor.simulators.ptl["ptl-l"].light(LIGHTS[location])


def _lit(floor: FloorDevices) -> dict[str, int]:
    return {loc: _sim_light(floor, loc).qty for loc in LIGHTS if _sim_light(floor, loc).lit}


def _tasks(db: Database, number: str) -> dict[str, tuple[TaskStatus, int]]:
    with db.read() as s:
        rows = s.execute(
            select(PickTask.id, PickTask.status, PickTask.picked_quantity)
            .join(Order, PickTask.order_id == Order.id)
            .where(Order.number == number)
        ).all()
    return {str(t): (status, picked) for t, status, picked in rows}


def _sign_in(client: Any, username: str, password: str) -> str:
    """Sign in through the real form; return the CSRF token the pages carry."""
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    response = client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}
    )
    assert response.status_code == 302
    return token


def _press(floor: FloorDevices, location: str, **kwargs: Any) -> None:
    """Press a lit light and wait until the floor thread has handled the press."""
    assert floor.simulators is not None
    handled = floor.presses_handled
    assert floor.simulators.press("ptl-l", location, **kwargs), f"{location} was dark"
    _wait(lambda: floor.presses_handled > handled, f"the press at {location} to be handled")


def test_a_tote_lights_its_picks_and_presses_pick_them_into_the_ledger(floor: FloorDevices):
    db = floor.db
    # The most urgent tote enters the zone: its two picks light with their quantities.
    assert _wait(lambda: _lit(floor) == {"L1-01": 2, "L1-02": 1}, "L-1's picks to light")
    _press(floor, "L1-01")
    _wait(lambda: _lit(floor) == {"L1-02": 1}, "the confirmed light to stay dark")
    _press(floor, "L1-02")
    # Both picked: the zone's order-complete light flashes blue with the units in the tote.
    _wait(lambda: _lit(floor) == {"L-DONE": 3}, "the order-complete light")
    done = _sim_light(floor, "L-DONE")
    assert (done.color.value, done.mode.value) == ("blue", "flash_fast")
    with db.read() as s:
        assert s.scalar(select(Order.status).where(Order.number == "L-1")).value == "picked"
        movements = s.execute(
            select(Movement.quantity, Movement.scan_id).where(Movement.kind == MovementKind.PICK)
        ).all()
        assert sorted(q for q, _ in movements) == [1, 2]
        scans = s.scalars(select(ScanEvent).where(ScanEvent.kind == "light")).all()
        assert {scan.id for scan in scans} == {scan_id for _, scan_id in movements}
        assert {scan.station for scan in scans} == {"ptl-l"}
        assert all(scan.outcome.value == "accepted" for scan in scans)
    assert all(status is TaskStatus.DONE for status, _ in _tasks(db, "L-1").values())
    # Pressing "order complete" passes the tote on; the next tote's pick lights.
    _press(floor, "L-DONE")
    _wait(lambda: _lit(floor) == {"L1-01": 3}, "L-2's pick to light")


def test_a_press_delivered_twice_counts_once(floor: FloorDevices):
    _wait(lambda: "L1-01" in _lit(floor), "L1-01 to light")
    task_id = next(
        int(t) for t, (status, _) in _tasks(floor.db, "L-1").items() if status is TaskStatus.OPEN
    )
    with floor.db.read() as s:
        task = s.get_one(PickTask, task_id)
        location = "L1-01" if task.quantity == 2 else "L1-02"
    press = ButtonPressed(
        "ptl-l",
        location,
        LightAddress(LIGHTS[location]),
        DeviceButton.CONFIRM,
        None,
        sequence=77,
        tag=f"pick:{task_id}",
    )
    before = floor.presses_handled
    floor._events.put(press)  # noqa: SLF001 - the queue the bus thread feeds
    floor._events.put(press)  # noqa: SLF001 - the same press read again after a reconnect
    _wait(lambda: floor.presses_handled >= before + 2, "both copies to be handled")
    with floor.db.read() as s:
        picks = s.scalar(
            select(func.count()).select_from(Movement).where(Movement.scan_id.like("ptl:%:c:77"))
        )
        logged = s.scalar(
            select(func.count()).select_from(ScanEvent).where(ScanEvent.id.like("ptl:%:c:77"))
        )
        assert (picks, logged) == (1, 1)
        assert s.get_one(PickTask, task_id).status is TaskStatus.DONE


def test_a_handheld_confirmation_turns_the_light_off(floor: FloorDevices):
    _wait(lambda: _lit(floor) == {"L1-01": 2, "L1-02": 1}, "L-1's picks to light")
    with floor.db.write() as s:
        task = s.scalar(
            select(PickTask)
            .join(Order, PickTask.order_id == Order.id)
            .where(Order.number == "L-1", PickTask.quantity == 2)
        )
        assert task is not None
        confirm_pick(s, task.id, 2, scan_id="handheld-scan-0001")
    _wait(lambda: _lit(floor) == {"L1-02": 1}, "the light of the handheld pick to go dark")


def test_a_short_key_press_reports_a_short_pick_with_the_keyed_quantity(floor: FloorDevices):
    _wait(lambda: _lit(floor) == {"L1-01": 2, "L1-02": 1}, "L-1's picks to light")
    _press(floor, "L1-01", button=DeviceButton.SHORT, quantity=1)
    _wait(
        lambda: any(status is TaskStatus.SHORT for status, _ in _tasks(floor.db, "L-1").values()),
        "the short pick",
    )
    with floor.db.read() as s:
        exception = s.scalar(select(FloorException))
        assert exception is not None and exception.quantity == 1
        assert "found 1 of 2" in exception.detail
    assert (TaskStatus.SHORT, 1) in _tasks(floor.db, "L-1").values()


def test_a_refused_short_press_relights_the_pick(floor: FloorDevices):
    _wait(lambda: _lit(floor) == {"L1-01": 2, "L1-02": 1}, "L-1's picks to light")
    _press(floor, "L1-01", button=DeviceButton.SHORT, quantity=2)  # all found is no short
    _wait(lambda: _lit(floor).get("L1-01") == 2, "the pick to light again")
    with floor.db.read() as s:
        refused = s.scalar(select(ScanEvent).where(ScanEvent.kind == "light"))
        assert refused is not None and refused.outcome.value == "refused"
        assert refused.reason == "invalid_input"
    assert all(status is TaskStatus.OPEN for status, _ in _tasks(floor.db, "L-1").values())


def test_the_panel_and_health_go_to_a_signed_in_socket(floor: FloorDevices):
    app = floor.app  # type: ignore[attr-defined]
    client = app.test_client()
    token = _sign_in(client, "boss", "pw-boss-123")
    _wait(lambda: _lit(floor), "a light to be lit")
    sock = socketio.test_client(app, namespace="/lights", flask_test_client=client)
    assert sock.is_connected(namespace="/lights")
    received = {m["name"]: m["args"][0] for m in sock.get_received("/lights")}
    (bus,) = received["lights"]
    assert bus["device"] == "ptl-l" and bus["simulated"] and bus["order_complete"] == "L-DONE"
    assert {light["location"] for light in bus["lights"] if light["lit"]} <= set(LIGHTS)
    (health,) = received["health"]
    assert health["name"] == "ptl-l" and health["kind"] == "ptl"
    assert health["label"] in ("online", "degraded")
    # A press through the panel's endpoint reaches the simulator and picks.
    lit = next(light["location"] for light in bus["lights"] if light["lit"])
    response = client.post(
        "/lights/press",
        json={"device": "ptl-l", "location": lit},
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    _wait(lambda: lit not in _lit(floor), "the pressed light to go dark")
    page = client.get("/devices").get_data(as_text=True)
    assert "ptl-l" in page and "TX " in page  # the wire log shows frames
    sock.disconnect(namespace="/lights")


def test_bad_presses_get_clear_errors(floor: FloorDevices):
    app = floor.app  # type: ignore[attr-defined]
    client = app.test_client()
    token = _sign_in(client, "boss", "pw-boss-123")
    cases = [
        ({"device": "ptl-l", "location": "nowhere"}, 404, "is not a simulated light"),
        ({"device": "ptl-x", "location": "L1-01"}, 404, "is not a simulated light"),
        ({"device": "ptl-l", "location": "L1-04"}, 409, "is dark"),
        ({"device": "ptl-l", "location": "L1-01", "button": "smash"}, 422, "Unknown button"),
        ({"device": "ptl-l", "location": "L1-01", "quantity": "x"}, 422, "whole number"),
    ]
    for body, status, message in cases:
        response = client.post("/lights/press", json=body, headers={"X-CSRFToken": token})
        assert response.status_code == status, body
        assert message in response.get_json()["message"]


def test_a_picker_may_not_see_device_health(floor: FloorDevices):
    app = floor.app  # type: ignore[attr-defined]
    with floor.db.write() as s:
        create_user(
            s, NewUser(username="pick", display_name="P", role=Role.PICKER, password="pw-pick-123")
        )
    client = app.test_client()
    _sign_in(client, "pick", "pw-pick-123")
    assert client.get("/devices").status_code == 403
    assert client.get("/lights").status_code == 200


def test_without_devices_the_app_has_none(database: Database, tmp_path: Any):
    settings = parse_settings({"database": {"url": database.url}})
    app = create_app(settings, instance_dir=tmp_path / "var", database=database, testing=True)
    assert get_floor_devices(app) is None
    client = app.test_client()
    with database.write() as s:
        create_user(
            s,
            NewUser(username="boss", display_name="B", role=Role.SUPERVISOR, password="pw-b-1234"),
        )
    _sign_in(client, "boss", "pw-b-1234")
    assert "No pick-to-light bus is configured" in client.get("/lights").get_data(as_text=True)
    assert "No devices are configured" in client.get("/devices").get_data(as_text=True)


# --------------------------------------------------------------------------- put wall

WALL = {"W-01": 1, "W-02": 2, "W-03": 3}


@pytest.fixture
def wall(database: Database, tmp_path: Any) -> Iterator[tuple[FloorDevices, str, dict[str, str]]]:
    """A cluster batch of two orders, picked, at a put wall of three slots with a scanner."""
    site = site_of(database)
    with database.write() as s:
        stock_plain_items(s, site)
        new_order(s, "W-1", [("ITEM-01", 2)])
        new_order(s, "W-2", [("ITEM-02", 1), ("ITEM-03", 1)])
        orders = [order(s, "W-1"), order(s, "W-2")]
        allocate_orders(s, orders, today=TODAY)
        release_orders(s, orders, options=ReleaseOptions(totes_per_cart=3, tote_max_units=20))
        (batch,) = s.scalars(select(PickBatch)).all()
        for task in s.scalars(select(PickTask).where(PickTask.batch_id == batch.id)).all():
            confirm_pick(s, task.id, task.quantity)
        code = batch.code
        gtins = {
            sku: s.scalar(select(ItemGtin.gtin).where(ItemGtin.item_id == site.item[sku]))
            for sku in ("ITEM-01", "ITEM-02", "ITEM-03", "ITEM-04")
        }
    settings = parse_settings(
        {
            "database": {"url": database.url},
            "devices": [
                {
                    "name": "wall",
                    "kind": "ptl_bus",
                    "driver": "generic-ptl-v1",
                    "url": f"socket://127.0.0.1:{_free_port()}",
                    "station": "wall-1",
                    "lights": WALL,
                },
                {
                    "name": "wall-scanner",
                    "kind": "scanner",
                    "driver": "serial-line",
                    "url": f"socket://127.0.0.1:{_free_port()}",
                    "station": "wall-1",
                },
            ],
        }
    )
    app = create_app(settings, instance_dir=tmp_path / "var", database=database, testing=True)
    devices = get_floor_devices(app)
    assert devices is not None
    devices.use_simulators(simulated_devices(settings))
    devices.refresh = 0.1
    devices.start()
    try:
        yield devices, code, {k: str(v) for k, v in gtins.items()}
    finally:
        devices.stop()


def _wall_lit(floor: FloorDevices) -> dict[str, tuple[int, str]]:
    assert floor.simulators is not None
    sim = floor.simulators.ptl["wall"]
    shown = {loc: sim.light(unit) for loc, unit in WALL.items()}
    return {loc: (light.qty, light.mode.value) for loc, light in shown.items() if light.lit}


def _wall_press(floor: FloorDevices, location: str) -> None:
    assert floor.simulators is not None
    handled = floor.presses_handled
    assert floor.simulators.press("wall", location), f"{location} was dark"
    _wait(lambda: floor.presses_handled > handled, f"the press at {location} to be handled")


def test_a_put_wall_sorts_a_batch_into_order_slots(wall):
    floor, batch, gtins = wall
    answer = floor.wall_scan("wall", gtins["ITEM-02"], "wall-scan-0001")
    assert (answer["ok"], answer["reason"]) == (False, "no_batch_at_wall")
    answer = floor.wall_scan("wall", batch, "wall-scan-0002")
    assert (answer["reason"], answer["params"]["orders"]) == ("wall_started", 2)
    # Order W-2 is in tote position 2: its item lights slot 2 with the quantity.
    answer = floor.wall_scan("wall", gtins["ITEM-02"], "wall-scan-0003")
    assert answer["reason"] == "put_lit"
    assert (answer["params"]["slot"], answer["params"]["quantity"]) == (2, 1)
    assert answer["params"]["order"] == "W-2"
    _wait(lambda: _wall_lit(floor) == {"W-02": (1, "steady")}, "slot 2 to light")
    _wall_press(floor, "W-02")
    _wait(lambda: _wall_lit(floor) == {}, "slot 2 to go dark after the put")
    # The last item of W-2 arrives through the wall's serial scanner: the order is full and
    # its slot flashes for the packer.
    assert floor.simulators is not None
    told: list[Any] = []
    floor.add_listener(lambda topic, data: told.append(data) if topic in ("wall", "scan") else None)
    floor.simulators.scanners["wall-scanner"].scan(gtins["ITEM-03"][-13:], symbology="]E0")
    _wait(lambda: told, "the wall's screen to be told")
    assert told[0]["reason"] == "put_lit", told
    _wait(lambda: _wall_lit(floor) == {"W-02": (1, "steady")}, "slot 2 to light again")
    _wall_press(floor, "W-02")
    _wait(lambda: _wall_lit(floor) == {"W-02": (2, "flash_fast")}, "the full order to flash")
    # The packer takes the order out: the slot goes dark, and stays dark.
    _wall_press(floor, "W-02")
    _wait(lambda: _wall_lit(floor) == {}, "the emptied slot to go dark")
    with floor.db.read() as s:
        puts = s.execute(
            select(ScanEvent.kind, ScanEvent.outcome).where(ScanEvent.station == "wall-1")
        ).all()
    kinds = sorted(kind for kind, outcome in puts if outcome.value == "accepted")
    assert kinds == ["put", "put", "put_clear", "put_scan", "put_scan", "put_start"]


def test_the_wall_refuses_what_does_not_belong_with_a_reason(wall):
    floor, batch, gtins = wall
    assert floor.wall_scan("wall", "NO-SUCH-TOTE", "wall-scan-0101")["reason"] == "unknown_code"
    floor.wall_scan("wall", batch, "wall-scan-0102")
    answer = floor.wall_scan("wall", gtins["ITEM-04"], "wall-scan-0103")
    assert (answer["reason"], answer["params"]["item"]) == ("item_not_for_wall", "Plain ITEM-04")
    answer = floor.wall_scan("wall", "04006381333931", "wall-scan-0104")
    assert answer["reason"] == "unknown_item"
    # A scan sent twice (the screen retrying) is answered from the log and lights nothing new.
    first = floor.wall_scan("wall", gtins["ITEM-01"], "wall-scan-0105")
    again = floor.wall_scan("wall", gtins["ITEM-01"], "wall-scan-0105")
    assert first["reason"] == "put_lit" and again["repeated"]
    assert first["params"]["quantity"] == 2 and first["params"]["slot"] == 1


# --------------------------------------------------------------------------- configuration


def _bus(**changes: Any) -> dict[str, Any]:
    return {
        "name": "ptl-l",
        "kind": "ptl_bus",
        "driver": "generic-ptl-v1",
        "url": "socket://127.0.0.1:1",
        "zone": "L",
        "lights": {"L1-01": 1, "L-DONE": 2},
        "order_complete": "L-DONE",
        **changes,
    }


def test_an_order_complete_light_must_be_one_of_the_bus_lights():
    with pytest.raises(ConfigError) as error:
        parse_settings(
            {
                "zones": [{"code": "L", "name": "Lights", "kind": "pick_to_light"}],
                "devices": [_bus(order_complete="L-NOPE")],
            }
        )
    assert "order_complete 'L-NOPE' must be one of its lights" in str(error.value)


@pytest.mark.parametrize(
    ("bus", "message"),
    [
        (_bus(lights={"L1-01": 1, "L1-02": 1}, order_complete=None), "share light 1"),
        (_bus(lights={"L1-01": "x"}, order_complete=None), "is not UNIT or UNIT/SLOT"),
        (_bus(driver="acme-ptl-v9"), "acme-ptl-v9"),
        (_bus(options={"speed": 3}), "unknown options speed"),
    ],
)
def test_a_bad_device_stops_the_start_naming_it(database: Database, tmp_path: Any, bus, message):
    settings = parse_settings(
        {
            "database": {"url": database.url},
            "zones": [{"code": "L", "name": "Lights", "kind": "pick_to_light"}],
            "devices": [bus],
        }
    )
    with pytest.raises(DeviceSetupError) as error:
        create_app(settings, instance_dir=tmp_path / "var", database=database, testing=True)
    assert "config.yaml devices" in str(error.value) and message in str(error.value)


def test_check_config_builds_the_devices_and_names_a_bad_one(tmp_path: Any):
    import yaml
    from click.testing import CliRunner

    from web.cli import main

    config = {
        "zones": [{"code": "L", "name": "Lights", "kind": "pick_to_light"}],
        "devices": [_bus(lights={"L1-01": 1, "L1-02": 1}, order_complete=None)],
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    result = CliRunner().invoke(main, ["--config", str(path), "check-config"])
    assert result.exit_code == 2
    assert "config.yaml devices" in result.output and "share light 1" in result.output
    config["devices"] = [_bus()]
    path.write_text(yaml.safe_dump(config))
    result = CliRunner().invoke(main, ["--config", str(path), "check-config"])
    assert result.exit_code == 0, result.output
    assert "devices:  1" in result.output


def test_the_panel_presses_the_short_key_with_the_quantity_found(floor: FloorDevices):
    app = floor.app  # type: ignore[attr-defined]
    client = app.test_client()
    token = _sign_in(client, "boss", "pw-boss-123")
    _wait(lambda: _lit(floor) == {"L1-01": 2, "L1-02": 1}, "L-1's picks to light")
    response = client.post(
        "/lights/press",
        json={"device": "ptl-l", "location": "L1-02", "button": "short", "quantity": 0},
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    _wait(lambda: (TaskStatus.SHORT, 0) in _tasks(floor.db, "L-1").values(), "the short pick of 0")
    with floor.db.read() as s:
        exception = s.scalar(select(FloorException))
        assert exception is not None and "found 0 of 1" in exception.detail


def test_a_restart_keeps_the_finished_tote_waiting_for_its_pass_on(floor: FloorDevices):
    _wait(lambda: _lit(floor) == {"L1-01": 2, "L1-02": 1}, "L-1's picks to light")
    _press(floor, "L1-01")
    _press(floor, "L1-02")
    _wait(lambda: _lit(floor) == {"L-DONE": 3}, "the order-complete light")
    floor.stop()  # the server goes down; the units lose power too (a fresh simulator)
    again = FloorDevices(floor.settings, floor.db, simulators=simulated_devices(floor.settings))
    again.refresh = 0.1
    again.start()
    try:
        _wait(lambda: _lit(again) == {"L-DONE": 3}, "the order-complete light after the restart")
        with again.db.read() as s:
            assert s.scalar(select(Order.status).where(Order.number == "L-2")).value == ("released")
        _press(again, "L-DONE")
        _wait(lambda: _lit(again) == {"L1-01": 3}, "L-2's pick to light")
    finally:
        again.stop()
