"""Pure pick-to-light codec: RTU frames, typed light commands to coalesced FC16 writes, and
register reads to presses counted exactly once.

No I/O and no threads here; the driver and the simulator both build on it, and the tests check
it byte for byte against the golden frames of the reference (devices.md A.4).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum

from devices.errors import ConfigError, DeviceError
from devices.ptl.profile import LIGHT_ROLES, Color, Mode, PtlProfile, Role

FC_READ_HOLDING = 0x03
FC_WRITE_SINGLE = 0x06
FC_WRITE_MULTIPLE = 0x10
#: Modbus limits: FC16 writes 1..123 registers, FC03 reads 1..125.
MAX_WRITE_COUNT = 123
MAX_READ_COUNT = 125
MAX_UNIT = 247


class FrameError(DeviceError):
    """Bytes that are not a valid reply to the request sent."""


class CrcError(FrameError):
    """A reply whose CRC does not match: line noise or a garbled frame."""


class ExceptionReply(DeviceError):
    """The unit answered with a Modbus exception (e.g. 2 illegal address, 4 device failure)."""

    def __init__(self, unit: int, function: int, code: int) -> None:
        super().__init__(f"unit {unit} answered function {function} with exception {code}")
        self.unit = unit
        self.function = function
        self.code = code


# --------------------------------------------------------------------------- RTU framing


def _crc_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_CRC_TABLE = _crc_table()


def crc16(data: bytes) -> int:
    """Modbus CRC-16 (poly 0xA001 reflected, init 0xFFFF); sent low byte first."""
    crc = 0xFFFF
    for byte in data:
        crc = (crc >> 8) ^ _CRC_TABLE[(crc ^ byte) & 0xFF]
    return crc


def frame(unit: int, pdu: bytes) -> bytes:
    """An RTU ADU: unit, PDU, CRC (low byte first)."""
    body = bytes([unit]) + pdu
    return body + struct.pack("<H", crc16(body))


def unframe(adu: bytes) -> tuple[int, bytes]:
    """Split an RTU ADU into (unit, PDU); raises CrcError / FrameError."""
    if len(adu) < 4:
        raise FrameError(f"frame too short ({len(adu)} bytes): {adu.hex(' ')}")
    (received,) = struct.unpack("<H", adu[-2:])
    if crc16(adu[:-2]) != received:
        raise CrcError(f"CRC mismatch in {adu.hex(' ')}")
    return adu[0], adu[1:-2]


def encode_write_registers(unit: int, address: int, values: Sequence[int]) -> bytes:
    """FC16 request ADU: 9 + 2N bytes."""
    if not 1 <= len(values) <= MAX_WRITE_COUNT:
        raise ValueError(f"FC16 writes 1..{MAX_WRITE_COUNT} registers, not {len(values)}")
    data = struct.pack(f">{len(values)}H", *values)
    pdu = struct.pack(">BHHB", FC_WRITE_MULTIPLE, address, len(values), len(data)) + data
    return frame(unit, pdu)


def encode_read_registers(unit: int, address: int, count: int) -> bytes:
    """FC03 request ADU: 8 bytes."""
    if not 1 <= count <= MAX_READ_COUNT:
        raise ValueError(f"FC03 reads 1..{MAX_READ_COUNT} registers, not {count}")
    return frame(unit, struct.pack(">BHH", FC_READ_HOLDING, address, count))


def expected_reply_length(request: bytes) -> int | None:
    """Length of the normal reply to an RTU request, or None for a broadcast / unknown code."""
    if len(request) < 4 or request[0] == 0:
        return None
    function = request[1]
    if function in (FC_READ_HOLDING, 0x04) and len(request) >= 6:
        return 5 + 2 * int.from_bytes(request[4:6], "big")
    if function in (FC_WRITE_SINGLE, FC_WRITE_MULTIPLE):
        return 8
    return None


EXCEPTION_REPLY_LENGTH = 5


def reply_complete(request: bytes, received: bytes) -> int | None:
    """How many bytes the reply to ``request`` has once ``received`` shows its kind, else None."""
    if len(received) < 2:
        return None
    if received[1] & 0x80:
        return EXCEPTION_REPLY_LENGTH
    return expected_reply_length(request)


def decode_reply(request: bytes, reply: bytes) -> tuple[int, ...]:
    """Registers of an FC03 reply, or () for a write echo; raises Crc/Frame/ExceptionReply."""
    unit, pdu = unframe(reply)
    if unit != request[0]:
        raise FrameError(f"reply from unit {unit} to a request for unit {request[0]}")
    function = request[1]
    if pdu[0] == function | 0x80 and len(pdu) == 2:
        raise ExceptionReply(unit, function, pdu[1])
    if pdu[0] != function:
        raise FrameError(f"reply function {pdu[0]} to request function {function}")
    if function == FC_READ_HOLDING:
        if len(pdu) < 2 or pdu[1] != len(pdu) - 2 or pdu[1] % 2:
            raise FrameError(f"bad FC03 byte count in {reply.hex(' ')}")
        return struct.unpack(f">{pdu[1] // 2}H", pdu[2:])
    if function == FC_WRITE_MULTIPLE:
        if pdu[1:5] != request[2:6]:
            raise FrameError(f"FC16 echo {pdu[1:5].hex(' ')} does not match the request")
        return ()
    raise FrameError(f"unsupported function {function}")


# ------------------------------------------------------------------------ typed commands


@dataclass(frozen=True, order=True)
class LightAddress:
    """Where a light is on its bus: Modbus unit and slot (0 unless the unit serves many)."""

    unit: int
    slot: int = 0

    def __post_init__(self) -> None:
        if not 1 <= self.unit <= MAX_UNIT or self.slot < 0:
            raise ConfigError(f"light address {self.unit}/{self.slot}: unit 1..247, slot >= 0")

    @classmethod
    def parse(cls, text: str | int) -> LightAddress:
        """``"7"`` or ``7`` is unit 7; ``"7/3"`` is slot 3 of unit 7."""
        unit, _, slot = str(text).partition("/")
        try:
            return cls(int(unit), int(slot) if slot else 0)
        except ValueError:
            raise ConfigError(f"light address {text!r} is not UNIT or UNIT/SLOT") from None

    def __str__(self) -> str:
        return f"{self.unit}/{self.slot}" if self.slot else str(self.unit)


@dataclass(frozen=True)
class LightState:
    """What a lit light shows; ``tag`` (e.g. a pick task id) comes back with its press."""

    color: Color
    mode: Mode = Mode.STEADY
    qty: int = 0
    tag: str | None = None

    def shown_as(self, other: LightState | None) -> bool:
        """Whether ``other`` shows the same thing on the device (tags are host-side only)."""
        return other is not None and (self.color, self.mode, self.qty) == (
            other.color,
            other.mode,
            other.qty,
        )


@dataclass(frozen=True)
class RegisterWrite:
    """One FC16 write of contiguous registers to one unit."""

    unit: int
    address: int
    values: tuple[int, ...]

    def encode(self) -> bytes:
        """The request ADU."""
        return encode_write_registers(self.unit, self.address, self.values)


@dataclass(frozen=True)
class RegisterRead:
    """One FC03 read of contiguous registers from one unit."""

    unit: int
    address: int
    count: int

    def encode(self) -> bytes:
        """The request ADU."""
        return encode_read_registers(self.unit, self.address, self.count)


def light_registers(profile: PtlProfile, slot: int, state: LightState | None) -> dict[int, int]:
    """Register address -> value that make ``slot`` show ``state`` (None = off)."""
    if state is None or state.mode is Mode.OFF or state.color is Color.OFF:
        values = (profile.color_value(Color.OFF), profile.mode_value(Mode.OFF), 0)
    else:
        if not 0 <= state.qty <= profile.qty_max:
            raise ConfigError(f"quantity {state.qty} outside 0..{profile.qty_max}")
        values = (profile.color_value(state.color), profile.mode_value(state.mode), state.qty)
    return {profile.address(role, slot): v for role, v in zip(LIGHT_ROLES, values, strict=True)}


def coalesce(
    unit: int, registers: Mapping[int, int], max_count: int = MAX_WRITE_COUNT
) -> list[RegisterWrite]:
    """Contiguous runs of ``registers`` as FC16 writes of at most ``max_count`` registers."""
    writes: list[RegisterWrite] = []
    run: list[int] = []
    start = prev = -2
    for address in sorted(registers):
        if address != prev + 1 or len(run) == max_count:
            if run:
                writes.append(RegisterWrite(unit, start, tuple(run)))
            run, start = [], address
        run.append(registers[address])
        prev = address
    if run:
        writes.append(RegisterWrite(unit, start, tuple(run)))
    return writes


def plan_writes(
    profile: PtlProfile, changes: Mapping[LightAddress, LightState | None]
) -> list[RegisterWrite]:
    """Light commands as the fewest FC16 writes: per unit, contiguous registers coalesced."""
    by_unit: dict[int, dict[int, int]] = {}
    for address, state in changes.items():
        by_unit.setdefault(address.unit, {}).update(light_registers(profile, address.slot, state))
    return [w for unit in sorted(by_unit) for w in coalesce(unit, by_unit[unit])]


#: Reading across a gap costs 2 bytes a register; a second transaction costs ~13 bytes plus
#: two t3.5 and a device turnaround, roughly 16 registers' worth at 19,200 baud.
MAX_READ_GAP = 16


def plan_reads(
    profile: PtlProfile,
    unit: int,
    slots: Iterable[int],
    roles: Iterable[Role],
    max_gap: int = MAX_READ_GAP,
) -> list[RegisterRead]:
    """FC03 reads covering ``roles`` of ``slots``: spans bridged across small gaps only."""
    wanted = set(roles)
    addresses = sorted(
        {profile.address(role, slot) for slot in set(slots) for role in wanted if profile.has(role)}
    )
    reads: list[RegisterRead] = []
    i = 0
    while i < len(addresses):
        start = addresses[i]
        j = i
        while (
            j + 1 < len(addresses)
            and addresses[j + 1] - start < MAX_READ_COUNT
            and addresses[j + 1] - addresses[j] <= max_gap
        ):
            j += 1
        reads.append(RegisterRead(unit, start, addresses[j] - start + 1))
        i = j + 1
    return reads


def plan_poll(profile: PtlProfile, unit: int, slots: Iterable[int]) -> list[RegisterRead]:
    """The reads that look for presses on the lit ``slots`` of a unit."""
    return plan_reads(profile, unit, slots, profile.poll)


def plan_sync_read(profile: PtlProfile, unit: int, slots: Iterable[int]) -> list[RegisterRead]:
    """The reads that capture everything about ``slots`` (first contact and re-sync)."""
    return plan_reads(profile, unit, slots, profile.registers)


# ------------------------------------------------------------------------- readings


@dataclass(frozen=True)
class SlotReading:
    """What a read showed for one slot; None where the role was not read."""

    slot: int
    color: Color | None = None
    mode: Mode | None = None
    qty: int | None = None
    ack_count: int | None = None
    short_count: int | None = None

    @property
    def lit(self) -> bool | None:
        """Whether the slot is lit, or None if the mode was not read."""
        return None if self.mode is None else self.mode is not Mode.OFF


@dataclass(frozen=True)
class UnitReading:
    """A unit's slots as read, plus its boot id when the profile has one."""

    unit: int
    slots: Mapping[int, SlotReading]
    boot_id: int | None = None


