"""A pick-to-light bus simulator: a pymodbus RTU server over a real byte transport.

It serves any profile's register map on ``socket://127.0.0.1:PORT`` (RTU framing over TCP, what
a serial device server looks like) or on a serial path such as one end of a socat pty pair.
Buttons are pressed from tests, the floor simulator or a virtual panel; the ack counter
semantics are the reference's (devices.md A.4): a press on a lit slot increments the counter
and turns the light off. Faults are real: a silent unit, a reply with a broken CRC, a slow
unit, a power-cycled unit, and ``stop()``/``start()`` for an unplugged adapter or a rebooted
device server (the units keep their state, as the lights keep their power).

The server runs on its own asyncio loop in its own thread, so tests and the demo drive it with
plain method calls; unit state is guarded by one lock shared by that loop and the callers.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from pymodbus import FramerType
from pymodbus.constants import ExcCodes
from pymodbus.exceptions import NoSuchIdException
from pymodbus.server import ModbusSerialServer
from pymodbus.simulator import DataType, SimData, SimDevice

from devices.errors import ConfigError, DeviceError
from devices.ptl.codec import Button, LightAddress
from devices.ptl.profile import (
    GENERIC_PTL_V1,
    LIGHT_ROLES,
    UNIT_ROLES,
    Color,
    Mode,
    PtlProfile,
    Role,
)

log = logging.getLogger(__name__)

FC_WRITE_MULTIPLE = 16
FC_WRITE_SINGLE = 6


@dataclass(frozen=True)
class WireTiming:
    """RS-485 timing per the Modbus serial-line spec, as the reference computes it (A.6)."""

    baudrate: int = 19200
    bits_per_char: int = 11
    #: Device processing time between request and reply.
    turnaround: float = 0.002

    @property
    def char_time(self) -> float:
        """Seconds per character on the wire."""
        return self.bits_per_char / self.baudrate

    @property
    def t35(self) -> float:
        """The inter-frame silence: 3.5 characters, fixed at 1.75 ms above 19,200 baud."""
        return 3.5 * self.char_time if self.baudrate <= 19200 else 0.00175

    def transaction(self, request_bytes: int, reply_bytes: int) -> float:
        """Request + t3.5 + turnaround + reply + t3.5, in seconds."""
        wire = (request_bytes + reply_bytes) * self.char_time
        return wire + 2 * self.t35 + self.turnaround

    def until_processed(self, request_bytes: int) -> float:
        """Seconds from the start of a request until the device acts on it."""
        return request_bytes * self.char_time + self.t35 + self.turnaround


def frame_sizes(function: int, count: int) -> tuple[int, int]:
    """(request, reply) bytes of an RTU transaction: FC16 9+2N / 8, FC03 8 / 5+2N, FC06 8 / 8."""
    if function == FC_WRITE_MULTIPLE:
        return 9 + 2 * count, 8
    if function == FC_WRITE_SINGLE:
        return 8, 8
    return 8, 5 + 2 * count


@dataclass(frozen=True)
class SimLight:
    """A snapshot of one simulated light, as a person at the rack would see it."""

    address: LightAddress
    color: Color | None
    mode: Mode | None
    qty: int
    ack_count: int
    short_count: int | None
    #: Monotonic time the slot last went from dark to lit (per the modelled wire timing).
    lit_at: float | None
    #: How many writes have lit this slot; a re-sync that relights it adds one.
    times_lit: int

    @property
    def lit(self) -> bool:
        """Whether the light is on."""
        return self.mode is not None and self.mode is not Mode.OFF


class _Unit:
    """One Modbus unit: a register image plus fault switches."""

    def __init__(self, unit: int, profile: PtlProfile, base: int, size: int) -> None:
        self.unit = unit
        self.profile = profile
        self.base = base
        self.registers = [0] * size
        self.offline = False
        self.latency = 0.0
        self.crc_faults = 0
        self.lit_at: dict[int, float | None] = {}
        self.times_lit: dict[int, int] = {}
        self.boot_id = 0
        self.power_up()

    def power_up(self) -> None:
        """Registers to zero and a fresh boot id, as after a power cycle."""
        self.registers = [0] * len(self.registers)
        self.lit_at = dict.fromkeys(range(self.profile.slots_per_unit))
        if self.profile.has(Role.BOOT_ID):
            old = self.boot_id
            while self.boot_id in (0, old):
                self.boot_id = random.randint(1, 0xFFFF)
            self.set(Role.BOOT_ID, 0, self.boot_id)

    def get(self, role: Role, slot: int) -> int:
        return self.registers[self.profile.address(role, slot) - self.base]

    def set(self, role: Role, slot: int, value: int) -> None:
        self.registers[self.profile.address(role, slot) - self.base] = value

    def lit(self, slot: int) -> bool:
        return self.get(Role.MODE, slot) != self.profile.mode_value(Mode.OFF)


class PtlSimulator:
    """A bus of simulated pick-to-light units served over a real byte transport."""

    def __init__(
        self,
        url: str,
        units: Iterable[int],
        profile: PtlProfile = GENERIC_PTL_V1,
        *,
        timing: WireTiming | None = None,
        pace: bool = False,
        listener: Callable[[SimLight], None] | None = None,
    ) -> None:
        """``pace`` makes every reply take the modelled wire time of ``timing``."""
        self.url = url
        self.profile = profile
        self.timing = timing or WireTiming()
        self.pace = pace
        self.listener = listener
        addresses = [
            profile.address(role, slot)
            for role in profile.registers
            for slot in range(1 if role in UNIT_ROLES else profile.slots_per_unit)
        ]
        self._base = min(addresses)
        self._size = max(addresses) - self._base + 1
        self._lock = threading.Lock()
        self._units: dict[int, _Unit] = {}
        for unit in units:
            if not 1 <= unit <= 247 or unit in self._units:
                raise ConfigError(f"simulated unit {unit}: units are unique and 1..247")
            self._units[unit] = _Unit(unit, profile, self._base, self._size)
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_event: asyncio.Event | None = None
        self._started = threading.Event()
        self._start_error: BaseException | None = None
        self._server: ModbusSerialServer | None = None
        self.requests = 0
        self.crc_faults_sent = 0

    # ------------------------------------------------------------------ lifecycle

    @property
    def running(self) -> bool:
        """Whether the server is up (the adapter is plugged in)."""
        return self._thread is not None and self._thread.is_alive()

    def start(self, timeout: float = 5.0) -> None:
        """Start serving; returns once the transport is listening."""
        if self.running:
            return
        self._started.clear()
        self._start_error = None
        self._thread = threading.Thread(target=self._run, name=f"ptl-sim {self.url}", daemon=True)
        self._thread.start()
        if not self._started.wait(timeout):
            raise DeviceError(f"PTL simulator on {self.url} did not start within {timeout} s")
        if self._start_error is not None:
            self._thread.join(timeout)
            self._thread = None
            raise DeviceError(f"PTL simulator on {self.url}: {self._start_error}")

    def stop(self, timeout: float = 5.0) -> None:
        """Stop serving and drop every connection; the units keep their state."""
        thread, loop, stop_event = self._thread, self._loop, self._stop_event
        if thread is None:
            return
        if loop is not None and stop_event is not None and not loop.is_closed():
            # The loop may close between the check and the call: it is stopping anyway.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(stop_event.set)
        thread.join(timeout)
        self._thread = None

    def restart(self) -> None:
        """Stop, then start again on the same URL (a rebooted device server)."""
        self.stop()
        self.start()

    close = stop

    def __enter__(self) -> PtlSimulator:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ------------------------------------------------------------- the floor side

    def press(
        self,
        unit: int,
        slot: int = 0,
        button: Button = Button.CONFIRM,
        quantity: int | None = None,
    ) -> bool:
        """Press a button; False (and nothing counted) if the light was dark, as on a device.

        ``quantity`` is what the operator keyed in before pressing (a short pick).
        """
        if button is Button.SHORT and not self.profile.has(Role.SHORT_COUNT):
            raise ConfigError(f"profile {self.profile.name} has no short-pick key")
        with self._lock:
            u = self._unit(unit)
            if not u.lit(slot):
                return False
            if quantity is not None:
                u.set(Role.QTY, slot, max(0, min(quantity, self.profile.qty_max)))
            role = Role.ACK_COUNT if button is Button.CONFIRM else Role.SHORT_COUNT
            u.set(role, slot, (u.get(role, slot) + 1) % self.profile.counter_modulo)
            if self.profile.press_turns_off:
                u.set(Role.MODE, slot, self.profile.mode_value(Mode.OFF))
            snapshot = self._snapshot(u, slot)
        self._notify(snapshot)
        return True

    def light(self, unit: int, slot: int = 0) -> SimLight:
        """What one light shows now."""
        with self._lock:
            return self._snapshot(self._unit(unit), slot)

    def lights(self) -> dict[LightAddress, SimLight]:
        """Every light of the bus."""
        with self._lock:
            return {
                LightAddress(u.unit, s): self._snapshot(u, s)
                for u in self._units.values()
                for s in range(self.profile.slots_per_unit)
            }

    def units(self) -> list[int]:
        """The unit ids on this bus."""
        return sorted(self._units)

    # ------------------------------------------------------------------ faults

    def set_offline(self, unit: int, offline: bool = True) -> None:
        """Silence a unit (a cut drop cable): it receives but never answers."""
        with self._lock:
            self._unit(unit).offline = offline

    def set_latency(self, unit: int, seconds: float) -> None:
        """Make a unit answer ``seconds`` late (past the host's timeout: a late reply)."""
        with self._lock:
            self._unit(unit).latency = seconds

    def inject_crc_errors(self, unit: int, count: int = 1) -> None:
        """Corrupt the CRC of the next ``count`` replies of a unit (line noise)."""
        with self._lock:
            self._unit(unit).crc_faults += count

    def power_cycle(self, unit: int) -> None:
        """Reset a unit: lights off, counters zero, new boot id."""
        with self._lock:
            u = self._unit(unit)
            u.power_up()
            snapshots = [self._snapshot(u, s) for s in range(self.profile.slots_per_unit)]
        for snapshot in snapshots:
            self._notify(snapshot)

    # ------------------------------------------------------------------ internals

    def _unit(self, unit: int) -> _Unit:
        try:
            return self._units[unit]
        except KeyError:
            raise ConfigError(f"no simulated unit {unit} on {self.url}") from None

    def _snapshot(self, u: _Unit, slot: int) -> SimLight:
        p = self.profile
        return SimLight(
            address=LightAddress(u.unit, slot),
            color=p.color_of(u.get(Role.COLOR, slot)),
            mode=p.mode_of(u.get(Role.MODE, slot)) or (Mode.STEADY if u.lit(slot) else None),
            qty=u.get(Role.QTY, slot),
            ack_count=u.get(Role.ACK_COUNT, slot),
            short_count=u.get(Role.SHORT_COUNT, slot) if p.has(Role.SHORT_COUNT) else None,
            lit_at=u.lit_at.get(slot),
            times_lit=u.times_lit.get(slot, 0),
        )

    def _notify(self, snapshot: SimLight) -> None:
        if self.listener is not None:
            try:
                self.listener(snapshot)
            except Exception:  # a broken listener must not take the bus down
                log.exception("PTL simulator listener failed")

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._serve())
        except BaseException as exc:  # reported to start(); the thread must end cleanly
            self._start_error = exc
            self._started.set()
        finally:
            pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
            for task in pending:
                task.cancel()
            if pending:
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()
            self._loop = None

    async def _serve(self) -> None:
        self._stop_event = asyncio.Event()
        devices = [self._device(unit) for unit in self._units]
        # Unit 0 is pymodbus's "every other id": answer nothing, as an empty RS-485 drop does
        # (pymodbus would otherwise send exception 4 for a unit that is not there).
        devices.append(self._device(0))
        server = ModbusSerialServer(
            devices,
            framer=FramerType.RTU,
            port=self.url,
            baudrate=self.timing.baudrate,
            ignore_missing_devices=True,
            trace_packet=self._trace_packet,
        )
        self._server = server
        try:
            await server.serve_forever(background=True)
        except RuntimeError as exc:
            self._start_error = exc
            self._started.set()
            await server.shutdown()  # type: ignore[no-untyped-call]
            return
        self._started.set()
        log.debug("PTL simulator serving %d units on %s", len(self._units), self.url)
        try:
            await self._stop_event.wait()
        finally:
            self._server = None
            await server.shutdown()  # type: ignore[no-untyped-call]
            # Let the closed connections run their close callbacks before the loop ends.
            await asyncio.sleep(0)

    def _device(self, unit: int) -> SimDevice:
        return SimDevice(
            id=unit,
            simdata=[
                SimData(address=self._base, count=self._size, values=0, datatype=DataType.REGISTERS)
            ],
            action=functools.partial(self._action, unit),
        )

    async def _action(
        self,
        unit_id: int,
        function: int,
        start: int,
        address: int,
        count: int,
        registers: list[int],
        set_values: list[int] | list[bool] | None,
    ) -> ExcCodes | None:
        arrived = time.monotonic()
        with self._lock:
            u = self._units.get(unit_id)
            if u is None or u.offline:
                # pymodbus drops the request silently for NoSuchIdException (and
                # ignore_missing_devices): the host sees a timeout, as on a real bus.
                raise NoSuchIdException(f"unit {unit_id} is silent")
            self.requests += 1
            request_bytes, reply_bytes = frame_sizes(function, count)
            changed: list[SimLight] = []
            if set_values is not None:
                acted = arrived + (self.timing.until_processed(request_bytes) if self.pace else 0)
                changed = self._apply_write(u, address, [int(v) for v in set_values], acted)
            else:
                offset = address - start
                image = address - self._base
                registers[offset : offset + count] = u.registers[image : image + count]
        for snapshot in changed:
            self._notify(snapshot)
        delay = self.timing.transaction(request_bytes, reply_bytes) if self.pace else 0.0
        if delay > 0:
            # One sleep to an absolute deadline: two sleeps would add the loop's overshoot twice.
            await asyncio.sleep(max(0.0, arrived + delay - time.monotonic()))
        return None

    def _apply_write(
        self, u: _Unit, address: int, values: list[int], acted: float
    ) -> list[SimLight]:
        written = range(address, address + len(values))
        slots = range(self.profile.slots_per_unit)
        was_lit = {s: u.lit(s) for s in slots}
        u.registers[address - self._base : address - self._base + len(values)] = values
        changed = []
        for s in slots:
            if not any(self.profile.address(r, s) in written for r in LIGHT_ROLES):
                continue
            if u.lit(s):
                # Counted per write, so a test can see that a re-sync really relit a light.
                u.times_lit[s] = u.times_lit.get(s, 0) + 1
                if not was_lit[s]:
                    u.lit_at[s] = acted
            changed.append(self._snapshot(u, s))
        return changed

    def _trace_packet(self, sending: bool, data: bytes) -> bytes:
        if not sending or not data:
            return data
        with self._lock:
            u = self._units.get(data[0])
            if u is None:
                return data
            if u.crc_faults > 0:
                u.crc_faults -= 1
                self.crc_faults_sent += 1
                data = data[:-1] + bytes([data[-1] ^ 0xA5])
            latency = u.latency
        if latency > 0 and self._server is not None:
            # A slow unit's reply is held back *after* pymodbus has addressed it: sleeping in
            # the action instead lets pymodbus label the late reply with the id of whatever
            # request came in meanwhile (its handler keeps only the last request).
            loop = asyncio.get_running_loop()
            for handler in list(self._server.active_connections.values()):
                loop.call_later(latency, _late_write, handler, data)
            return b""
        return data


