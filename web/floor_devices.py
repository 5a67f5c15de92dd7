"""The floor's devices wired to the domain: pick-to-light zones light open picks, presses pick.

One :class:`FloorDevices` per server process (stored as ``app.extensions["wms_devices"]``)
holds the :class:`DeviceManager` built from config.yaml's ``devices`` and one worker thread
that does all the domain work, so device threads only parse and enqueue:

- every ``REFRESH_SECONDS`` (and at once after a press) it reads, per pick-to-light zone, the
  open picks of the tote working there and applies the difference to the bus; so a pick
  confirmed on a handheld or cancelled in the office goes dark within one refresh;
- a confirm press confirms its pick through :func:`wms.pick_to_light.press_pick`, the same
  ``confirm_pick`` a handheld ends in; a short press reports a short pick with the keyed-in
  quantity;
- when the tote's picks are all closed, the zone's "order complete" light flashes blue with the
  units picked; pressing it passes the tote on and the next tote's picks light.

The server starts it in gunicorn's worker, not in the arbiter (see :func:`start_with_server`).
"""

from __future__ import annotations

import atexit
import datetime as dt
import logging
import os
import queue
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from flask import Flask
from sqlalchemy import update

from devices.errors import ConfigError as DeviceConfigError
from devices.health import DeviceHealth, DeviceStateChanged
from devices.manager import DeviceConfig, DeviceEvent, DeviceManager, Simulators
from devices.printer.simulator import SimulatedZebraPrinter
from devices.ptl.codec import Button as DeviceButton
from devices.ptl.codec import LightState
from devices.ptl.driver import ButtonPressed
from devices.ptl.profile import Color, Mode
from devices.scanner.driver import ScanRead
from wms import pick_to_light, put_wall
from wms.config import Settings
from wms.db import Database
from wms.db.schema import Device
from wms.lights import (
    Button,
    LightSignal,
    LightZone,
    PendingPut,
    ToteDone,
    light_changes,
    press_client_id,
    read_tag,
    wall_lights,
    wanted_lights,
)
from wms.model import ZoneKind

log = logging.getLogger(__name__)

REFRESH_SECONDS = 0.5
_REFRESH = object()  # queued to make the floor thread refresh the lights at once
#: Health goes to the screens at most this often (counters move with every poll).
HEALTH_SECONDS = 1.0
EXTENSION = "wms_devices"


class DeviceSetupError(Exception):
    """config.yaml's devices cannot be built into drivers; the message names the device."""


def device_configs(settings: Settings) -> list[DeviceConfig]:
    """config.yaml's ``devices`` as the device manager's configs (scales have no driver yet)."""
    configs = []
    for device in settings.devices:
        if device.kind == "ptl_bus":
            options: dict[str, Any] = {"baudrate": device.baudrate, "lights": dict(device.lights)}
            if device.driver != "modbus-rtu":  # config.yaml names the register map here
                options["profile"] = device.driver
            options.update(device.options)
            configs.append(DeviceConfig(device.name, "ptl", "modbus-rtu", device.url, options))
        elif device.kind == "scanner":
            options = {"baudrate": device.baudrate, **device.options}
            configs.append(DeviceConfig(device.name, "scanner", "serial-line", device.url, options))
        else:
            log.warning("device %s: no driver for a %s yet; not started", device.name, device.kind)
    return configs


def check_devices(settings: Settings) -> None:
    """Build every configured driver without starting it; DeviceSetupError names a bad one."""
    try:
        DeviceManager(device_configs(settings))
    except DeviceConfigError as error:
        raise DeviceSetupError(f"config.yaml devices: {error}") from None


def light_zones(settings: Settings) -> dict[str, LightZone]:
    """Pick-to-light buses of pick-to-light zones, by bus name."""
    kinds = {zone.code: zone.kind for zone in settings.zones}
    zones = {}
    for device in settings.devices:
        if device.kind != "ptl_bus" or device.zone is None:
            continue
        if kinds.get(device.zone) is not ZoneKind.PICK_TO_LIGHT:
            continue
        locations = frozenset(device.lights) - {device.order_complete}
        zones[device.name] = LightZone(device.zone, locations, device.order_complete)
    return zones