def decode_reading(
    profile: PtlProfile,
    unit: int,
    slots: Iterable[int],
    reads: Sequence[tuple[RegisterRead, Sequence[int]]],
) -> UnitReading:
    """Turn the registers of one or more reads of a unit into typed per-slot readings."""
    image: dict[int, int] = {}
    for read, registers in reads:
        if len(registers) != read.count:
            raise FrameError(f"read of {read.count} registers returned {len(registers)}")
        image.update(zip(range(read.address, read.address + read.count), registers, strict=True))

    def value(role: Role, slot: int) -> int | None:
        if not profile.has(role):
            return None
        return image.get(profile.address(role, slot))

    result: dict[int, SlotReading] = {}
    for slot in slots:
        color, mode = value(Role.COLOR, slot), value(Role.MODE, slot)
        result[slot] = SlotReading(
            slot=slot,
            color=None if color is None else profile.color_of(color),
            # A mode value outside the map still means "lit": only the off value is dark.
            mode=None if mode is None else (profile.mode_of(mode) or Mode.STEADY),
            qty=value(Role.QTY, slot),
            ack_count=value(Role.ACK_COUNT, slot),
            short_count=value(Role.SHORT_COUNT, slot),
        )
    boot = image.get(profile.address(Role.BOOT_ID)) if profile.has(Role.BOOT_ID) else None
    return UnitReading(unit=unit, slots=result, boot_id=boot)