def _late_write(handler: Any, data: bytes) -> None:
    transport = getattr(handler, "transport", None)
    if transport is None:
        return  # the connection closed meanwhile: the late reply is lost, as on a bus
    with contextlib.suppress(Exception):
        transport.write(data)


def units_of(lights: Mapping[str, LightAddress]) -> list[int]:
    """The distinct units a location -> light map uses (to build a matching simulator)."""
    return sorted({a.unit for a in lights.values()})


def _parse_units(text: str) -> list[int]:
    units: list[int] = []
    for part in text.split(","):
        first, _, last = part.partition("-")
        units += range(int(first), int(last or first) + 1)
    return units


def main(argv: list[str] | None = None) -> None:
    """Serve a simulated bus and take floor commands from stdin (a manual demo peer)."""
    import argparse
    import sys

    from devices.ptl.profile import load_profile

    parser = argparse.ArgumentParser(
        prog="python -m devices.ptl.simulator",
        description="Simulated pick-to-light bus (Modbus RTU) on a URL or a serial path.",
    )
    parser.add_argument("url", help="socket://127.0.0.1:15021 or a pty path such as ./ttyA")
    parser.add_argument("--units", default="1-10", help="unit ids, e.g. 1-10,20")
    parser.add_argument("--profile", default="generic-ptl-v1")
    parser.add_argument("--baud", type=int, default=19200)
    parser.add_argument("--pace", action="store_true", help="reply with real wire timing")
    parser.add_argument("--turnaround", type=float, default=0.002)
    args = parser.parse_args(argv)

    def show(light: SimLight) -> None:
        color = light.color.value if light.color else "?"
        mode = light.mode.value if light.mode else "?"
        print(
            f"  light {light.address}: {color} {mode} qty={light.qty} ack={light.ack_count}",
            flush=True,
        )

    sim = PtlSimulator(
        args.url,
        _parse_units(args.units),
        load_profile(args.profile),
        timing=WireTiming(args.baud, turnaround=args.turnaround),
        pace=args.pace,
        listener=show,
    )
    commands: dict[str, Callable[..., object]] = {
        "press": lambda u, s="0": sim.press(int(u), int(s)),
        "short": lambda u, q, s="0": sim.press(int(u), int(s), Button.SHORT, int(q)),
        "offline": lambda u: sim.set_offline(int(u)),
        "online": lambda u: sim.set_offline(int(u), False),
        "crc": lambda u, n="1": sim.inject_crc_errors(int(u), int(n)),
        "slow": lambda u, seconds: sim.set_latency(int(u), float(seconds)),
        "power": lambda u: sim.power_cycle(int(u)),
        "stop": sim.stop,
        "start": sim.start,
    }
    sim.start()
    print(f"serving units {args.units} on {args.url}; commands: {', '.join(commands)}, quit")
    try:
        for line in sys.stdin:
            words = line.split()
            if not words:
                continue
            if words[0] == "quit":
                break
            try:
                print(f"  -> {commands[words[0]](*words[1:])}", flush=True)
            except (KeyError, TypeError, ValueError, DeviceError) as exc:
                print(f"  ?? {exc!r}", flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()


if __name__ == "__main__":
    main()
