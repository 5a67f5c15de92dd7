"""GS1 identifiers: GTIN and SSCC check digits and validation (mod-10, via biip)."""

from __future__ import annotations

from biip.checksums import gs1_standard_check_digit

GTIN_LENGTHS = (8, 12, 13, 14)


def check_digit(digits_without_check: str) -> int:
    """Return the GS1 mod-10 check digit for a string of digits."""
    return int(gs1_standard_check_digit(digits_without_check))


def with_check_digit(digits_without_check: str) -> str:
    """Append the GS1 mod-10 check digit to a string of digits."""
    return digits_without_check + str(check_digit(digits_without_check))


def is_valid_gtin(value: str) -> bool:
    """Tell whether ``value`` is a GTIN-8/12/13/14 with a correct check digit."""
    if not value.isdigit() or len(value) not in GTIN_LENGTHS:
        return False
    return check_digit(value[:-1]) == int(value[-1])


def normalise_gtin(value: str) -> str:
    """Return the GTIN as 14 digits (zero-padded), the form GS1 AI (01) carries."""
    return value.zfill(14)


def is_valid_sscc(value: str) -> bool:
    """Tell whether ``value`` is an 18-digit SSCC with a correct check digit."""
    return len(value) == 18 and value.isdigit() and check_digit(value[:-1]) == int(value[-1])