class Button(Enum):
    """Which key the operator pressed."""

    CONFIRM = "confirm"
    SHORT = "short"


@dataclass(frozen=True)
class Counters:
    """The last press counters the host has accounted for, per slot."""

    ack: int
    short: int | None = None


@dataclass(frozen=True)
class Press:
    """One press found by comparing counters; ``sequence`` is the counter value it produced."""

    slot: int
    button: Button
    sequence: int
    quantity: int | None


def counter_delta(before: int, after: int, modulo: int) -> int:
    """How many increments take a wrapping counter from ``before`` to ``after``."""
    return (after - before) % modulo


def presses_since(
    profile: PtlProfile, before: Counters, reading: SlotReading
) -> tuple[list[Press], Counters]:
    """The presses a reading shows beyond ``before``, and the counters to remember next.

    Counters only move forward, so comparing them (instead of clearing a flag) means a press
    is neither lost when a poll fails nor counted twice when a read is repeated.
    """
    if reading.ack_count is None:
        return [], before
    found: list[Press] = []
    m = profile.counter_modulo
    for n in range(1, counter_delta(before.ack, reading.ack_count, m) + 1):
        found.append(Press(reading.slot, Button.CONFIRM, (before.ack + n) % m, reading.qty))
    short = before.short
    if reading.short_count is not None:
        if short is not None:
            for n in range(1, counter_delta(short, reading.short_count, m) + 1):
                found.append(Press(reading.slot, Button.SHORT, (short + n) % m, reading.qty))
        short = reading.short_count
    return found, Counters(ack=reading.ack_count, short=short)


def counters_of(reading: SlotReading) -> Counters | None:
    """The baseline counters of a first reading, or None if the ack counter was not read."""
    if reading.ack_count is None:
        return None
    return Counters(ack=reading.ack_count, short=reading.short_count)
