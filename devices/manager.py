"""The device manager: drivers started from plain configs, one event stream, one health view.

The web layer builds a :class:`DeviceManager` from the ``devices`` list of config.yaml, starts
it with the server, reads events from it (a callback, or the ``events`` queue) and shows
``health()`` on the admin page. Nothing here knows about orders, tasks or Flask.

.. code-block:: yaml

    devices:
      - name: zone-a
        kind: ptl
        driver: modbus-rtu
        url: /dev/ttyUSB0            # or socket://moxa-1:4001, rfc2217://..., a socat pty
        options:
          profile: generic-ptl-v1
          baudrate: 19200
          lights: {A-01-01: 1, A-01-02: 2, PW1-01: "9/0", PW1-02: "9/1"}
      - name: pack-1-scanner
        kind: scanner
        driver: serial-line
        url: /dev/ttyACM0
        options: {baudrate: 9600, gs_substitutes: ["|"]}
"""

from __future__ import annotations

import logging
import queue
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Protocol

from devices.errors import ConfigError
from devices.health import DeviceHealth, DeviceStateChanged, WireFrame
from devices.ptl.codec import LightAddress, LightState
from devices.ptl.driver import ButtonPressed, PtlBus, PtlBusConfig
from devices.ptl.profile import Color, Mode
from devices.ptl.simulator import PtlSimulator, WireTiming
from devices.scanner.driver import ScannerConfig, ScanRead, ScanRejected, SerialScanner
from devices.scanner.simulator import ScannerSimulator

log = logging.getLogger(__name__)

DeviceEvent = ButtonPressed | ScanRead | ScanRejected | DeviceStateChanged


@dataclass(frozen=True)
class DeviceConfig:
    """One device as configured: what it is, which driver talks to it, and where."""

    name: str
    kind: str
    driver: str
    url: str
    options: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DeviceConfig:
        """From a config.yaml entry; raises ConfigError naming what is missing."""
        missing = [k for k in ("name", "kind", "url") if not data.get(k)]
        if missing:
            raise ConfigError(f"device {data.get('name', '?')}: missing {', '.join(missing)}")
        kind = str(data["kind"])
        unknown = set(data) - {"name", "kind", "driver", "url", "options"}
        if unknown:
            raise ConfigError(f"device {data['name']}: unknown keys {', '.join(sorted(unknown))}")
        return cls(
            name=str(data["name"]),
            kind=kind,
            driver=str(data.get("driver") or DEFAULT_DRIVERS.get(kind, "")),
            url=str(data["url"]),
            options=dict(data.get("options") or {}),
        )


class Driver(Protocol):
    """What the manager needs from a driver."""

    name: str

    def start(self) -> None: ...

    def stop(self, timeout: float = 5.0) -> None: ...

    def health(self) -> DeviceHealth: ...

    def wire_log(self) -> list[WireFrame]: ...


DriverFactory = Callable[[DeviceConfig, Callable[[Any], None]], Driver]


def _ptl(config: DeviceConfig, emit: Callable[[Any], None]) -> Driver:
    return PtlBus(PtlBusConfig.from_options(config.name, config.url, config.options), emit)


def _scanner(config: DeviceConfig, emit: Callable[[Any], None]) -> Driver:
    return SerialScanner(ScannerConfig.from_options(config.name, config.url, config.options), emit)


#: (kind, driver) -> factory. One entry per integration, as in Home Assistant's components.
DRIVERS: dict[tuple[str, str], DriverFactory] = {
    ("ptl", "modbus-rtu"): _ptl,
    ("scanner", "serial-line"): _scanner,
}
DEFAULT_DRIVERS = {"ptl": "modbus-rtu", "scanner": "serial-line"}


