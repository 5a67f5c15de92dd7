"""Pure scanner codec: line framing, AIM symbology identifiers and GS1 parsing with biip.

Serial scanners are set up to send ``AIM ID + data + CR LF`` (devices.md B.1/B.2). GS1 symbols
carry variable-length fields ended by GS (0x1D), which serial lines deliver unchanged; a
scanner or wedge that cannot send GS is set up to send a printable substitute instead ("|",
"^", "<GS>"), which is configured here and turned back into GS before parsing (B.3).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date

import biip

from devices.errors import DeviceError

GS = "\x1d"
#: Control characters a GS1 payload may legitimately carry: GS, plus RS and EOT of the
#: ISO/IEC 15434 envelope some DataMatrix symbols use.
ALLOWED_CONTROLS = frozenset({GS, "\x1e", "\x04"})
_AIM = re.compile(r"\][A-Za-z][0-9A-Za-z]")

#: Common AIM identifiers (ISO/IEC 15424) with names for the screen.
SYMBOLOGY_NAMES = {
    "]A0": "Code 39",
    "]C0": "Code 128",
    "]C1": "GS1-128",
    "]E0": "EAN-13 / UPC-A",
    "]E1": "EAN 2-digit add-on",
    "]E2": "EAN 5-digit add-on",
    "]E3": "EAN-13 with add-on",
    "]E4": "EAN-8",
    "]I0": "ITF",
    "]I1": "ITF-14",
    "]e0": "GS1 DataBar",
    "]d1": "Data Matrix",
    "]d2": "GS1 DataMatrix",
    "]Q1": "QR Code",
    "]Q3": "GS1 QR Code",
    "]J1": "GS1 DotCode",
}


class ScanError(DeviceError):
    """A scan that cannot be used; ``reason`` is meant for the person holding the scanner."""

    def __init__(self, raw: str, reason: str) -> None:
        super().__init__(f"{reason}: {raw!r}")
        self.raw = raw
        self.reason = reason


class GarbledLine(ScanError):
    """Bytes that are not a scan at all (noise, wrong baud rate, a line too long)."""


@dataclass(frozen=True)
class ScanConfig:
    """How a station's scanners are set up."""

    #: Printable stand-ins for GS that the scanner was configured to send.
    gs_substitutes: tuple[str, ...] = ()
    #: Reject lines without an AIM identifier (a scanner missing its Code ID setting).
    require_aim: bool = False
    max_length: int = 512


@dataclass(frozen=True)
class Scan:
    """A decoded scan: the raw line, its symbology and the GS1 fields the warehouse uses."""

    raw: str
    #: The payload without the AIM identifier, GS substitutes turned back into GS.
    data: str
    symbology: str | None = None
    symbology_name: str | None = None
    gs1: bool = False
    gtin: str | None = None
    lot: str | None = None
    expiry: date | None = None
    best_before: date | None = None
    serial: str | None = None
    sscc: str | None = None
    quantity: int | None = None
    #: Every GS1 element string as (AI, value), in scan order.
    elements: tuple[tuple[str, str], ...] = field(default=())
    #: Human-readable form, e.g. "(01)09506000134352(10)LOT42".
    hri: str | None = None

    @property
    def value(self) -> str:
        """The plain value to match against codes (the payload; GS kept for GS1)."""
        return self.data


class LineFramer:
    """Split a byte stream into scan lines: CR, LF or CR LF end a line; blank lines are dropped."""

    def __init__(self, max_length: int = 512) -> None:
        self.max_length = max_length
        self._buf = bytearray()
        self._overflow = False

    @property
    def pending(self) -> bytes:
        """Bytes received since the last line end."""
        return bytes(self._buf)

    def feed(self, data: bytes) -> list[bytes | GarbledLine]:
        """The complete lines in ``data`` (plus what came before), or errors for overlong ones."""
        out: list[bytes | GarbledLine] = []
        for byte in data:
            if byte in (0x0D, 0x0A):
                if self._overflow:
                    out.append(_too_long(self._buf, self.max_length))
                elif self._buf:
                    out.append(bytes(self._buf))
                self._buf.clear()
                self._overflow = False
            elif len(self._buf) < self.max_length:
                self._buf.append(byte)
            else:
                self._overflow = True
        return out

    def flush(self) -> bytes | GarbledLine | None:
        """Give up on a partial line (no terminator arrived); None if there is none."""
        if not self._buf:
            return None
        line: bytes | GarbledLine = bytes(self._buf)
        if self._overflow:
            line = _too_long(self._buf, self.max_length)
        self._buf.clear()
        self._overflow = False
        return line


def _too_long(buf: bytearray, max_length: int) -> GarbledLine:
    shown = bytes(buf[:40]).decode("latin-1")
    return GarbledLine(shown, f"line longer than {max_length} bytes (missing CR/LF suffix?)")


