"""The pick-to-light bus driver: one scheduler thread per RS-485 bus, pymodbus as the master.

Callers change the *desired* state of lights (``light``/``off``) and return at once; the bus
thread owns the serial port and turns desired state into Modbus traffic:

1. units that need a sync (first contact, back from offline, after a reconnect or a restart)
   are read in full first, so press counters have a baseline and lost lights are found;
2. then light changes, coalesced per unit into FC16 writes ("light-on before polling"); a slot
   the device shows lit is polled just before it is overwritten, so a press made on the old
   state is credited to that state;
3. then polls, round-robin over the units that have a lit slot; dark units are not polled,
   apart from a slow housekeeping read (at most one per ``idle_check`` seconds, for a unit
   that has been quiet a whole round) that keeps "last seen" fresh and finds units that went
   silent or restarted.

Presses are found by comparing the device's ack/short counters with the last values
accounted for, never by clearing a flag, so a failed poll loses nothing and a repeated read
counts nothing twice. Faults: a unit is offline after ``offline_after`` failed transactions in
a row and is retried with back-off; a garbled reply (bad CRC) is counted and retried at once;
a transport that disappears is reopened with back-off, after which every unit is re-synced.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, cast

import serial
from pymodbus import FramerType
from pymodbus.client import ModbusSerialClient
from pymodbus.exceptions import ConnectionException, ModbusException

from devices.errors import ConfigError, TransportOpenError
from devices.health import DeviceHealth, DeviceStateChanged, HealthState, WireFrame
from devices.ptl.codec import (
    Button,
    Counters,
    CrcError,
    ExceptionReply,
    LightAddress,
    LightState,
    RegisterRead,
    RegisterWrite,
    SlotReading,
    UnitReading,
    counters_of,
    crc16,
    decode_reading,
    plan_poll,
    plan_sync_read,
    plan_writes,
    presses_since,
    reply_complete,
)
from devices.ptl.profile import Color, Mode, PtlProfile, load_profile
from devices.transport import (
    PORT_ERRORS,
    Backoff,
    LineSettings,
    close_port,
    open_serial,
    read_available,
)

log = logging.getLogger(__name__)

#: A CRC error younger than this keeps the bus in "warning".
CRC_WARNING_WINDOW = 30.0


@dataclass(frozen=True)
class PtlBusConfig:
    """Everything one bus needs; built from plain config by ``from_options``."""

    name: str
    url: str
    lights: Mapping[str, LightAddress]
    profile: PtlProfile = field(default_factory=lambda: load_profile(None))
    line: LineSettings = field(default_factory=LineSettings)
    #: Seconds to wait for a reply; a real unit answers in a few ms plus wire time.
    timeout: float = 0.2
    #: Failed transactions in a row before a unit is marked offline.
    offline_after: int = 3
    #: Immediate retries of a garbled (bad CRC) reply before it counts as a failure.
    crc_retries: int = 2
    unit_retry_initial: float = 0.5
    unit_retry_max: float = 10.0
    reconnect_initial: float = 0.1
    reconnect_max: float = 5.0
    #: At most one housekeeping read per this many seconds, for the unit heard from least
    #: recently, when it has been quiet for idle_check x units: keeps "last seen" fresh and
    #: finds dark units that went silent or restarted, at under one transaction a second.
    idle_check: float = 1.0
    #: Frames kept in the in-memory wire log (the admin page shows them).
    wire_log_size: int = 200

    def __post_init__(self) -> None:
        if not self.lights:
            raise ConfigError(f"PTL bus {self.name}: no lights configured")
        seen: dict[LightAddress, str] = {}
        for location, address in self.lights.items():
            if address.slot >= self.profile.slots_per_unit:
                raise ConfigError(
                    f"PTL bus {self.name}: {location} uses slot {address.slot} but "
                    f"profile {self.profile.name} has {self.profile.slots_per_unit} per unit"
                )
            if address in seen:
                raise ConfigError(
                    f"PTL bus {self.name}: {location} and {seen[address]} share light {address}"
                )
            seen[address] = location
        if self.timeout <= 0 or self.offline_after < 1 or self.crc_retries < 0:
            raise ConfigError(f"PTL bus {self.name}: timeout > 0, offline_after >= 1")

    @classmethod
    def from_options(cls, name: str, url: str, options: Mapping[str, Any]) -> PtlBusConfig:
        """From plain config: ``lights`` maps location -> "UNIT" or "UNIT/SLOT"."""
        opts = dict(options)
        try:
            lights = {str(k): LightAddress.parse(v) for k, v in dict(opts.pop("lights")).items()}
        except KeyError:
            raise ConfigError(f"PTL bus {name}: options need 'lights'") from None
        profile = load_profile(opts.pop("profile", None))
        line = LineSettings(
            baudrate=int(opts.pop("baudrate", 19200)),
            bytesize=int(opts.pop("bytesize", 8)),
            parity=str(opts.pop("parity", "N")),
            stopbits=float(opts.pop("stopbits", 1)),
        )
        numbers = {k: opts.pop(k) for k in list(opts) if k in _NUMERIC_OPTIONS}
        if opts:
            raise ConfigError(f"PTL bus {name}: unknown options {', '.join(sorted(opts))}")
        return cls(name=name, url=url, lights=lights, profile=profile, line=line, **numbers)


_NUMERIC_OPTIONS = {
    "timeout",
    "offline_after",
    "crc_retries",
    "unit_retry_initial",
    "unit_retry_max",
    "reconnect_initial",
    "reconnect_max",
    "idle_check",
    "wire_log_size",
}


@dataclass(frozen=True)
class ButtonPressed:
    """A confirm or short-pick press at a location, reported exactly once.

    ``sequence`` is the device counter value the press produced (with device, location and
    button it identifies the press); ``tag`` is the tag of the light state it answered;
    ``quantity`` is what the display showed (keyed in by the operator for a short pick).
    """

    device: str
    location: str
    address: LightAddress
    button: Button
    quantity: int | None
    sequence: int
    tag: str | None
    at: float = field(default_factory=time.time)


PtlEvent = ButtonPressed | DeviceStateChanged


class UnitState(Enum):
    """A unit as the bus thread sees it."""

    UNKNOWN = "unknown"
    ONLINE = "online"
    OFFLINE = "offline"
    FAULT = "fault"


class _BusLost(Exception):
    """The transport went away during a transaction."""


@dataclass
class _Light:
    location: str
    address: LightAddress
    desired: LightState | None = None
    #: The state last written (its tag is what a press answers); kept after a press for races.
    shown: LightState | None = None
    previous_shown: LightState | None = None
    #: Whether the device is believed lit (from our writes and its readings).
    device_lit: bool = False
    dirty: bool = False
    counters: Counters | None = None


@dataclass
class _Unit:
    unit: int
    lights: dict[int, _Light]
    backoff: Backoff
    state: UnitState = UnitState.UNKNOWN
    needs_sync: bool = True
    failures: int = 0
    next_attempt: float = 0.0
    boot_id: int | None = None
    last_seen: float | None = None
    last_read: float = 0.0
    last_contact: float = 0.0
    detail: str = ""
    timeouts: int = 0
    crc_errors: int = 0
    exceptions: int = 0
    reads: int = 0

    def available(self, now: float) -> bool:
        return self.state not in (UnitState.OFFLINE, UnitState.FAULT) or now >= self.next_attempt

    def lit_slots(self) -> list[int]:
        return [s for s, light in self.lights.items() if light.device_lit]


class _RtuClient(ModbusSerialClient):
    """pymodbus's serial master on our transport, with a receive path that keeps up with the bus.

    - the port comes from ``devices.transport`` (typed open errors, any pyserial URL);
    - ``recv`` returns as soon as bytes arrive instead of polling with sleeps (pymodbus's own
      loop manages ~46 frames/s over socket://, below a real 19,200 baud bus);
    - a late reply to an earlier request is flushed before each send, and after a silent
      timeout the line is drained for one more timeout (see ``drain_late_reply``);
    - a complete reply with a bad CRC raises CrcError at once instead of a timeout later.
    """

    def __init__(self, url: str, line: LineSettings, timeout: float) -> None:
        super().__init__(
            url,
            framer=FramerType.RTU,
            baudrate=line.baudrate,
            bytesize=line.bytesize,
            parity=line.parity,
            stopbits=int(line.stopbits),
            timeout=timeout,
            retries=0,
        )
        self._url = url
        self._line = line
        self._timeout = timeout
        self.request = b""
        self.received = bytearray()
        self.open_error: TransportOpenError | None = None

    def connect(self) -> bool:
        """Open the port once; the bus thread decides when to try again."""
        if self.socket:
            return True
        try:
            port = open_serial(
                self._url, self._line, timeout=self._timeout, write_timeout=self._timeout
            )
            # pymodbus types the port as serial.Serial; any pyserial URL handler quacks alike.
            self.socket = cast(serial.Serial, port)
        except TransportOpenError as exc:
            self.open_error = exc
            return False
        self.open_error = None
        return True

    def send(self, request: bytes, addr: tuple[Any, ...] | None = None) -> int:
        """Flush stale input, then write the request."""
        if not self.socket:
            raise ConnectionException(self._url)
        self.request = request
        self.received.clear()
        try:
            self.socket.reset_input_buffer()
            return self.socket.write(request) or 0
        except PORT_ERRORS as exc:
            self.close()
            raise ConnectionException(f"{self._url}: {exc}") from exc

    def recv(self, size: int | None) -> bytes:
        """Whatever has arrived, waiting up to the timeout for the first byte."""
        if not self.socket:
            raise ConnectionException(self._url)
        try:
            data = read_available(self.socket, 512)
        except PORT_ERRORS as exc:
            self.close()
            raise ConnectionException(f"{self._url}: {exc}") from exc
        if data:
            self.received += data
            length = reply_complete(self.request, bytes(self.received))
            if length is not None and len(self.received) >= length:
                reply = bytes(self.received[:length])
                if crc16(reply[:-2]) != int.from_bytes(reply[-2:], "little"):
                    raise CrcError(f"CRC mismatch in {reply.hex(' ')}")
        return data

    def drain_late_reply(self) -> int:
        """Discard whatever arrives within one more timeout; the number of bytes dropped.

        RTU replies carry no request id: a slow unit's late answer that lands while the same
        unit is asked again looks exactly like the new answer, and the bus would run one reply
        behind. Masters wait out the line after a timeout for this reason.
        """
        if not self.socket:
            return 0
        dropped = 0
        deadline = time.monotonic() + self._timeout
        try:
            while time.monotonic() < deadline:
                dropped += len(read_available(self.socket, 512))
        except PORT_ERRORS:
            return dropped  # the next send reports the lost port
        return dropped

    def close(self) -> None:
        """Close the port, tolerating one that already vanished."""
        port, self.socket = self.socket, None
        if port is not None:
            close_port(port)


def _shown(state: LightState | None) -> LightState | None:
    """None for every way of saying "dark"."""
    if state is None or state.mode is Mode.OFF or state.color is Color.OFF:
        return None
    return state


def _answers(op: RegisterRead | RegisterWrite, reply: Any) -> bool:
    """Whether a decoded reply is the answer to ``op`` (same function, address and count)."""
    if isinstance(op, RegisterRead):
        return bool(reply.function_code == 3 and len(reply.registers) == op.count)
    return bool(
        reply.function_code == 16 and reply.address == op.address and reply.count == len(op.values)
    )


class PtlBus:
    """One pick-to-light bus: light and turn off locations; presses come back as events."""

    def __init__(
        self,
        config: PtlBusConfig,
        on_event: Callable[[PtlEvent], None] | None = None,
    ) -> None:
        self.config = config
        self.name = config.name
        self.profile = config.profile
        self._on_event = on_event
        self._wire_log = logging.getLogger(f"devices.wire.{config.name}")
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._client: _RtuClient | None = None
        self._lights: dict[str, _Light] = {}
        self._units: dict[int, _Unit] = {}
        for location, address in config.lights.items():
            unit = self._units.get(address.unit)
            if unit is None:
                backoff = Backoff(config.unit_retry_initial, config.unit_retry_max)
                unit = self._units[address.unit] = _Unit(address.unit, {}, backoff)
            light = _Light(location, address)
            unit.lights[address.slot] = light
            self._lights[location] = light
        self._poll_order = sorted(self._units)
        self._poll_next = 0
        self._next_idle_check = 0.0
        self._reconnect = Backoff(config.reconnect_initial, config.reconnect_max)
        self._connected = False
        self._transport_detail = "starting"
        self._driver_fault = ""
        self._last_seen: float | None = None
        self._last_crc_error = 0.0
        self._frames: deque[WireFrame] = deque(maxlen=config.wire_log_size)
        self.counters: dict[str, int] = dict.fromkeys(
            (
                "writes",
                "polls",
                "syncs",
                "presses",
                "timeouts",
                "crc_errors",
                "exceptions",
                "reconnects",
                "driver_faults",
            ),
            0,
        )

    # ------------------------------------------------------------------ public API

    @property
    def locations(self) -> list[str]:
        """The locations this bus lights."""
        return list(self._lights)

    def start(self) -> None:
        """Start the bus thread (returns at once; the port is opened in the background)."""
        if self._thread is not None:
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name=f"ptl {self.name}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the bus thread and close the port; lights keep what they show."""
        thread = self._thread
        if thread is None:
            return
        self._stopping.set()
        self._wake.set()
        thread.join(timeout)
        self._thread = None

    def light(
        self,
        location: str,
        color: Color | str,
        mode: Mode | str = Mode.STEADY,
        qty: int = 0,
        tag: str | None = None,
    ) -> None:
        """Ask for a location to be lit; never blocks. Raises ConfigError for a bad request."""
        try:
            state = LightState(Color(color), Mode(mode), qty, tag)
        except ValueError as exc:
            raise ConfigError(f"PTL bus {self.name}: {exc}") from None
        self.apply({location: state})

    def off(self, location: str) -> None:
        """Ask for a location to be turned off; never blocks."""
        self.apply({location: None})

    def apply(self, changes: Mapping[str, LightState | None]) -> None:
        """Set several locations at once (a tote entering a zone, an order wave at a wall).

        They become due together, so a unit with several slots gets one coalesced write
        instead of one write per call that happened to reach the bus thread first.
        """
        lights = {location: self._light(location) for location in changes}
        # "Lit in colour off" is off: keep one spelling so the bus knows what is dark.
        wanted = {location: _shown(state) for location, state in changes.items()}
        # Validate against the profile now, so a bad colour fails the caller, not the bus.
        plan_writes(self.profile, {lights[loc].address: st for loc, st in wanted.items()})
        with self._lock:
            for location, state in wanted.items():
                lights[location].desired = state
                lights[location].dirty = True
        self._wake.set()

    def all_off(self) -> None:
        """Turn every light of the bus off (coalesced like any other change)."""
        self.apply(dict.fromkeys(self._lights))

    def desired(self, location: str) -> LightState | None:
        """What the location should show (None = off)."""
        with self._lock:
            return self._light(location).desired

    def pending(self) -> int:
        """How many light changes are not on the bus yet."""
        with self._lock:
            return sum(1 for light in self._lights.values() if light.dirty)

    def health(self) -> DeviceHealth:
        """A snapshot of the bus and its units."""
        with self._lock:
            now = time.monotonic()
            units = self._units.values()
            down = [u for u in units if u.state in (UnitState.OFFLINE, UnitState.FAULT)]
            if self._driver_fault:
                state, detail = HealthState.DRIVER_FAULT, self._driver_fault
            elif not self._connected:
                state, detail = HealthState.DEVICE_FAULT, self._transport_detail
            elif len(down) == len(self._units):
                state, detail = HealthState.DEVICE_FAULT, "no unit answers"
            elif down:
                names = ", ".join(f"unit {u.unit} {u.state.value}" for u in down)
                state, detail = HealthState.WARNING, names
            elif self._last_crc_error and now - self._last_crc_error < CRC_WARNING_WINDOW:
                state, detail = HealthState.WARNING, "recent CRC errors (check cabling)"
            else:
                state, detail = HealthState.OK, ""
            parts = {
                f"unit {u.unit}": u.state.value + (f": {u.detail}" if u.detail else "")
                for u in units
            }
            return DeviceHealth(
                name=self.name,
                kind="ptl",
                state=state,
                detail=detail,
                last_seen=self._last_seen,
                counters=dict(self.counters),
                parts=parts,
            )

    def unit_state(self, unit: int) -> UnitState:
        """How the bus thread sees one unit."""
        with self._lock:
            return self._units[unit].state

    def unit_reads(self, unit: int) -> int:
        """How many successful reads a unit has answered (each one re-checks its counters)."""
        with self._lock:
            return self._units[unit].reads

    def wire_log(self) -> list[WireFrame]:
        """The most recent frames on the wire, oldest first."""
        with self._lock:
            return list(self._frames)

    # ------------------------------------------------------------------ internals

    def _light(self, location: str) -> _Light:
        try:
            return self._lights[location]
        except KeyError:
            raise ConfigError(f"PTL bus {self.name} has no location {location!r}") from None

    def _count(self, counter: str) -> None:
        with self._lock:
            self.counters[counter] += 1

    def _emit(self, event: PtlEvent) -> None:
        if self._on_event is None:
            return
        try:
            self._on_event(event)
        except Exception:  # a failing subscriber must not stop the bus
            log.exception("PTL bus %s: event handler failed for %r", self.name, event)

    def _state_changed(self, detail: str, part: str | None = None) -> None:
        self._emit(DeviceStateChanged(self.name, self.health().state, detail, part))

    def _run(self) -> None:
        try:
            while not self._stopping.is_set():
                try:
                    if not self._connected and not self._connect():
                        continue
                    self._step()
                except _BusLost as exc:
                    self._lose(str(exc))
                except Exception as exc:  # a bug must not end the thread: report, back off
                    log.exception("PTL bus %s: driver fault", self.name)
                    with self._lock:
                        self._driver_fault = f"driver fault: {exc!r}"
                        self.counters["driver_faults"] += 1
                    self._state_changed(self._driver_fault)
                    self._lose(self._driver_fault)
        finally:
            if self._client is not None:
                self._client.close()
                self._client = None
            with self._lock:
                self._connected = False
                self._transport_detail = "stopped"

    def _connect(self) -> bool:
        if self._client is None:
            self._client = _RtuClient(self.config.url, self.config.line, self.config.timeout)
        if self._client.connect():
            with self._lock:
                self._connected = True
                self._transport_detail = ""
                for unit in self._units.values():
                    unit.needs_sync = True
                    unit.next_attempt = 0.0
            self._reconnect.reset()
            log.info("PTL bus %s: %s open", self.name, self.config.url)
            self._state_changed("transport open")
            return True
        error = self._client.open_error
        with self._lock:
            self._transport_detail = str(error) if error else f"cannot open {self.config.url}"
        self._stopping.wait(self._reconnect.next_delay())
        return False

    def _lose(self, reason: str) -> None:
        """Drop the transport; the next loop reopens it with back-off."""
        if self._client is not None:
            self._client.close()
        was_connected = self._connected
        with self._lock:
            self._connected = False
            self._transport_detail = f"transport lost: {reason}"
            if was_connected:
                self.counters["reconnects"] += 1
        if was_connected:
            log.warning("PTL bus %s: transport lost (%s); reopening", self.name, reason)
            self._state_changed(f"transport lost: {reason}")
        self._stopping.wait(self._reconnect.next_delay())

    def _step(self) -> None:
        """Do the most urgent piece of bus work, or wait for some."""
        now = time.monotonic()
        with self._lock:
            self._wake.clear()
            available = [u for u in self._units.values() if u.available(now)]
            sync = next((u for u in available if u.needs_sync), None)
            dirty = [u for u in available if any(li.dirty for li in u.lights.values())]
        if sync is not None:
            self._sync(sync)
            return
        if dirty:
            self._flush(dirty[0])
            return
        if available and now >= self._next_idle_check:
            # A trickle of one read per idle_check, for the unit heard from least recently,
            # and only if it has been quiet for a whole round: it keeps "last seen" fresh and
            # finds dark units that went silent or restarted (a poll read carries counters,
            # mode and boot id) without taxing a bus that is busy talking to them anyway.
            self._next_idle_check = now + self.config.idle_check
            oldest = min(available, key=lambda u: u.last_contact)
            if now - oldest.last_contact >= self.config.idle_check * len(self._units):
                self._poll(oldest, list(oldest.lights))
                return
        unit = self._next_poll(available)
        if unit is not None:
            self._poll(unit, unit.lit_slots())
            return
        self._wait(now)

    def _wait(self, now: float) -> None:
        with self._lock:
            due = [u.next_attempt for u in self._units.values() if not u.available(now)]
        due.append(self._next_idle_check)
        self._wake.wait(min(max(min(due) - now, 0.001), 1.0))

    def _next_poll(self, available: list[_Unit]) -> _Unit | None:
        candidates = {u.unit for u in available if u.lit_slots()}
        if not candidates:
            return None
        for _ in range(len(self._poll_order)):
            unit_id = self._poll_order[self._poll_next]
            self._poll_next = (self._poll_next + 1) % len(self._poll_order)
            if unit_id in candidates:
                return self._units[unit_id]
        return None

    # ------------------------------------------------------------ the three jobs

    def _sync(self, unit: _Unit) -> None:
        """Read everything of a unit and reconcile it with what should be shown."""
        reads = plan_sync_read(self.profile, unit.unit, unit.lights)
        reading = self._read(unit, reads)
        if reading is not None:
            self._count("syncs")
            self._reconcile(unit, reading, full=True)

    def _poll(self, unit: _Unit, slots: list[int]) -> bool:
        """Read the counters of some slots of a unit; False if the unit did not answer."""
        reading = self._read(unit, plan_poll(self.profile, unit.unit, slots))
        if reading is None:
            return False
        self._count("polls")
        self._reconcile(unit, reading, full=False)
        return True

    def _flush(self, unit: _Unit) -> None:
        """Write a unit's light changes, polling first if that overwrites a lit slot."""
        with self._lock:
            overwrite = [s for s, li in unit.lights.items() if li.dirty and li.device_lit]
        # A press on the old state must be read before the write hides it (mode goes lit).
        if overwrite and (not self._poll(unit, overwrite) or unit.needs_sync):
            return
        with self._lock:
            sending = {li.location: li.desired for li in unit.lights.values() if li.dirty}
            for light in unit.lights.values():
                if light.location in sending and light.shown is not sending[light.location]:
                    # From the moment it is sent the unit may show it, even if the reply is
                    # lost: a press after this answers the new state.
                    light.previous_shown = light.shown
                    light.shown = sending[light.location]
                    light.device_lit = light.device_lit or light.shown is not None
        batch = {self._lights[loc].address: state for loc, state in sending.items()}
        for write in plan_writes(self.profile, batch):
            if self._transact(unit, write) is None:
                return  # still dirty: written again once the unit answers
            self._count("writes")
        with self._lock:
            for location, state in sending.items():
                light = self._lights[location]
                light.device_lit = state is not None
                # Still dirty if the caller changed its mind while we were writing.
                light.dirty = light.desired is not state

    # ------------------------------------------------------------ reconciliation

    def _read(self, unit: _Unit, reads: Sequence[RegisterRead]) -> UnitReading | None:
        results: list[tuple[RegisterRead, Sequence[int]]] = []
        for read in reads:
            registers = self._transact(unit, read)
            if registers is None:
                return None
            results.append((read, registers))
        unit.last_read = time.monotonic()
        unit.reads += 1
        return decode_reading(self.profile, unit.unit, unit.lights, results)

    def _reconcile(self, unit: _Unit, reading: UnitReading, *, full: bool) -> None:
        """Account for presses, notice restarts, and mark lights that need rewriting."""
        events: list[ButtonPressed] = []
        with self._lock:
            restarted = (
                reading.boot_id is not None
                and unit.boot_id is not None
                and reading.boot_id != unit.boot_id
            )
            if restarted and not full:
                # Counters restarted from zero: a full read re-baselines every slot at once.
                unit.needs_sync = True
                unit.detail = "restarted"
            else:
                first_contact = unit.boot_id is None and reading.boot_id is not None
                unit.boot_id = reading.boot_id
                if full:
                    unit.needs_sync = False
                    unit.detail = "restarted" if restarted else ""
                for slot, slot_reading in reading.slots.items():
                    light = unit.lights[slot]
                    if restarted or first_contact or light.counters is None:
                        light.counters = counters_of(slot_reading)
                    else:
                        events += self._account(light, slot_reading)
                    self._compare(light, slot_reading)
        for event in events:
            self._count("presses")
            self._emit(event)
        if restarted:
            log.warning("PTL bus %s: unit %d restarted", self.name, unit.unit)
            self._state_changed(f"unit {unit.unit} restarted", f"unit {unit.unit}")

    def _account(self, light: _Light, reading: SlotReading) -> list[ButtonPressed]:
        """Presses since the last accounted counters, each credited to the state it answered."""
        assert light.counters is not None
        found, light.counters = presses_since(self.profile, light.counters, reading)
        events = []
        for press in found:
            answered = light.shown
            if self.profile.press_turns_off and reading.lit:
                # The unit is lit again although a press turns it off: we rewrote it after
                # the press, so the press answered what was shown before that write.
                answered = light.previous_shown or light.shown
            events.append(
                ButtonPressed(
                    device=self.name,
                    location=light.location,
                    address=light.address,
                    button=press.button,
                    quantity=press.quantity,
                    sequence=press.sequence,
                    tag=answered.tag if answered else None,
                )
            )
        if found and self.profile.press_turns_off and reading.lit is False:
            # The device turned itself off: the task it showed is answered, nothing to write.
            light.device_lit = False
            if not light.dirty and light.desired is light.shown:
                light.desired = None
        return events

    def _compare(self, light: _Light, reading: SlotReading) -> None:
        """Mark a light dirty when the device shows something other than it should."""
        if reading.lit is None:
            return
        light.device_lit = reading.lit
        should = light.desired
        if should is None:
            mismatch = reading.lit
        else:
            mismatch = (
                not reading.lit
                or (reading.mode is not None and reading.mode is not should.mode)
                or (reading.color is not None and reading.color is not should.color)
                or (reading.qty is not None and reading.qty != should.qty)
            )
        if mismatch and not light.dirty:
            light.dirty = True

    # ------------------------------------------------------------ one transaction

    def _transact(self, unit: _Unit, op: RegisterRead | RegisterWrite) -> tuple[int, ...] | None:
        """Run one request with CRC retries; None (after bookkeeping) if the unit failed."""
        client = self._client
        if client is None or not self._connected:
            raise _BusLost("not connected")
        for attempt in range(self.config.crc_retries + 1):
            outcome, registers = self._exchange(client, op)
            if outcome == "ok":
                self._succeeded(unit)
                return registers
            if outcome != "crc":
                break
            with self._lock:
                unit.crc_errors += 1
                self.counters["crc_errors"] += 1
                self._last_crc_error = time.monotonic()
            if attempt == self.config.crc_retries:
                break
            # Line noise: ask again at once; only a run of garbled replies is a failure.
        self._failed(unit, outcome)
        return None

    def _exchange(
        self, client: _RtuClient, op: RegisterRead | RegisterWrite
    ) -> tuple[str, tuple[int, ...]]:
        outcome, note = "ok", ""
        registers: tuple[int, ...] = ()
        try:
            if isinstance(op, RegisterRead):
                reply = client.read_holding_registers(op.address, count=op.count, device_id=op.unit)
            else:
                reply = client.write_registers(op.address, list(op.values), device_id=op.unit)
            if reply.isError():
                code = int(getattr(reply, "exception_code", 0))
                outcome, note = "exception", str(ExceptionReply(op.unit, reply.function_code, code))
            elif not _answers(op, reply):
                # A late reply to an earlier request of this unit, taken for this one.
                outcome, note = "crc", "reply does not match the request (late reply?)"
            elif isinstance(op, RegisterRead):
                registers = tuple(reply.registers)
        except ConnectionException as exc:
            self._log_frames(client, "transport lost")
            raise _BusLost(str(exc)) from exc
        except CrcError as exc:
            outcome, note = "crc", str(exc)
        except (ModbusException, serial.SerialException) as exc:
            # No bytes at all is a silent unit; some bytes that never made a frame is noise.
            outcome = "crc" if client.received else "timeout"
            note = f"{outcome}: {exc}"
            if outcome == "timeout" and (dropped := client.drain_late_reply()):
                note += f" (then {dropped} late bytes dropped)"
        self._log_frames(client, note)
        return outcome, registers

    def _log_frames(self, client: _RtuClient, note: str) -> None:
        now = time.time()
        tx = WireFrame(now, "TX", client.request)
        rx = WireFrame(now, "RX", bytes(client.received), note)
        with self._lock:
            self._frames.append(tx)
            self._frames.append(rx)
        if self._wire_log.isEnabledFor(logging.DEBUG):
            self._wire_log.debug("%s", tx)
            self._wire_log.debug("%s", rx)

    def _succeeded(self, unit: _Unit) -> None:
        came_back = False
        with self._lock:
            self._last_seen = unit.last_seen = time.time()
            unit.last_contact = time.monotonic()
            self._driver_fault = ""
            unit.failures = 0
            unit.backoff.reset()
            if unit.state is not UnitState.ONLINE:
                came_back = unit.state is not UnitState.UNKNOWN
                # Whatever happened while it was away, a full read puts it right.
                unit.needs_sync = unit.needs_sync or came_back
                unit.state = UnitState.ONLINE
                unit.detail = ""
        if came_back:
            log.info("PTL bus %s: unit %d back online", self.name, unit.unit)
            self._state_changed(f"unit {unit.unit} back online", f"unit {unit.unit}")

    def _failed(self, unit: _Unit, outcome: str) -> None:
        went = None
        with self._lock:
            if outcome == "timeout":
                unit.timeouts += 1
                self.counters["timeouts"] += 1
            elif outcome == "exception":
                unit.exceptions += 1
                self.counters["exceptions"] += 1
            unit.failures += 1
            down = unit.state in (UnitState.OFFLINE, UnitState.FAULT)
            if down or unit.failures >= self.config.offline_after:
                new = UnitState.FAULT if outcome == "exception" else UnitState.OFFLINE
                unit.next_attempt = time.monotonic() + unit.backoff.next_delay()
                unit.needs_sync = True
                if unit.state is not new:
                    went = new
                unit.state = new
                unit.detail = {
                    "timeout": "does not answer",
                    "crc": "garbled replies",
                    "exception": "answers with Modbus exceptions (check the profile)",
                }[outcome]
        if went is not None:
            log.warning("PTL bus %s: unit %d %s (%s)", self.name, unit.unit, went.value, outcome)
            part = f"unit {unit.unit}"
            self._state_changed(f"{part} {went.value}: {unit.detail}", part)
