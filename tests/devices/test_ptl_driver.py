"""The PTL bus driver against the pymodbus simulator over real byte transports.

Every test talks RTU over a real socket (socket://127.0.0.1, what a serial device server looks
like) or a socat pty pair, with faults injected on the wire. Waits poll with deadlines; "no
second event" is checked after the driver has demonstrably re-read the counters.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from devices.errors import ConfigError
from devices.health import DeviceStateChanged, HealthState
from devices.ptl.codec import Button, LightAddress, LightState
from devices.ptl.driver import ButtonPressed, PtlBus, PtlBusConfig, PtlEvent, UnitState
from devices.ptl.profile import GENERIC_PTL_V1, GENERIC_PTL_V1_BASIC, Color, Mode, PtlProfile
from devices.ptl.simulator import PtlSimulator
from devices.socat import PtyPair
from tests.devices.conftest import free_port, needs_socat, wait_for

LIGHTS = {"A-01": LightAddress(1), "A-02": LightAddress(2), "A-03": LightAddress(3)}
# Short timings so faults play out in well under a second each.
FAST: dict[str, Any] = {
    "timeout": 0.1,
    "offline_after": 3,
    "unit_retry_initial": 0.1,
    "unit_retry_max": 0.4,
    "reconnect_initial": 0.05,
    "reconnect_max": 0.4,
    "idle_check": 0.05,
}


class Events:
    """Collects what the bus reports, from its thread, for the test thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.all: list[PtlEvent] = []

    def __call__(self, event: PtlEvent) -> None:
        with self._lock:
            self.all.append(event)

    def presses(self) -> list[ButtonPressed]:
        with self._lock:
            return [e for e in self.all if isinstance(e, ButtonPressed)]

    def changes(self) -> list[DeviceStateChanged]:
        with self._lock:
            return [e for e in self.all if isinstance(e, DeviceStateChanged)]

    def wait_presses(self, count: int) -> list[ButtonPressed]:
        wait_for(lambda: len(self.presses()) >= count, what=f"{count} press event(s)")
        return self.presses()


class Rig:
    """A simulator and a bus driver wired together over one URL."""

    def __init__(self, sim: PtlSimulator, bus: PtlBus, events: Events) -> None:
        self.sim, self.bus, self.events = sim, bus, events

    def settle(self, reads: int = 3) -> None:
        """Wait until the bus has re-read every unit ``reads`` more times (a double count shows)."""
        target = {u: self.bus.unit_reads(u) + reads for u in self.sim.units()}
        wait_for(
            lambda: all(self.bus.unit_reads(u) >= n for u, n in target.items()), what="re-reads"
        )

    def lit(self, unit: int, slot: int = 0) -> bool:
        return self.sim.light(unit, slot).lit


RigFactory = Callable[..., Rig]


@pytest.fixture
def make_rig() -> Iterator[RigFactory]:
    """Build rigs; everything started is stopped at teardown (no thread or socket leaks)."""
    started: list[Rig] = []

    def build(
        url: str | None = None,
        lights: dict[str, LightAddress] | None = None,
        profile: PtlProfile = GENERIC_PTL_V1,
        sim_profile: PtlProfile | None = None,
        bus_url: str | None = None,
        **options: Any,
    ) -> Rig:
        url = url or f"socket://127.0.0.1:{free_port()}"
        lights = lights or LIGHTS
        sim = PtlSimulator(url, sorted({a.unit for a in lights.values()}), sim_profile or profile)
        sim.start()
        events = Events()
        config = PtlBusConfig("zone-a", bus_url or url, lights, profile=profile, **(FAST | options))
        bus = PtlBus(config, events)
        rig = Rig(sim, bus, events)
        started.append(rig)
        bus.start()
        wait_for(lambda: all(bus.unit_reads(u) for u in sim.units()), what="first sync")
        return rig

    yield build
    for rig in started:
        rig.bus.stop()
        rig.sim.stop()


