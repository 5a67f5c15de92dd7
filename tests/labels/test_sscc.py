"""SSCC building: check digits against biip and a hand-written mod-10, uniqueness over a run."""

from __future__ import annotations

import itertools

import pytest
from biip.sscc import Sscc

from labels.errors import LabelDataError
from labels.sscc import SsccAllocator, SsccScheme, element_string, hri, parse_sscc


def mod10(body: str) -> int:
    """GS1 mod-10 written out: weights 3,1,3,... from the right."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def test_gs1_example() -> None:
    assert SsccScheme("0614141").sscc(123456789) == "006141411234567890"


@pytest.mark.parametrize("prefix", ["0614141", "506000", "95012345678", "400000000001"])
def test_a_run_of_serials_gives_unique_valid_ssccs(prefix: str) -> None:
    scheme = SsccScheme(prefix, extension_digit=3)
    start = scheme.max_serial - 5_000 if len(prefix) > 10 else 0
    serials = range(start, start + 5_000)
    codes = [scheme.sscc(serial) for serial in serials]
    assert len(set(codes)) == len(codes)
    for serial, code in zip(serials, codes, strict=True):
        assert len(code) == 18 and code.isdigit()
        assert code.startswith("3" + prefix)
        assert int(code[-1]) == mod10(code[:-1])
        assert Sscc.parse(code).check_digit == int(code[-1])  # biip agrees
        assert scheme.serial_of(code) == serial


def test_serial_range_is_enforced() -> None:
    scheme = SsccScheme("012345678901")  # 12-digit prefix leaves 4 serial digits
    assert scheme.serial_digits == 4 and scheme.max_serial == 9999
    assert scheme.sscc(9999)[1:17] == "0123456789019999"
    with pytest.raises(LabelDataError, match="outside"):
        scheme.sscc(10_000)
    with pytest.raises(LabelDataError, match="outside"):
        scheme.sscc(-1)


@pytest.mark.parametrize(
    ("prefix", "extension"),
    [("123", 0), ("1234567890123", 0), ("12a4567", 0), ("١٢٣٤٥٦٧", 0), ("0614141", 10)],
)
def test_bad_scheme_is_refused(prefix: str, extension: int) -> None:
    with pytest.raises(LabelDataError):
        SsccScheme(prefix, extension)


def test_allocator_takes_serials_from_the_callers_sequence() -> None:
    sequence = itertools.count(41)
    allocator = SsccAllocator(SsccScheme("0614141"), lambda: next(sequence))
    first, second = allocator.next(), allocator.next()
    assert allocator.scheme.serial_of(first) == 41
    assert allocator.scheme.serial_of(second) == 42


def test_allocator_stops_when_the_range_is_used_up() -> None:
    allocator = SsccAllocator(SsccScheme("012345678901"), lambda: 10_000)
    with pytest.raises(LabelDataError, match="outside"):
        allocator.next()


def test_parse_and_format() -> None:
    scheme = SsccScheme("0614141")
    code = "006141411234567890"
    for written in (code, "(00)006141411234567890", "(00) 0 0614141 123456789 0", "00" + code):
        assert parse_sscc(written) == code
    assert scheme.format(code) == "0 0614141 123456789 0"
    assert hri(code) == "(00) 006141411234567890"
    assert element_string(code) == "00006141411234567890"
    for bad in ("006141411234567891", "00614141123456789", "٠٠٦١٤١٤١١٢٣٤٥٦٧٨٩٠", ""):
        with pytest.raises(LabelDataError):
            parse_sscc(bad)
    with pytest.raises(LabelDataError, match="not from prefix"):
        SsccScheme("5012345").serial_of(code)
