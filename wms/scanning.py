"""What a scanned barcode says: AIM identifier, GTIN, GS1 data (lot, expiry, serial), SSCC.

Parsing is done once, on the server, with biip; the same rules serve handheld wedge scanners
(where GS may arrive as a printable stand-in) and serial scanners (which send GS itself).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass

import biip

# Wedge scanners cannot type GS (0x1D); they are set up to send one of these instead.
GS_STAND_INS = ("<GS>", "{GS}", "\u241d", "|", "^")
_AIM = re.compile(r"^\][A-Za-z][0-9A-Za-z]")
MAX_SCAN_LENGTH = 200


class ScanError(ValueError):
    """A scan that cannot be read at all (empty, too long, control characters)."""


@dataclass(frozen=True, slots=True)
class ParsedScan:
    """A scan as the server understood it."""

    raw: str
    value: str  # without AIM identifier, GS as \\x1d
    symbology: str | None
    gtin: str | None = None  # 14 digits
    lot: str | None = None
    expiry: dt.date | None = None
    best_before: dt.date | None = None
    serial: str | None = None
    sscc: str | None = None
    count: int | None = None  # AI (37): trade items in a logistic unit

    @property
    def gs1(self) -> bool:
        """Whether the scan carried GS1 data beyond a bare GTIN."""
        return any((self.lot, self.expiry, self.serial, self.sscc, self.count))


def _clean(raw: str) -> tuple[str, str | None]:
    text = raw.strip("\r\n\t ")
    if not text:
        raise ScanError("empty scan")
    if len(text) > MAX_SCAN_LENGTH:
        raise ScanError(f"scan longer than {MAX_SCAN_LENGTH} characters")
    symbology = None
    match = _AIM.match(text)
    if match:
        symbology, text = match.group(0), text[match.end() :]
    if any(ord(c) < 32 and c != "\x1d" for c in text):
        raise ScanError("scan contains control characters: check the scanner's suffix settings")
    return text, symbology


def parse_scan(raw: str) -> ParsedScan:
    """Read a raw scan; anything that is not GS1 stays a plain value (a location, a tote...)."""
    # A floor scans the same few thousand GTINs, locations and totes all day, and biip's
    # parse was a tenth of a handheld scan's time (profiled): results are kept (they are
    # frozen). Per day, as a GS1 date's century is read against today's date.
    return _parse_today(raw, dt.date.today())


@functools.lru_cache(maxsize=8192)
def _parse_today(raw: str, _today: dt.date) -> ParsedScan:
    value, symbology = _clean(raw)
    gs1_symbology = symbology in ("]C1", "]d2", "]Q3", "]e0", "]J1")
    if gs1_symbology or value[:1].isdigit():
        # Only GS1 data gets its separator back; a location or tote code is left as it is.
        for stand_in in GS_STAND_INS:
            value = value.replace(stand_in, "\x1d")
    digits = value.isdigit()
    if not (gs1_symbology or digits):
        return ParsedScan(raw, value, symbology)
    prefix = symbology or ""
    result = biip.parse(prefix + value, config=biip.ParseConfig(separator_chars=["\x1d"]))
    message = result.gs1_message
    if gs1_symbology and message is not None:
        return _from_message(raw, value, symbology, message)
    if result.sscc is not None and result.sscc_error is None and len(value) == 18:
        return ParsedScan(raw, value, symbology, sscc=result.sscc.value)
    if result.gtin is not None and result.gtin_error is None:
        return ParsedScan(raw, value, symbology, gtin=result.gtin.value.zfill(14))
    if digits and not gs1_symbology and len(value) not in (8, 12, 13, 14, 18):
        return ParsedScan(raw, value, symbology)
    if gs1_symbology or (digits and len(value) in (8, 12, 13, 14, 18)):
        if gs1_symbology:
            problem = result.gs1_message_error or result.gtin_error or result.sscc_error
        elif len(value) == 18:
            problem = result.sscc_error
        else:
            problem = result.gtin_error
        raise ScanError(f"barcode {value!r} is not valid GS1: {problem}")
    return ParsedScan(raw, value, symbology)


def _date(element: object) -> dt.date | None:
    return getattr(element, "date", None)


def _from_message(raw: str, value: str, symbology: str | None, message: object) -> ParsedScan:
    elements = {e.ai.ai: e for e in message.element_strings}  # type: ignore[attr-defined]

    def get(ai: str) -> object | None:
        return elements.get(ai)

    gtin = get("01") or get("02")
    sscc = get("00")
    count = get("37")
    return ParsedScan(
        raw,
        value,
        symbology,
        gtin=getattr(gtin, "value", None),
        lot=getattr(get("10"), "value", None),
        expiry=_date(get("17")),
        best_before=_date(get("15")),
        serial=getattr(get("21"), "value", None),
        sscc=getattr(sscc, "value", None),
        count=int(count.value) if count is not None else None,  # type: ignore[attr-defined]
    )