def parse_scan(line: bytes | str, config: ScanConfig | None = None) -> Scan:
    """Decode one scan line (without its terminator); raises ScanError with a clear reason."""
    cfg = config or ScanConfig()
    raw = line.decode("latin-1") if isinstance(line, bytes) else line
    raw = raw.rstrip("\r\n")
    _check_characters(raw)
    symbology: str | None = None
    data = raw
    if _AIM.match(raw):
        symbology, data = raw[:3], raw[3:]
    elif cfg.require_aim:
        raise ScanError(raw, "no AIM symbology identifier (enable the scanner's AIM Code ID)")
    if not data:
        raise ScanError(raw, "empty scan")
    gs1_symbology = symbology is not None and _is_gs1_symbology(symbology)
    if gs1_symbology:
        for substitute in cfg.gs_substitutes:
            data = data.replace(substitute, GS)
    plain = Scan(raw=raw, data=data, symbology=symbology, symbology_name=_name(symbology))
    # A GS1 Digital Link is a URL in a plain QR/DataMatrix; biip only reads it without the AIM.
    link = not gs1_symbology and data.lower().startswith(("http://", "https://"))
    text = data if link else (symbology or "") + data
    try:
        result = biip.parse(text, config=biip.ParseConfig(separator_chars=[GS]))
    except biip.BiipException as exc:
        if gs1_symbology:
            raise ScanError(raw, f"not a valid GS1 symbol: {exc}") from exc
        return plain
    message = result.gs1_message
    if result.gs1_digital_link_uri is not None:
        message = result.gs1_digital_link_uri.as_gs1_message()
    elif symbology is not None and not gs1_symbology:
        # Plain Code 128, Code 39 or QR data is not GS1, whatever digits it holds.
        return plain
    if message is not None:
        return _with_message(plain, message)
    if result.gtin is not None:
        return replace(plain, gs1=True, gtin=result.gtin.value)
    if result.sscc is not None:
        return replace(plain, gs1=True, sscc=result.sscc.value)
    if gs1_symbology:
        raise ScanError(raw, f"not a valid GS1 symbol: {_first_error(result)}")
    return plain


def _check_characters(raw: str) -> None:
    for i, ch in enumerate(raw):
        if (ch < " " or "\x7f" <= ch < "\xa0") and ch not in ALLOWED_CONTROLS:
            raise GarbledLine(raw, f"garbled line: control byte 0x{ord(ch):02X} at {i}")


def _is_gs1_symbology(symbology: str) -> bool:
    try:
        return biip.symbology.SymbologyIdentifier.extract(symbology).gs1_symbology is not None
    except biip.BiipException:
        return False


def _name(symbology: str | None) -> str | None:
    return None if symbology is None else SYMBOLOGY_NAMES.get(symbology, symbology)


def _first_error(result: biip.ParseResult) -> str:
    for error in (
        result.gs1_message_error,
        result.gtin_error,
        result.sscc_error,
        result.gs1_digital_link_uri_error,
    ):
        if error:
            return str(error)
    return "no GS1 data found"


def _with_message(plain: Scan, message: biip.gs1_messages.GS1Message) -> Scan:
    """The scan with the warehouse's GS1 fields; any check-digit error rejects it."""
    fields: dict[str, object] = {}
    elements: list[tuple[str, str]] = []
    for es in message.element_strings:
        ai = es.ai.ai
        elements.append((ai, es.value))
        # biip reports a bad check digit on the element, not on the message (B.5 pitfall).
        for error in (es.gtin_error, es.sscc_error, es.gln_error):
            if error:
                raise ScanError(plain.raw, f"bad GS1 data in ({ai}): {error}")
        if ai in ("01", "02") and es.gtin is not None:
            fields.setdefault("gtin", es.gtin.value)
        elif ai == "00" and es.sscc is not None:
            fields["sscc"] = es.sscc.value
        elif ai == "10":
            fields["lot"] = es.value
        elif ai == "17":
            fields["expiry"] = es.date
        elif ai == "15":
            fields["best_before"] = es.date
        elif ai == "21":
            fields["serial"] = es.value
        elif ai in ("30", "37") and es.value.isdigit():
            fields["quantity"] = int(es.value)
    return replace(
        plain,
        gs1=True,
        elements=tuple(elements),
        hri=message.as_hri(),
        gtin=_str(fields.get("gtin")),
        lot=_str(fields.get("lot")),
        serial=_str(fields.get("serial")),
        sscc=_str(fields.get("sscc")),
        expiry=_date(fields.get("expiry")),
        best_before=_date(fields.get("best_before")),
        quantity=_int(fields.get("quantity")),
    )


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _date(value: object) -> date | None:
    return value if isinstance(value, date) else None


def _int(value: object) -> int | None:
    return value if isinstance(value, int) else None


def parse_lines(lines: Sequence[bytes | GarbledLine], config: ScanConfig) -> list[Scan | ScanError]:
    """Parse framed lines, keeping errors in place (for drivers that report both)."""
    out: list[Scan | ScanError] = []
    for line in lines:
        if isinstance(line, ScanError):
            out.append(line)
            continue
        try:
            out.append(parse_scan(line, config))
        except ScanError as exc:
            out.append(exc)
    return out
