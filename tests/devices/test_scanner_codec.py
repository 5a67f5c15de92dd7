"""Scanner line framing, AIM identifiers and GS1 parsing (devices.md B.2, B.3, B.5)."""

from __future__ import annotations

from datetime import date

import pytest

from devices.scanner.codec import (
    GarbledLine,
    LineFramer,
    Scan,
    ScanConfig,
    ScanError,
    parse_scan,
)

GS1_128 = b"]C101095060001343521726123110LOT42\x1d21SER1"


def test_framer_splits_cr_lf_crlf_across_chunks_and_drops_blank_lines() -> None:
    framer = LineFramer()
    assert framer.feed(b"]C0AB") == []
    assert framer.feed(b"C\r") == [b"]C0ABC"]
    assert framer.feed(b"\n]E05901234123457\n\r\n]C0X") == [b"]E05901234123457"]
    assert framer.pending == b"]C0X"
    assert framer.feed(b"\r") == [b"]C0X"]


def test_framer_rejects_an_overlong_line_and_recovers() -> None:
    framer = LineFramer(max_length=8)
    lines = framer.feed(b"0123456789ABCDEF\r\n]C0OK\r\n")
    assert isinstance(lines[0], GarbledLine) and "longer than 8" in lines[0].reason
    assert lines[1:] == [b"]C0OK"]
    framer.feed(b"partial")
    assert framer.flush() == b"partial"
    assert framer.flush() is None


def test_gs1_128_with_lot_expiry_and_serial() -> None:
    scan = parse_scan(GS1_128)
    assert scan.symbology == "]C1" and scan.symbology_name == "GS1-128" and scan.gs1
    assert scan.gtin == "09506000134352"
    assert scan.lot == "LOT42"
    assert scan.expiry == date(2026, 12, 31)
    assert scan.serial == "SER1"
    assert scan.hri == "(01)09506000134352(17)261231(10)LOT42(21)SER1"
    assert scan.elements[0] == ("01", "09506000134352")


def test_sscc_of_a_shipping_label() -> None:
    scan = parse_scan(b"]C100006141411234567890")
    assert scan.sscc == "006141411234567890"
    assert scan.hri == "(00)006141411234567890"


def test_best_before_and_count_ais() -> None:
    scan = parse_scan(b"]C10109506000134352\x1d15270131\x1d3712")
    assert scan.best_before == date(2027, 1, 31)
    assert scan.quantity == 12


@pytest.mark.parametrize(
    ("line", "config"),
    [
        ("]C101095060001343521726123110LOT42|21SER1", ScanConfig(gs_substitutes=("|",))),
        ("]C101095060001343521726123110LOT42<GS>21SER1", ScanConfig(gs_substitutes=("<GS>",))),
        ("]d201095060001343521726123110LOT42\x1d21SER1", ScanConfig()),
    ],
)
def test_printable_gs_substitutes_and_datamatrix(line: str, config: ScanConfig) -> None:
    scan = parse_scan(line, config)
    assert (scan.lot, scan.serial) == ("LOT42", "SER1")
    assert scan.data == "01095060001343521726123110LOT42\x1d21SER1"


def test_substitutes_only_apply_to_gs1_symbologies() -> None:
    scan = parse_scan("]C0A|B", ScanConfig(gs_substitutes=("|",)))
    assert scan == Scan(raw="]C0A|B", data="A|B", symbology="]C0", symbology_name="Code 128")


def test_ean13_and_plain_code128() -> None:
    ean = parse_scan(b"]E05901234123457")
    assert (ean.gtin, ean.gs1, ean.symbology_name) == ("5901234123457", True, "EAN-13 / UPC-A")
    plain = parse_scan(b"]C0ORDER-12345")
    assert (plain.value, plain.gs1, plain.gtin) == ("ORDER-12345", False, None)
    # digits in a plain Code 128 are not GS1, whatever they look like
    assert parse_scan(b"]C00109506000134352").gtin is None


def test_gs1_digital_link_in_a_plain_qr() -> None:
    scan = parse_scan(b"]Q1https://id.gs1.org/01/09506000134352/10/ABC?17=261231")
    assert (scan.gs1, scan.gtin, scan.lot, scan.expiry) == (
        True,
        "09506000134352",
        "ABC",
        date(2026, 12, 31),
    )
    assert not parse_scan(b"]Q1https://example.com/menu").gs1


def test_without_aim_identifier() -> None:
    assert parse_scan(b"0109506000134352").gtin == "09506000134352"
    assert parse_scan(b"TOTE-0042").value == "TOTE-0042"
    with pytest.raises(ScanError, match="AIM Code ID"):
        parse_scan(b"TOTE-0042", ScanConfig(require_aim=True))


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b"]C1\x00\x0101234", "garbled line: control byte 0x00 at 3"),
        (b"]C1\xfe\x85garbage", "garbled line: control byte 0x85 at 4"),
        (b"]C1011234", "not a valid GS1 symbol: Failed to match '011234'"),
        (b"]C100006141411234567891", "bad GS1 data in (00): Invalid SSCC check digit"),
        (b"]E05901234123458", "not a valid GS1 symbol: Invalid GTIN check digit"),
        (b"]C1", "empty scan"),
    ],
)
def test_garbled_and_invalid_lines_are_rejected_with_a_clear_reason(
    line: bytes, reason: str
) -> None:
    with pytest.raises(ScanError) as info:
        parse_scan(line)
    assert info.value.reason.startswith(reason)
    assert isinstance(info.value, GarbledLine) == reason.startswith("garbled")