def test_light_with_colour_mode_quantity_then_one_press_is_one_confirm(
    make_rig: RigFactory,
) -> None:
    rig = make_rig()
    rig.bus.light("A-02", Color.GREEN, Mode.FLASH_SLOW, 3, tag="task-7")
    light = wait_for(lambda: rig.sim.light(2) if rig.lit(2) else None, what="A-02 lit")
    assert (light.color, light.mode, light.qty) == (Color.GREEN, Mode.FLASH_SLOW, 3)
    assert not rig.lit(1) and not rig.lit(3)

    assert rig.sim.press(2)
    [press] = rig.events.wait_presses(1)
    assert (press.location, press.button, press.quantity, press.tag) == (
        "A-02",
        Button.CONFIRM,
        3,
        "task-7",
    )
    assert press.sequence == 1 and press.address == LightAddress(2)
    assert not rig.lit(2)  # the unit turned itself off
    assert rig.bus.desired("A-02") is None  # answered: nothing left to show
    rig.settle()
    assert len(rig.events.presses()) == 1
    assert rig.bus.health().state is HealthState.OK


def test_short_pick_reports_the_keyed_in_quantity(make_rig: RigFactory) -> None:
    rig = make_rig()
    rig.bus.light("A-01", "red", "steady", 5, tag="task-1")
    wait_for(lambda: rig.lit(1), what="A-01 lit")
    assert rig.sim.press(1, button=Button.SHORT, quantity=2)
    [press] = rig.events.wait_presses(1)
    assert (press.button, press.quantity, press.tag) == (Button.SHORT, 2, "task-1")


def test_off_darkens_and_a_press_on_a_dark_light_counts_nothing(make_rig: RigFactory) -> None:
    rig = make_rig()
    rig.bus.light("A-03", Color.BLUE, qty=1)
    wait_for(lambda: rig.lit(3), what="A-03 lit")
    rig.bus.off("A-03")
    wait_for(lambda: not rig.lit(3) and rig.bus.pending() == 0, what="A-03 off")
    assert not rig.sim.press(3)
    rig.settle()
    assert rig.events.presses() == []


def test_many_lights_and_presses_are_each_counted_once(make_rig: RigFactory) -> None:
    lights = {f"B-{u:02d}": LightAddress(u) for u in range(1, 9)}
    rig = make_rig(lights=lights)
    for n, location in enumerate(lights, start=1):
        rig.bus.light(location, Color.WHITE, qty=n, tag=f"t{n}")
    wait_for(lambda: all(rig.lit(u) for u in range(1, 9)), what="eight lights")
    for unit in range(1, 9):
        assert rig.sim.press(unit)
    presses = rig.events.wait_presses(8)
    rig.settle()
    assert sorted(p.tag or "" for p in rig.events.presses()) == sorted(f"t{n}" for n in range(1, 9))
    assert {p.location: p.quantity for p in presses} == {f"B-{u:02d}": u for u in range(1, 9)}


def test_presses_while_disconnected_are_counted_once_after_reconnect(make_rig: RigFactory) -> None:
    rig = make_rig()
    rig.bus.light("A-01", Color.GREEN, qty=1, tag="one")
    rig.bus.light("A-02", Color.GREEN, qty=2, tag="two")
    wait_for(lambda: rig.lit(1) and rig.lit(2), what="two lights")

    rig.sim.stop()  # the device server reboots / the adapter is pulled
    wait_for(
        lambda: rig.bus.health().state is HealthState.DEVICE_FAULT, what="bus to notice the loss"
    )
    assert rig.sim.press(1)  # the operator keeps working; the unit counts the press
    assert rig.events.presses() == []
    rig.bus.light("A-03", Color.YELLOW, qty=1)  # never blocks, even with the bus down

    rig.sim.start()
    [press] = rig.events.wait_presses(1)
    assert (press.location, press.tag, press.sequence) == ("A-01", "one", 1)
    wait_for(lambda: rig.lit(3), what="A-03 lit after reconnect")
    rig.settle()
    assert len(rig.events.presses()) == 1
    assert rig.lit(2) and not rig.lit(1)
    health = rig.bus.health()
    assert health.state is HealthState.OK and health.counters["reconnects"] >= 1


