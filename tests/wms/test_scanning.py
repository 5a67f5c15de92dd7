"""Scans are read on the server: AIM identifiers, GS1 with printable separators, bad data."""

from __future__ import annotations

import datetime as dt

import pytest

from wms.scanning import ScanError, parse_scan


@pytest.mark.parametrize("separator", ["\x1d", "|", "<GS>", "{GS}"])
def test_gs1_128_with_lot_expiry_and_serial(separator):
    scan = parse_scan(f"]C101054123450000131726123110L2611-07{separator}21SER1\r\n")
    assert scan.symbology == "]C1"
    assert scan.gtin == "05412345000013"
    assert scan.lot == "L2611-07"
    assert scan.expiry == dt.date(2026, 12, 31)
    assert scan.serial == "SER1"
    assert scan.gs1


def test_plain_gtin_with_and_without_aim_prefix():
    assert parse_scan("5412345000013").gtin == "05412345000013"
    scan = parse_scan("]E05412345000013")
    assert (scan.symbology, scan.gtin, scan.gs1) == ("]E0", "05412345000013", False)


def test_sscc_and_case_count():
    assert parse_scan("]C100054123450000000017").sscc == "054123450000000017"
    case = parse_scan("]C102054123450000133712")
    assert (case.gtin, case.count) == ("05412345000013", 12)


@pytest.mark.parametrize("code", ["A-01-02-3", "TOTE-0042", "BADGE-0011", "PACK-1"])
def test_other_codes_stay_plain_values(code):
    scan = parse_scan(code)
    assert scan.value == code
    assert scan.gtin is None and scan.sscc is None


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("5412345000014", "check digit"),
        ("]C1012345", "not valid GS1"),
        ("", "empty"),
        ("   \r\n", "empty"),
        ("ABC\x07DEF", "control characters"),
        ("9" * 300, "longer than"),
    ],
)
def test_bad_scans_are_refused_with_a_reason(raw, message):
    with pytest.raises(ScanError, match=message):
        parse_scan(raw)


def test_a_scan_read_again_gives_the_same_reading_and_a_bad_one_fails_again():
    first = parse_scan("]C1010541234500001410LOT-A\x1d17271231")
    again = parse_scan("]C1010541234500001410LOT-A\x1d17271231")
    assert again == first and again.lot == "LOT-A"
    for _ in range(2):  # a refusal is not kept as if it were a reading
        with pytest.raises(ScanError, match="check digit"):
            parse_scan("5412345000014")