def put_walls(settings: Settings) -> dict[str, tuple[str, list[str]]]:
    """Put walls: pick-to-light buses of a station (not a zone), by bus name -> (station, slots).

    The wall's slots are its lights in config order: slot 1 is the first light.
    """
    return {
        device.name: (device.station, list(device.lights))
        for device in settings.devices
        if device.kind == "ptl_bus" and device.zone is None and device.station and device.lights
    }


@dataclass
class _WallState:
    station: str
    slots: list[str]
    shown: dict[str, LightSignal]
    pending: dict[str, PendingPut]
    scanners: set[str]
    last_ref: int = 0


@dataclass
class _ZoneState:
    zone: LightZone
    shown: dict[str, LightSignal]
    tote: int | None = None  # the batch working in the zone at the last refresh
    waiting: ToteDone | None = None  # done, its "order complete" light waits for a press


class FloorDevices:
    """The device manager plus the thread that turns domain state into lights and back."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        *,
        simulators: Simulators | None = None,
        refresh: float = REFRESH_SECONDS,
    ) -> None:
        """Build every driver now (a bad device config fails here, naming the device)."""
        self.db = db
        self.settings = settings
        self.simulators = simulators
        self.refresh = refresh
        self._events: queue.Queue[DeviceEvent | object | None] = queue.Queue()
        try:
            self.manager = DeviceManager(device_configs(settings), on_event=self._events.put)
        except DeviceConfigError as error:
            raise DeviceSetupError(f"config.yaml devices: {error}") from None
        self._zones = {bus: _ZoneState(zone, {}) for bus, zone in light_zones(settings).items()}
        self._walls = {
            bus: _WallState(
                station,
                slots,
                {},
                {},
                {d.name for d in settings.devices if d.kind == "scanner" and d.station == station},
            )
            for bus, (station, slots) in put_walls(settings).items()
        }
        self._listeners: list[Callable[[str, Any], None]] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_panel: list[dict[str, Any]] | None = None
        self._last_health: list[dict[str, Any]] | None = None
        self._next_health = 0.0
        self.presses_handled = 0

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Start the simulators (if any), the drivers and the floor thread; returns at once."""
        if self._thread is not None:
            return
        if self.simulators is not None:
            self.simulators.start()
        self.manager.start()
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="floor devices", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the floor thread, the drivers and the simulators."""
        thread = self._thread
        if thread is not None:
            self._stopping.set()
            self._events.put(None)
            thread.join(timeout)
            self._thread = None
        self.manager.stop(timeout)
        if self.simulators is not None:
            self.simulators.stop()

    def use_simulators(self, simulators: Simulators) -> None:
        """Drive simulated devices (the demo): started and stopped with the drivers."""
        self.simulators = simulators

    @property
    def running(self) -> bool:
        """Whether the floor thread runs."""
        return self._thread is not None and self._thread.is_alive()

    def pick_work_changed(self) -> None:
        """Picks changed elsewhere (a handheld, the API): line the lights up now, not later."""
        self._events.put(_REFRESH)

    def add_listener(self, listener: Callable[[str, Any], None]) -> None:
        """Call ``listener(topic, data)`` for "lights", "health", "press" and "scan" news."""
        self._listeners.append(listener)

    # ------------------------------------------------------------------ queries

    def health(self) -> list[DeviceHealth]:
        """Health of every device, in config order (the supervisor dashboard reads this)."""
        return self.manager.health()

    def health_view(self) -> list[dict[str, Any]]:
        """Health as JSON-ready dicts, with each device's kind and place from config.yaml."""
        places = {d.name: (d.zone or d.station or "") for d in self.settings.devices}
        return [
            {**h.as_dict(), "place": places.get(h.name, ""), "simulated": self._simulated(h.name)}
            for h in self.health()
        ]

    def wire_log(self, name: str, last: int = 40) -> list[str]:
        """The last frames one device exchanged, as hex lines with their notes."""
        frames = self.manager.wire_log(name)[-last:]
        return [f"{time.strftime('%H:%M:%S', time.localtime(f.at))} {f}" for f in frames]

    def panel(self) -> list[dict[str, Any]]:
        """Every pick-to-light bus and its lights, as the virtual light panel shows them.

        A simulated bus shows what the simulated units show; a real one what the app asked for.
        """
        buses = []
        for config in self.manager.configs.values():
            if config.kind != "ptl":
                continue
            bus = self.manager.ptl(config.name)
            sim = self.simulators.ptl.get(config.name) if self.simulators else None
            shown = sim.lights() if sim is not None else {}
            lights = []
            for location, address in bus.config.lights.items():
                entry: dict[str, Any] = {"location": location, "address": str(address)}
                if sim is not None:
                    light = shown[address]
                    lit = light.lit and light.color not in (None, Color.OFF)
                    entry.update(
                        lit=lit,
                        color=light.color.value if lit and light.color else "off",
                        mode=light.mode.value if lit and light.mode else "off",
                        qty=light.qty if lit else 0,
                    )
                else:
                    state = bus.desired(location)
                    entry.update(
                        lit=state is not None,
                        color=state.color.value if state else "off",
                        mode=state.mode.value if state else "off",
                        qty=state.qty if state else 0,
                    )
                lights.append(entry)
            place = next((d for d in self.settings.devices if d.name == config.name), None)
            zone = self._zones.get(config.name)
            buses.append(
                {
                    "device": config.name,
                    "zone": place.zone if place else None,
                    "station": place.station if place else None,
                    "order_complete": zone.zone.order_complete if zone else None,
                    "simulated": sim is not None,
                    "lights": lights,
                }
            )
        return buses

    def _simulated(self, name: str) -> bool:
        return self.simulators is not None and (
            name in self.simulators.ptl or name in self.simulators.scanners
        )

    # ------------------------------------------------------------------ the virtual panel

    def press(self, device: str, location: str, button: Button, quantity: int | None) -> bool:
        """Press a light of a simulated bus, as a person at the rack; False if it is dark.

        Raises DeviceSetupError when the bus is not a simulator (a real light is pressed at
        the rack) or has no such location.
        """
        sim = self.simulators.ptl.get(device) if self.simulators else None
        if sim is None or self.simulators is None:
            raise DeviceSetupError(f"{device} is not a simulated bus")
        if location not in self.manager.ptl(device).config.lights:
            raise DeviceSetupError(f"{device} has no light at {location}")
        pressed = self.simulators.press(
            device, location, button=DeviceButton(button.value), quantity=quantity
        )
        self._publish_panel()
        return pressed

    # ------------------------------------------------------------------ the floor thread

    def _run(self) -> None:
        next_refresh = 0.0
        while not self._stopping.is_set():
            timeout = max(0.0, next_refresh - time.monotonic())
            try:
                event = self._events.get(timeout=timeout)
            except queue.Empty:
                event = None
            acted = False
            while event is not None:
                try:
                    acted = self._handle(event) or acted
                except Exception:  # one bad event must not stop the floor
                    log.exception("handling device event %r", event)
                try:
                    event = self._events.get_nowait()
                except queue.Empty:
                    event = None
            if self._stopping.is_set():
                return
            if acted or time.monotonic() >= next_refresh:
                try:
                    self.refresh_lights()
                except Exception:  # a database hiccup: try again at the next refresh
                    log.exception("refreshing the lights")
                next_refresh = time.monotonic() + self.refresh
                self._publish_panel()
                self._publish_health()

    def _handle(self, event: DeviceEvent | object) -> bool:
        if event is _REFRESH:
            return True
        if isinstance(event, ButtonPressed):
            self._on_press(event)
            return True
        if isinstance(event, DeviceStateChanged):
            log.info("device %s: %s (%s)", event.device, event.detail, event.state.label)
            self._record_status(event.device)
            self._next_health = 0.0
            return False
        if isinstance(event, ScanRead):
            wall = next((b for b, w in self._walls.items() if event.device in w.scanners), None)
            if wall is not None:
                self.wall_scan(wall, event.scan.raw, f"wall:{event.device}:{time.time_ns()}")
                return True
        self._notify("scan", event)  # other scanners: for the stations that take them
        return False

    def _on_press(self, press: ButtonPressed) -> None:
        if press.device in self._walls:
            self._on_wall_press(self._walls[press.device], press)
            return
        zone = self._zones.get(press.device)
        with self._lock:
            if zone is not None:
                # The unit turned itself off: send what it should show again at the next refresh.
                zone.shown.pop(press.location, None)
        tag = read_tag(press.tag)
        if zone is None or tag is None:
            log.info("press at %s (%s) answers nothing lit by the app", press.location, press.tag)
            return
        kind, number = tag
        button = Button(press.button.value)
        if kind == "complete":
            client_id = press_client_id(press.device, press.tag or "", button, press.sequence)
            with self.db.write() as session:
                pick_to_light.pass_on(
                    session, client_id=client_id, batch_id=number, device=press.device
                )
            self.presses_handled += 1
            self._notify(
                "press",
                {
                    "device": press.device,
                    "location": press.location,
                    "ok": True,
                    "reason": "tote_passed_on",
                    "params": {},
                },
            )
            return
        client_id = press_client_id(press.device, press.tag or "", button, press.sequence)
        with self.db.write() as session:
            outcome = pick_to_light.press_pick(
                session,
                client_id=client_id,
                task_id=number,
                button=button,
                quantity=press.quantity if button is Button.SHORT else None,
                device=press.device,
                location=press.location,
            )
        self.presses_handled += 1
        log.info("press %s at %s: %s %s", client_id, press.location, outcome.reason, outcome.params)
        self._notify(
            "press",
            {
                "device": press.device,
                "location": press.location,
                "ok": outcome.ok,
                "reason": outcome.reason,
                "params": outcome.params,
                "repeated": outcome.repeated,
            },
        )

    # ------------------------------------------------------------------ put walls

    def wall_scan(self, bus: str, raw: str, client_id: str) -> dict[str, Any]:
        """A scan at a put wall (its serial scanner or its screen): start a batch or light a slot.

        Returns the wall's answer (ok, reason, params) and tells the wall's screens.
        """
        wall = self._walls.get(bus)
        if wall is None:
            raise DeviceSetupError(f"{bus} is not a put wall")
        with self.db.write() as session:
            answer, pending, slot = put_wall.scan_at_wall(
                session,
                station=wall.station,
                client_id=client_id,
                raw=raw,
                slots=len(wall.slots),
            )
        with self._lock:
            if answer.reason == "wall_started":
                wall.pending.clear()
            if pending is not None and slot is not None:
                wall.last_ref += 1
                wall.pending[wall.slots[slot - 1]] = replace(pending, ref=wall.last_ref)
        result = {"device": bus, "wall": wall.station, **answer.as_dict()}
        self._notify("wall", result)
        self._events.put(_REFRESH)  # light the slot now, not at the next refresh
        return result

    def _on_wall_press(self, wall: _WallState, press: ButtonPressed) -> None:
        tag = read_tag(press.tag)
        with self._lock:
            wall.shown.pop(press.location, None)  # the slot turned itself off: resend
            pending = wall.pending.get(press.location)
            if pending is not None and tag == ("put", pending.ref):
                del wall.pending[press.location]
            else:
                pending = None  # a late press on an earlier put: it was confirmed already
        if tag is None:
            return
        client_id = press_client_id(press.device, press.tag or "", Button.CONFIRM, press.sequence)
        with self.db.write() as session:
            if tag[0] == "put" and pending is not None:
                answer = put_wall.confirm_put(
                    session, station=wall.station, client_id=client_id, put=pending
                )
            elif tag[0] == "full":
                answer = put_wall.clear_slot(
                    session, station=wall.station, client_id=client_id, order_id=tag[1]
                )
            else:
                return
        self.presses_handled += 1
        self._notify("wall", {"device": press.device, "wall": wall.station, **answer.as_dict()})

    def _wall_wanted(self, wall: _WallState) -> dict[str, LightSignal]:
        with self.db.read() as session:
            state = put_wall.wall_state(session, wall.station)
        with self._lock:
            pending = dict(wall.pending)
        return wall_lights(wall.slots, state.needs, pending, state.cleared)

    # ------------------------------------------------------------------ zones

    def refresh_lights(self) -> None:
        """Bring every pick-to-light zone's and put wall's lights in line with the database."""
        for bus, wall in self._walls.items():
            wanted = self._wall_wanted(wall)
            with self._lock:
                changes = light_changes(wall.shown, wanted)
                if changes:
                    self.manager.ptl(bus).apply(
                        {location: _device_state(signal) for location, signal in changes.items()}
                    )
                    wall.shown = dict(wanted)
        for bus, state in self._zones.items():
            wanted = self._wanted(state)
            with self._lock:
                changes = light_changes(state.shown, wanted)
                if not changes:
                    continue
                self.manager.ptl(bus).apply(
                    {location: _device_state(signal) for location, signal in changes.items()}
                )
                state.shown = dict(wanted)

    def _wanted(self, state: _ZoneState) -> dict[str, LightSignal]:
        code = state.zone.code
        waiting: ToteDone | None = None
        with self.db.read() as session:
            tote = pick_to_light.working_tote(session, code)
            picks = pick_to_light.open_picks(session, tote.id) if tote is not None else []
            if tote is None and state.zone.order_complete is not None:
                # A finished tote waits for its pass-on press (read back after a restart too).
                found = pick_to_light.tote_waiting(session, code)
                waiting = ToteDone(*found) if found is not None else None
        if tote is None and waiting is None:
            with self.db.write() as session:
                started = pick_to_light.start_next_tote(session, code)
                if started is not None:
                    log.info("zone %s: tote %s enters the zone", code, started.code)
                    tote = started
                    picks = pick_to_light.open_picks(session, started.id)
        state.tote = tote.id if tote is not None else None
        state.waiting = waiting
        return wanted_lights(state.zone, picks, waiting)

    def _record_status(self, name: str) -> None:
        health = next((h for h in self.health() if h.name == name), None)
        if health is None:
            return
        seen = (
            dt.datetime.fromtimestamp(health.last_seen, dt.UTC)
            if health.last_seen is not None
            else None
        )
        try:
            with self.db.write() as session:
                session.execute(
                    update(Device)
                    .where(Device.name == name)
                    .values(status=health.state.label, last_seen_at=seen)
                )
        except Exception:  # the device row is a courtesy for reports; never stop the floor
            log.exception("recording the status of device %s", name)

    # ------------------------------------------------------------------ publishing

    def _notify(self, topic: str, data: Any) -> None:
        for listener in list(self._listeners):
            try:
                listener(topic, data)
            except Exception:
                log.exception("device listener %r", listener)

    def _publish_panel(self) -> None:
        panel = self.panel()
        if panel != self._last_panel:
            self._last_panel = panel
            self._notify("lights", panel)

    def _publish_health(self) -> None:
        now = time.monotonic()
        if now < self._next_health:
            return
        self._next_health = now + HEALTH_SECONDS
        health = self.health_view()
        if health != self._last_health:
            self._last_health = health
            self._notify("health", health)