def test_transport_killed_and_restarted_resyncs_every_light(make_rig: RigFactory) -> None:
    rig = make_rig()
    rig.bus.light("A-01", Color.GREEN, qty=1)
    rig.bus.light("A-02", Color.CYAN, Mode.FLASH_FAST, 4)
    wait_for(lambda: rig.lit(1) and rig.lit(2), what="two lights")
    lit_before = rig.sim.light(2).times_lit

    rig.sim.stop()
    wait_for(lambda: rig.bus.health().state is HealthState.DEVICE_FAULT, what="loss noticed")
    rig.sim.power_cycle(2)  # the rack lost power too: unit 2 forgot its light and counters
    rig.sim.start()

    wait_for(lambda: rig.lit(2), what="unit 2 relit")
    light = rig.sim.light(2)
    assert (light.color, light.mode, light.qty) == (Color.CYAN, Mode.FLASH_FAST, 4)
    assert light.times_lit == lit_before + 1
    assert rig.lit(1) and rig.sim.light(1).times_lit == 1  # still lit: not rewritten
    rig.settle()
    assert rig.events.presses() == []  # the counter reset is not a press
    assert any("restarted" in c.detail for c in rig.events.changes())


def test_unit_offline_after_n_timeouts_then_back(make_rig: RigFactory) -> None:
    rig = make_rig()
    rig.bus.light("A-02", Color.RED, qty=1, tag="late")
    wait_for(lambda: rig.lit(2), what="A-02 lit")
    timeouts = rig.bus.health().counters["timeouts"]

    rig.sim.set_offline(2)
    wait_for(lambda: rig.bus.unit_state(2) is UnitState.OFFLINE, what="unit 2 offline")
    health = rig.bus.health()
    assert health.counters["timeouts"] - timeouts >= 3
    assert health.state is HealthState.WARNING and "unit 2 offline" in health.detail
    assert health.parts["unit 2"].startswith("offline")

    # The rest of the bus keeps working while unit 2 is retried with back-off.
    rig.bus.light("A-01", Color.GREEN, qty=1, tag="fine")
    wait_for(lambda: rig.lit(1), what="A-01 lit despite unit 2")
    assert rig.sim.press(1)
    assert rig.sim.press(2)  # pressed while its drop cable is cut
    rig.events.wait_presses(1)

    rig.sim.set_offline(2, False)
    wait_for(lambda: rig.bus.unit_state(2) is UnitState.ONLINE, what="unit 2 back")
    presses = rig.events.wait_presses(2)
    assert sorted((p.location, p.tag) for p in presses) == [("A-01", "fine"), ("A-02", "late")]
    rig.settle()
    assert len(rig.events.presses()) == 2
    assert rig.bus.health().state in (HealthState.OK, HealthState.WARNING)
    details = [c.detail for c in rig.events.changes()]
    assert any("unit 2 offline" in d for d in details)
    assert any("unit 2 back online" in d for d in details)


def test_crc_garbage_is_counted_retried_and_recovered(make_rig: RigFactory) -> None:
    rig = make_rig(crc_retries=2)
    rig.bus.light("A-01", Color.GREEN, qty=2, tag="noisy")
    wait_for(lambda: rig.lit(1), what="A-01 lit")
    rig.sim.inject_crc_errors(1, 2)
    wait_for(lambda: rig.sim.crc_faults_sent >= 2, what="garbled replies sent")
    assert rig.sim.press(1)
    [press] = rig.events.wait_presses(1)
    assert press.tag == "noisy"
    health = rig.bus.health()
    assert health.counters["crc_errors"] >= 2
    assert rig.bus.unit_state(1) is UnitState.ONLINE
    assert health.state is HealthState.WARNING and "CRC" in health.detail
    assert any("CRC mismatch" in f.note for f in rig.bus.wire_log())


def test_a_slow_unit_times_out_without_confusing_the_others(make_rig: RigFactory) -> None:
    rig = make_rig()
    rig.bus.light("A-01", Color.GREEN, qty=1, tag="a")
    rig.bus.light("A-02", Color.GREEN, qty=1, tag="b")
    wait_for(lambda: rig.lit(1) and rig.lit(2), what="two lights")
    rig.sim.set_latency(2, 0.15)  # answers after the 0.1 s timeout: its replies arrive late
    wait_for(lambda: rig.bus.health().counters["timeouts"] >= 2, what="timeouts")
    assert rig.sim.press(1)
    [press] = rig.events.wait_presses(1)
    assert press.tag == "a"
    rig.sim.set_latency(2, 0.0)
    wait_for(lambda: rig.bus.unit_state(2) is UnitState.ONLINE, what="unit 2 answering")
    assert rig.sim.press(2)
    presses = rig.events.wait_presses(2)
    assert [p.tag for p in presses] == ["a", "b"]


