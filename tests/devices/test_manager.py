"""The device manager: drivers from plain configs, one event stream, health, clean stop."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from devices.errors import ConfigError
from devices.health import DeviceStateChanged, HealthState
from devices.manager import DeviceEvent, DeviceManager, Simulators
from devices.ptl.codec import Button
from devices.ptl.driver import ButtonPressed
from devices.scanner.driver import ScanRead
from tests.devices.conftest import free_port, wait_for

FAST = {"timeout": 0.1, "reconnect_initial": 0.05, "reconnect_max": 0.3, "idle_check": 0.1}


def floor_config() -> list[dict[str, Any]]:
    """Two buses (one a put wall controller) and a pack-station scanner on loopback ports."""
    return [
        {
            "name": "zone-a",
            "kind": "ptl",
            "driver": "modbus-rtu",
            "url": f"socket://127.0.0.1:{free_port()}",
            "options": {"lights": {"A-01-01": 1, "A-01-02": 2}} | FAST,
        },
        {
            "name": "put-wall-1",
            "kind": "ptl",
            "url": f"socket://127.0.0.1:{free_port()}",
            "options": {
                "profile": {
                    "name": "wall-controller",
                    "registers": {"color": 0, "mode": 1, "qty": 2, "ack_count": 3},
                    "colors": {"off": 0, "green": 2, "blue": 3},
                    "modes": {"off": 0, "steady": 1, "flash_fast": 3},
                    "slots_per_unit": 4,
                },
                "lights": {"PW1-1": "9/0", "PW1-2": "9/1", "PW1-3": "9/2", "PW1-4": "9/3"},
            }
            | FAST,
        },
        {
            "name": "pack-1",
            "kind": "scanner",
            "url": f"socket://127.0.0.1:{free_port()}",
            "options": {"gs_substitutes": ["|"], "reconnect_initial": 0.05},
        },
    ]


def drain(events: queue.Queue[DeviceEvent], kind: type[Any], count: int) -> list[Any]:
    """Take events off the queue until ``count`` of ``kind`` arrived (others are kept aside)."""
    found: list[Any] = []

    def more() -> bool:
        while True:
            try:
                event = events.get_nowait()
            except queue.Empty:
                return len(found) >= count
            if isinstance(event, kind):
                found.append(event)

    wait_for(more, what=f"{count} {kind.__name__}")
    return found


@pytest.fixture
def floor() -> Iterator[tuple[DeviceManager, Simulators]]:
    config = floor_config()
    sims = Simulators(config)
    sims.start()
    manager = DeviceManager(config)
    manager.start()
    try:
        wait_for(
            lambda: all(h.state is HealthState.OK for h in manager.health()), what="all online"
        )
        wait_for(sims.scanners["pack-1"].connected, what="scanner simulator to see the app")
        yield manager, sims
    finally:
        manager.stop()
        sims.stop()


def test_presses_and_scans_from_every_device_arrive_on_one_queue(
    floor: tuple[DeviceManager, Simulators],
) -> None:
    manager, sims = floor
    assert manager.locations()["PW1-3"] == "put-wall-1"
    manager.light("A-01-02", "green", qty=4, tag="pick-1")
    manager.light("PW1-3", "blue", "flash_fast", 2, tag="order-77")
    wait_for(lambda: sims.ptl["zone-a"].light(2).lit, what="A-01-02 lit")
    wait_for(lambda: sims.ptl["put-wall-1"].light(9, 2).lit, what="PW1-3 lit")
    assert sims.press("zone-a", "A-01-02")
    assert sims.press("put-wall-1", "PW1-3")
    sims.scanners["pack-1"].scan("00006141411234567890", "]C1")

    presses = drain(manager.events, ButtonPressed, 2)
    assert sorted((p.device, p.location, p.tag) for p in presses) == [
        ("put-wall-1", "PW1-3", "order-77"),
        ("zone-a", "A-01-02", "pick-1"),
    ]
    assert all(p.button is Button.CONFIRM for p in presses)
    # the scan may have been drained with the presses; send another to see it on the queue
    sims.scanners["pack-1"].scan("TOTE-9")
    scans = drain(manager.events, ScanRead, 1)
    assert scans[-1].scan.value == "TOTE-9"


def test_health_shows_each_device_and_its_faults(floor: tuple[DeviceManager, Simulators]) -> None:
    manager, sims = floor
    assert [h.name for h in manager.health()] == ["zone-a", "put-wall-1", "pack-1"]
    sims.ptl["zone-a"].stop()
    wait_for(lambda: manager.health()[0].state is HealthState.DEVICE_FAULT, what="zone-a offline")
    zone, wall, scanner = manager.health()
    assert zone.as_dict()["label"] == "offline" and "transport lost" in zone.detail
    assert wall.state is HealthState.OK and scanner.state is HealthState.OK
    assert set(zone.parts) == {"unit 1", "unit 2"}
    changes = drain(manager.events, DeviceStateChanged, 1)
    assert any(c.device == "zone-a" and "transport lost" in c.detail for c in changes)
    assert any(f.direction == "TX" for f in manager.wire_log("zone-a"))


def test_callback_instead_of_queue_and_a_clean_stop() -> None:
    config = floor_config()[:1]
    received: list[DeviceEvent] = []
    with Simulators(config) as sims, DeviceManager(config, received.append) as manager:
        manager.light("A-01-01", "green", qty=1)
        wait_for(lambda: sims.ptl["zone-a"].light(1).lit, what="lit")
        assert sims.press("zone-a", "A-01-01")
        wait_for(lambda: any(isinstance(e, ButtonPressed) for e in received), what="callback")
        assert manager.events.empty()
    assert not [t for t in threading.enumerate() if t.name.startswith(("ptl ", "ptl-sim"))]


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda c: c.append(dict(c[0])), "two devices are named 'zone-a'"),
        (lambda c: c[0].update(driver="banner-dxm"), "no driver ptl/banner-dxm"),
        (lambda c: c[0].pop("url"), "missing url"),
        (lambda c: c[0]["options"].update(colour="red"), "unknown options colour"),
        (
            lambda c: c[1]["options"].update(lights={"A-01-01": "9/0"}),
            "location A-01-01 is on zone-a and put-wall-1",
        ),
        (lambda c: c[0]["options"]["lights"].update({"X": "2"}), "share light 2"),
        (lambda c: c[1]["options"]["lights"].update({"X": "9/4"}), "slot 4"),
        (lambda c: c[0]["options"].update(profile="banner-pickiq"), "unknown profile"),
    ],
)
def test_bad_configs_fail_at_startup_with_a_clear_message(mutate: Any, message: str) -> None:
    config = floor_config()
    mutate(config)
    with pytest.raises(ConfigError, match=message):
        DeviceManager(config)


def test_unknown_location_is_a_config_error(floor: tuple[DeviceManager, Simulators]) -> None:
    manager, _ = floor
    with pytest.raises(ConfigError, match="no pick-to-light bus lights 'Z-99'"):
        manager.light("Z-99", "red")
    with pytest.raises(ConfigError, match="not a pick-to-light bus"):
        manager.ptl("pack-1")