def _device_state(signal: LightSignal | None) -> LightState | None:
    if signal is None:
        return None
    return LightState(Color(signal.color.value), Mode(signal.mode.value), signal.qty, signal.tag)


def get_floor_devices(app: Flask) -> FloorDevices | None:
    """The app's floor devices, or None when it has none configured."""
    devices = app.extensions.get(EXTENSION)
    return devices if isinstance(devices, FloorDevices) else None


def init_floor_devices(
    app: Flask, settings: Settings, db: Database, simulators: Simulators | None = None
) -> FloorDevices | None:
    """Build the floor devices (not started) and store them on the app; None without devices."""
    if not settings.devices:
        return None
    devices = FloorDevices(settings, db, simulators=simulators)
    app.extensions[EXTENSION] = devices
    from web.lights import publish

    devices.add_listener(publish)
    return devices


def start_with_server(app: Flask) -> None:
    """Start the app's devices in the server's worker process, and stop them at its exit.

    gunicorn builds the app in the arbiter and forks one worker: threads and serial ports
    opened before the fork would stay in the arbiter, so the start is hooked to the fork.
    """
    devices = get_floor_devices(app)
    if devices is None:
        return

    def start_in_worker() -> None:
        devices.start()
        atexit.register(devices.stop)

    os.register_at_fork(after_in_child=start_in_worker)