def test_power_cycled_unit_is_relit_and_not_miscounted(make_rig: RigFactory) -> None:
    rig = make_rig()
    rig.bus.light("A-03", Color.MAGENTA, qty=9)
    wait_for(lambda: rig.lit(3), what="A-03 lit")
    rig.sim.power_cycle(3)
    wait_for(lambda: rig.lit(3) and rig.sim.light(3).times_lit == 2, what="A-03 relit")
    assert rig.sim.light(3).qty == 9
    rig.settle()
    assert rig.events.presses() == []


def test_relighting_a_lit_location_credits_an_earlier_press_to_the_old_task(
    make_rig: RigFactory,
) -> None:
    rig = make_rig()
    rig.bus.light("A-01", Color.GREEN, qty=1, tag="old")
    wait_for(lambda: rig.lit(1), what="A-01 lit")
    assert rig.sim.press(1)
    rig.bus.light("A-01", Color.BLUE, qty=2, tag="new")  # before the bus saw the press
    [press] = rig.events.wait_presses(1)
    assert press.tag == "old"
    wait_for(lambda: rig.lit(1) and rig.sim.light(1).color is Color.BLUE, what="new task lit")
    assert rig.sim.press(1)
    presses = rig.events.wait_presses(2)
    assert [p.tag for p in presses] == ["old", "new"]


def test_wrong_profile_is_a_device_fault_with_a_clear_detail(make_rig: RigFactory) -> None:
    # The bus expects the 6-register map; the units only have the 4 reference registers.
    rig_lights = {"A-01": LightAddress(1)}
    url = f"socket://127.0.0.1:{free_port()}"
    sim = PtlSimulator(url, [1], GENERIC_PTL_V1_BASIC)
    sim.start()
    events = Events()
    bus = PtlBus(PtlBusConfig("zone-x", url, rig_lights, **FAST), events)
    bus.start()
    try:
        wait_for(lambda: bus.unit_state(1) is UnitState.FAULT, what="unit fault")
        health = bus.health()
        assert health.state is HealthState.DEVICE_FAULT
        assert "check the profile" in health.parts["unit 1"]
        assert health.counters["exceptions"] >= 3
    finally:
        bus.stop()
        sim.stop()


def test_reference_map_puts_the_golden_frames_on_the_wire(make_rig: RigFactory) -> None:
    rig = make_rig(
        lights={"G-01": LightAddress(1)}, profile=GENERIC_PTL_V1_BASIC, wire_log_size=100_000
    )
    rig.bus.light("G-01", Color.GREEN, Mode.FLASH_SLOW, 3)
    wait_for(lambda: rig.lit(1), what="G-01 lit")
    assert rig.sim.press(1)
    rig.events.wait_presses(1)
    frames = [(f.direction, f.data.hex(" ").upper()) for f in rig.bus.wire_log()]
    assert ("TX", "01 10 00 00 00 03 06 00 02 00 02 00 03 7E 81") in frames
    assert ("RX", "01 10 00 00 00 03 80 08") in frames
    assert ("TX", "01 03 00 00 00 04 44 09") in frames
    assert ("RX", "01 03 08 00 02 00 00 00 03 00 01 87 D7") in frames


def test_put_wall_controller_slots_share_a_unit(make_rig: RigFactory) -> None:
    wall = PtlProfile.from_dict(GENERIC_PTL_V1.to_dict() | {"name": "wall", "slots_per_unit": 6})
    lights = {f"PW-{s + 1}": LightAddress(4, s) for s in range(6)}
    rig = make_rig(lights=lights, profile=wall)
    for s in (0, 2, 5):
        rig.bus.light(f"PW-{s + 1}", Color.YELLOW, Mode.FLASH_SLOW, s + 1, tag=f"order-{s}")
    wait_for(lambda: all(rig.lit(4, s) for s in (0, 2, 5)), what="three slots lit")
    assert not rig.lit(4, 1)
    assert rig.sim.press(4, 2)
    assert rig.sim.press(4, 5)
    presses = rig.events.wait_presses(2)
    assert sorted((p.location, p.tag) for p in presses) == [
        ("PW-3", "order-2"),
        ("PW-6", "order-5"),
    ]
    assert rig.lit(4, 0)