class DeviceManager:
    """Starts, stops and watches every configured device."""

    def __init__(
        self,
        configs: Iterable[DeviceConfig | Mapping[str, Any]],
        on_event: Callable[[DeviceEvent], None] | None = None,
    ) -> None:
        """Build every driver now, so a bad config fails at startup and not on the floor.

        Events go to ``on_event`` (called from device threads: keep it short, e.g. enqueue)
        or, without one, to the ``events`` queue.
        """
        self.events: queue.Queue[DeviceEvent] = queue.Queue()
        self._on_event = on_event
        self.configs: dict[str, DeviceConfig] = {}
        self._drivers: dict[str, Driver] = {}
        self._location_bus: dict[str, PtlBus] = {}
        for raw in configs:
            config = raw if isinstance(raw, DeviceConfig) else DeviceConfig.from_dict(raw)
            if config.name in self.configs:
                raise ConfigError(f"two devices are named {config.name!r}")
            factory = DRIVERS.get((config.kind, config.driver))
            if factory is None:
                known = ", ".join(f"{k}/{d}" for k, d in DRIVERS)
                raise ConfigError(
                    f"device {config.name}: no driver {config.kind}/{config.driver} ({known})"
                )
            driver = factory(config, self._emit)
            self.configs[config.name] = config
            self._drivers[config.name] = driver
            if isinstance(driver, PtlBus):
                for location in driver.locations:
                    if location in self._location_bus:
                        other = self._location_bus[location].name
                        raise ConfigError(f"location {location} is on {other} and {config.name}")
                    self._location_bus[location] = driver
        self._started = False

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Start every driver; returns at once (ports open in the background)."""
        for driver in self._drivers.values():
            driver.start()
        self._started = True

    def stop(self, timeout: float = 5.0) -> None:
        """Stop every driver and close every port."""
        for driver in self._drivers.values():
            try:
                driver.stop(timeout)
            except Exception:  # one stuck driver must not keep the others running
                log.exception("stopping device %s", driver.name)
        self._started = False

    def __enter__(self) -> DeviceManager:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ------------------------------------------------------------------ queries

    def names(self) -> list[str]:
        """Configured device names, in config order."""
        return list(self._drivers)

    def health(self) -> list[DeviceHealth]:
        """Health of every device, in config order."""
        return [driver.health() for driver in self._drivers.values()]

    def wire_log(self, name: str) -> list[WireFrame]:
        """Recent raw traffic of one device."""
        return self._driver(name).wire_log()

    def ptl(self, name: str) -> PtlBus:
        """The pick-to-light bus called ``name``."""
        driver = self._driver(name)
        if not isinstance(driver, PtlBus):
            raise ConfigError(f"device {name} is not a pick-to-light bus")
        return driver

    def scanner(self, name: str) -> SerialScanner:
        """The scanner called ``name``."""
        driver = self._driver(name)
        if not isinstance(driver, SerialScanner):
            raise ConfigError(f"device {name} is not a scanner")
        return driver

    def locations(self) -> dict[str, str]:
        """Every lit location -> the bus it is on."""
        return {location: bus.name for location, bus in self._location_bus.items()}

    # ------------------------------------------------------------------ commands

    def light(
        self,
        location: str,
        color: Color | str,
        mode: Mode | str = Mode.STEADY,
        qty: int = 0,
        tag: str | None = None,
    ) -> None:
        """Light a location on whichever bus it is; never blocks."""
        self._bus_of(location).light(location, color, mode, qty, tag)

    def off(self, location: str) -> None:
        """Turn a location off; never blocks."""
        self._bus_of(location).off(location)

    def apply(self, changes: Mapping[str, LightState | None]) -> None:
        """Set several locations at once, each bus's share in one go (coalesced writes)."""
        by_bus: dict[str, dict[str, LightState | None]] = {}
        for location, state in changes.items():
            by_bus.setdefault(self._bus_of(location).name, {})[location] = state
        for name, share in by_bus.items():
            self.ptl(name).apply(share)

    # ------------------------------------------------------------------ internals

    def _driver(self, name: str) -> Driver:
        try:
            return self._drivers[name]
        except KeyError:
            raise ConfigError(f"no device named {name!r}") from None

    def _bus_of(self, location: str) -> PtlBus:
        try:
            return self._location_bus[location]
        except KeyError:
            raise ConfigError(f"no pick-to-light bus lights {location!r}") from None

    def _emit(self, event: DeviceEvent) -> None:
        if self._on_event is not None:
            self._on_event(event)
        else:
            self.events.put(event)


class Simulators:
    """Simulators matching a device config (demo, tests, benchmarks): same URLs, same maps."""

    def __init__(
        self,
        configs: Iterable[DeviceConfig | Mapping[str, Any]],
        *,
        pace: bool = False,
        turnaround: float = 0.002,
    ) -> None:
        """One PTL simulator per bus (serving its units) and one scanner per scanner config."""
        self.ptl: dict[str, PtlSimulator] = {}
        self.scanners: dict[str, ScannerSimulator] = {}
        self._lights: dict[str, Mapping[str, LightAddress]] = {}
        for raw in configs:
            config = raw if isinstance(raw, DeviceConfig) else DeviceConfig.from_dict(raw)
            if config.kind == "ptl":
                bus = PtlBusConfig.from_options(config.name, config.url, config.options)
                units = sorted({a.unit for a in bus.lights.values()})
                timing = WireTiming(bus.line.baudrate, turnaround=turnaround)
                self.ptl[config.name] = PtlSimulator(
                    config.url, units, bus.profile, timing=timing, pace=pace
                )
                self._lights[config.name] = bus.lights
            elif config.kind == "scanner":
                self.scanners[config.name] = ScannerSimulator(config.url)

    def start(self) -> None:
        """Start every simulator."""
        for sim in self.ptl.values():
            sim.start()
        for scanner in self.scanners.values():
            scanner.start()

    def stop(self) -> None:
        """Stop every simulator."""
        for sim in self.ptl.values():
            sim.stop()
        for scanner in self.scanners.values():
            scanner.stop()

    def press(self, bus: str, location: str, **kwargs: Any) -> bool:
        """Press the button of a configured location (as a person at the rack would)."""
        address = self._lights[bus][location]
        return self.ptl[bus].press(address.unit, address.slot, **kwargs)

    def __enter__(self) -> Simulators:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