def simulated_devices(settings: Settings) -> Simulators:
    """Simulators for every device of ``settings`` (the demo's floor)."""
    return Simulators(device_configs(settings))


# --------------------------------------------------------------------------- the demo's floor

_DEMO_PRINTERS: list[SimulatedZebraPrinter] = []


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def demo_floor(settings: Settings, light_zone: list[str]) -> tuple[Settings, Simulators, list[str]]:
    """The demo's devices, all simulated on 127.0.0.1, added to ``settings``.

    - ``demo-ptl-p``: a pick-to-light bus (generic-ptl-v1, 38,400 baud) for zone P, one unit
      per location of ``light_zone`` and the next unit as the zone's "order complete" light
      ``P-DONE``;
    - ``demo-put-wall``: a bus lighting the put wall slots PW-01..PW-24 (station put-wall-1);
    - ``demo-scanner-pack-1``: a serial scanner (device-server mode) at pack station pack-1,
      and ``demo-scanner-put-wall-1`` at the put wall;
    - ``demo-zebra-pack-1``: a simulated Zebra on tcp:// for pack station pack-1, started now
      so it serves from the server's main process (unless config.yaml has a pack-1 printer).

    The pick-to-light and scanner simulators are returned, to be started with the drivers in
    the server's worker (the virtual light panel presses them there).
    """
    data = settings.model_dump(mode="json")
    zones = [z for z in data["zones"] if z["code"] != "P"]
    zones.append({"code": "P", "name": "Pick-to-light (demo)", "kind": "pick_to_light"})
    lights: dict[str, str | int] = {code: n for n, code in enumerate(light_zone, start=1)}
    lights["P-DONE"] = len(light_zone) + 1
    devices = list(data["devices"])
    if light_zone:
        devices.append(
            {
                "name": "demo-ptl-p",
                "kind": "ptl_bus",
                "driver": "generic-ptl-v1",
                "url": f"socket://127.0.0.1:{_free_port()}",
                "baudrate": 38400,
                "zone": "P",
                "lights": lights,
                "order_complete": "P-DONE",
            }
        )
    devices.append(
        {
            "name": "demo-put-wall",
            "kind": "ptl_bus",
            "driver": "generic-ptl-v1",
            "url": f"socket://127.0.0.1:{_free_port()}",
            "baudrate": 38400,
            "station": "put-wall-1",
            "lights": {f"PW-{n:02d}": n for n in range(1, 25)},
        }
    )
    devices.append(
        {
            "name": "demo-scanner-pack-1",
            "kind": "scanner",
            "driver": "serial-line",
            "url": f"socket://127.0.0.1:{_free_port()}",
            "baudrate": 9600,
            "station": "pack-1",
        }
    )
    devices.append(
        {
            "name": "demo-scanner-put-wall-1",
            "kind": "scanner",
            "driver": "serial-line",
            "url": f"socket://127.0.0.1:{_free_port()}",
            "baudrate": 9600,
            "station": "put-wall-1",
        }
    )
    printers = list(data["printers"])
    lines = []
    if not any(p.get("station") == "pack-1" for p in printers):
        printer = SimulatedZebraPrinter()
        printer.start()
        _DEMO_PRINTERS.append(printer)
        atexit.register(printer.stop)
        printers.append({"name": "demo-zebra-pack-1", "url": printer.url, "station": "pack-1"})
        lines.append(f"Simulated Zebra printer for pack-1: {printer.url}")
    demo = Settings.model_validate(
        {**data, "zones": zones, "devices": devices, "printers": printers}
    )
    for device in demo.devices[len(data["devices"]) :]:
        lines.append(f"Simulated {device.kind} {device.name}: {device.url}")
    lines.append("Virtual light panel: /lights; device health: /devices")
    return demo, simulated_devices(demo), lines