def test_apply_lights_contiguous_slots_with_one_coalesced_write(make_rig: RigFactory) -> None:
    dense = PtlProfile.from_dict(
        GENERIC_PTL_V1.to_dict()
        | {
            "name": "dense-wall",
            "registers": {"color": 0, "mode": 1, "qty": 2, "ack_count": 100, "short_count": 200},
            "poll": ["mode", "qty", "ack_count", "short_count"],
            "slots_per_unit": 8,
            "slot_stride": {"color": 3, "mode": 3, "qty": 3, "ack_count": 1, "short_count": 1},
        }
    )
    lights = {f"PW-{s + 1}": LightAddress(5, s) for s in range(8)}
    rig = make_rig(lights=lights, profile=dense)
    writes = rig.bus.health().counters["writes"]
    rig.bus.apply(
        {f"PW-{s + 1}": LightState(Color.GREEN, Mode.STEADY, s + 1, f"o{s}") for s in range(8)}
    )
    wait_for(lambda: all(rig.lit(5, s) for s in range(8)), what="eight slots lit")
    wait_for(lambda: rig.bus.pending() == 0, what="the write acknowledged")
    assert rig.bus.health().counters["writes"] == writes + 1
    sent = [f.data for f in rig.bus.wire_log() if f.direction == "TX"]
    assert [d[:7].hex(" ") for d in sent if d[1] == 0x10][-1] == (
        "05 10 00 00 00 18 30"  # unit 5, FC16 at 0, 24 registers, 48 bytes
    )
    assert rig.sim.press(5, 6)
    [press] = rig.events.wait_presses(1)
    assert (press.location, press.tag, press.quantity) == ("PW-7", "o6", 7)


def test_light_never_blocks_when_the_transport_is_missing() -> None:
    url = f"socket://127.0.0.1:{free_port()}"  # nothing listens
    bus = PtlBus(PtlBusConfig("zone-z", url, LIGHTS, **FAST))
    bus.start()
    try:
        started = time.monotonic()
        for _ in range(200):
            bus.light("A-01", Color.RED, qty=1)
            bus.off("A-02")
        assert time.monotonic() - started < 0.5
        wait_for(lambda: "cannot open" in bus.health().detail, what="open error in health")
        assert bus.health().state is HealthState.DEVICE_FAULT
        assert bus.pending() == 2
        # Bad requests fail in the caller, at once; "lit in mode off" is simply off.
        with pytest.raises(ConfigError, match="purple"):
            bus.light("A-01", "purple")
        with pytest.raises(ConfigError, match="quantity"):
            bus.light("A-01", "red", qty=10_000)
        with pytest.raises(ConfigError, match="no location 'Z-9'"):
            bus.off("Z-9")
        bus.light("A-03", "red", "off", 4)
        assert bus.desired("A-03") is None and bus.desired("A-01") is not None
    finally:
        bus.stop()


@needs_socat
def test_over_a_socat_pty_pair_including_an_unplugged_adapter(make_rig: RigFactory) -> None:
    with PtyPair() as pair:
        rig = make_rig(url=pair.device_end, bus_url=pair.host_end)
        rig.bus.light("A-01", Color.GREEN, qty=1, tag="pty")
        wait_for(lambda: rig.lit(1), what="A-01 lit over the pty")
        assert rig.sim.press(1)
        [press] = rig.events.wait_presses(1)
        assert press.tag == "pty"

        rig.bus.light("A-02", Color.RED, qty=2, tag="after")
        wait_for(lambda: rig.lit(2), what="A-02 lit")
        rig.sim.stop()
        pair.stop()  # the USB adapter is pulled: reads fail, the device node vanishes
        wait_for(lambda: rig.bus.health().state is HealthState.DEVICE_FAULT, what="loss noticed")
        assert rig.sim.press(2)
        pair.start()
        rig.sim.start()
        presses = rig.events.wait_presses(2)
        assert [p.tag for p in presses] == ["pty", "after"]
        rig.bus.stop()
        rig.sim.stop()
