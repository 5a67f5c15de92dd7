"""The ``~HS`` host status of Zebra printers: bytes <-> :class:`HostStatus`, and printer states.

``~HS`` answers three strings, each ``<STX>...<ETX><CR><LF>`` (Zebra ZPL guide; reference C.5):

1. ``aaa,b,c,dddd,eee,f,g,h,iii,j,k,l``: communication settings, paper out, pause, label length
   in dots, formats in the receive buffer, buffer full, diagnostic mode, partial format, unused,
   corrupt RAM, under temperature, over temperature;
2. ``mmm,n,o,p,q,r,s,t,uuuuuuuu,v,www``: function settings, *unused*, head up (open), ribbon
   out, thermal-transfer mode, print mode, print width mode, label waiting, labels remaining in
   the batch, format while printing, graphics stored;
3. ``xxxx,y``: password and static RAM installed.

Field ``n`` of string 2 is unused: skipping it misreads "head open" (a known bug of another
parser, reference C.7), so positions here follow the guide exactly.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import Enum

STX = b"\x02"
ETX = b"\x03"
HOST_STATUS_QUERY = b"~HS"
HOST_IDENTIFICATION_QUERY = b"~HI"
HOST_STATUS_FRAMES = 3


class HostStatusError(ValueError):
    """A ``~HS`` reply that is not three well-formed status strings."""


class PrintMode(Enum):
    """Print mode ``r`` of string 2."""

    REWIND = "0"
    PEEL_OFF = "1"
    TEAR_OFF = "2"
    CUTTER = "3"
    APPLICATOR = "4"
    DELAYED_CUT = "5"
    LINERLESS_PEEL = "6"
    LINERLESS_REWIND = "7"
    PARTIAL_CUTTER = "8"
    RFID = "9"
    KIOSK = "K"
    LINERLESS_TEAR = "S"
    LINERLESS_CUT = "U"
    UNKNOWN = "?"


@dataclass(frozen=True)
class HostStatus:
    """Every field of a ``~HS`` reply, named; flags as booleans, counts as ints."""

    communication_settings: int = 30
    paper_out: bool = False
    paused: bool = False
    label_length_dots: int = 1218
    formats_in_buffer: int = 0
    buffer_full: bool = False
    diagnostic_mode: bool = False
    partial_format: bool = False
    corrupt_ram: bool = False
    under_temperature: bool = False
    over_temperature: bool = False
    function_settings: int = 1
    head_open: bool = False
    ribbon_out: bool = False
    thermal_transfer: bool = False
    print_mode: PrintMode = PrintMode.TEAR_OFF
    print_width_mode: int = 6
    label_waiting: bool = False
    labels_remaining: int = 0
    format_while_printing: bool = True
    graphics_stored: int = 0
    password: str = "1234"
    static_ram: bool = False


def reply_complete(buffer: bytes) -> bool:
    """Whether ``buffer`` holds all three ``~HS`` strings."""
    return buffer.count(ETX) >= HOST_STATUS_FRAMES


def _frames(reply: bytes) -> list[str]:
    frames = []
    rest = reply
    for _ in range(HOST_STATUS_FRAMES):
        start = rest.find(STX)
        end = rest.find(ETX, start + 1)
        if start < 0 or end < 0:
            raise HostStatusError(f"expected {HOST_STATUS_FRAMES} STX...ETX strings: {reply!r}")
        try:
            frames.append(rest[start + 1 : end].decode("ascii").strip())
        except UnicodeDecodeError as error:
            raise HostStatusError(f"status string is not ASCII: {reply!r}") from error
        rest = rest[end + 1 :]
    return frames


def _fields(frame: str, count: int, number: int) -> list[str]:
    parts = [part.strip() for part in frame.split(",")]
    if len(parts) != count:
        raise HostStatusError(f"status string {number} has {len(parts)} fields, not {count}")
    return parts


def _flag(value: str) -> bool:
    if value not in ("0", "1"):
        raise HostStatusError(f"flag {value!r} is not 0 or 1")
    return value == "1"


def _number(value: str) -> int:
    if not value.isdigit():
        raise HostStatusError(f"number {value!r} is not decimal digits")
    return int(value)


def parse_host_status(reply: bytes) -> HostStatus:
    """Parse the three ``~HS`` strings (text before the first STX is ignored)."""
    first, second, third = _frames(reply)
    a = _fields(first, 12, 1)
    b = _fields(second, 11, 2)
    c = _fields(third, 2, 3)
    try:
        mode = PrintMode(b[5])
    except ValueError:
        mode = PrintMode.UNKNOWN
    return HostStatus(
        communication_settings=_number(a[0]),
        paper_out=_flag(a[1]),
        paused=_flag(a[2]),
        label_length_dots=_number(a[3]),
        formats_in_buffer=_number(a[4]),
        buffer_full=_flag(a[5]),
        diagnostic_mode=_flag(a[6]),
        partial_format=_flag(a[7]),
        # a[8] is unused (always 000)
        corrupt_ram=_flag(a[9]),
        under_temperature=_flag(a[10]),
        over_temperature=_flag(a[11]),
        function_settings=_number(b[0]),
        # b[1] is unused
        head_open=_flag(b[2]),
        ribbon_out=_flag(b[3]),
        thermal_transfer=_flag(b[4]),
        print_mode=mode,
        print_width_mode=_number(b[6]),
        label_waiting=_flag(b[7]),
        labels_remaining=_number(b[8]),
        format_while_printing=_flag(b[9]),
        graphics_stored=_number(b[10]),
        password=c[0],
        static_ram=_flag(c[1]),
    )


def _frame(text: str) -> bytes:
    return STX + text.encode("ascii") + ETX + b"\r\n"


def encode_host_status(status: HostStatus) -> bytes:
    """The three ``~HS`` strings a printer in ``status`` sends (for the simulator)."""

    def f(flag: bool) -> str:
        return "1" if flag else "0"

    s = status
    first = (
        f"{s.communication_settings:03d},{f(s.paper_out)},{f(s.paused)},"
        f"{s.label_length_dots:04d},{s.formats_in_buffer:03d},{f(s.buffer_full)},"
        f"{f(s.diagnostic_mode)},{f(s.partial_format)},000,{f(s.corrupt_ram)},"
        f"{f(s.under_temperature)},{f(s.over_temperature)}"
    )
    mode = s.print_mode.value if s.print_mode is not PrintMode.UNKNOWN else "2"
    second = (
        f"{s.function_settings:03d},0,{f(s.head_open)},{f(s.ribbon_out)},"
        f"{f(s.thermal_transfer)},{mode},{s.print_width_mode},{f(s.label_waiting)},"
        f"{s.labels_remaining:08d},{f(s.format_while_printing)},{s.graphics_stored:03d}"
    )
    third = f"{s.password},{f(s.static_ram)}"
    return _frame(first) + _frame(second) + _frame(third)


class PrinterState(Enum):
    """What the packer and supervisor see; one printer has one state, the worst problem."""

    READY = "ready"
    UNKNOWN = "unknown"
    PAUSED = "paused"
    BUFFER_FULL = "buffer_full"
    TEMPERATURE = "temperature"
    RAM_ERROR = "ram_error"
    RIBBON_OUT = "ribbon_out"
    PAPER_OUT = "paper_out"
    HEAD_OPEN = "head_open"
    BAD_REPLY = "bad_reply"
    NO_REPLY = "no_reply"
    UNREACHABLE = "unreachable"

    @property
    def message(self) -> str:
        """A short English message; the web layer translates by state value."""
        return _MESSAGES[self]

    @property
    def can_print(self) -> bool:
        """Whether a job may be sent: ready, or a transport that reports no status (CUPS)."""
        return self in (PrinterState.READY, PrinterState.UNKNOWN)


_MESSAGES = {
    PrinterState.READY: "Ready",
    PrinterState.UNKNOWN: "No status from this connection",
    PrinterState.PAUSED: "Paused",
    PrinterState.BUFFER_FULL: "Receive buffer full",
    PrinterState.TEMPERATURE: "Print head temperature out of range",
    PrinterState.RAM_ERROR: "Printer memory error",
    PrinterState.RIBBON_OUT: "Out of ribbon",
    PrinterState.PAPER_OUT: "Out of labels",
    PrinterState.HEAD_OPEN: "Print head open",
    PrinterState.BAD_REPLY: "Unreadable status reply",
    PrinterState.NO_REPLY: "No status reply (printer in an error state or off)",
    PrinterState.UNREACHABLE: "Cannot connect to the printer",
}

# Worst first: the state shown is the first problem found in this order.
_SEVERITY = [
    PrinterState.UNREACHABLE,
    PrinterState.NO_REPLY,
    PrinterState.BAD_REPLY,
    PrinterState.HEAD_OPEN,
    PrinterState.PAPER_OUT,
    PrinterState.RIBBON_OUT,
    PrinterState.RAM_ERROR,
    PrinterState.TEMPERATURE,
    PrinterState.BUFFER_FULL,
    PrinterState.PAUSED,
]


@dataclass(frozen=True)
class PrinterStatus:
    """A printer's state at one moment, with every problem seen and the raw ``~HS`` fields."""

    state: PrinterState
    problems: tuple[PrinterState, ...] = ()
    host_status: HostStatus | None = None
    detail: str = ""
    checked_at: float = field(default_factory=time.time)

    @property
    def can_print(self) -> bool:
        """Whether a job may be sent now."""
        return self.state.can_print

    @property
    def message(self) -> str:
        """The state's message, with the detail when there is one."""
        return f"{self.state.message}: {self.detail}" if self.detail else self.state.message

    @classmethod
    def of(cls, state: PrinterState, detail: str = "") -> PrinterStatus:
        """A status without ``~HS`` fields (no reply, unreachable, no status channel)."""
        problems = () if state.can_print else (state,)
        return cls(state, problems, None, detail)

    @classmethod
    def from_host_status(cls, host: HostStatus) -> PrinterStatus:
        """The state a parsed ``~HS`` reply means."""
        found = {
            PrinterState.HEAD_OPEN: host.head_open,
            PrinterState.PAPER_OUT: host.paper_out,
            PrinterState.RIBBON_OUT: host.ribbon_out,
            PrinterState.RAM_ERROR: host.corrupt_ram,
            PrinterState.TEMPERATURE: host.under_temperature or host.over_temperature,
            PrinterState.BUFFER_FULL: host.buffer_full,
            PrinterState.PAUSED: host.paused,
        }
        problems = tuple(state for state in _SEVERITY if found.get(state))
        state = problems[0] if problems else PrinterState.READY
        return cls(state, problems, host)

    @classmethod
    def from_reply(cls, reply: bytes) -> PrinterStatus:
        """Interpret the bytes read after ``~HS``: none is the no-reply error state (C.5)."""
        if not reply.strip():
            return cls.of(PrinterState.NO_REPLY)
        if not reply_complete(reply):
            return cls.of(PrinterState.NO_REPLY, f"incomplete reply {reply!r}")
        try:
            return cls.from_host_status(parse_host_status(reply))
        except HostStatusError as error:
            return cls.of(PrinterState.BAD_REPLY, str(error))
