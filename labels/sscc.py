"""SSCC (Serial Shipping Container Code): building, checking and formatting.

An SSCC is 18 digits: an extension digit, the GS1 company prefix, a serial reference (together
17 digits) and a mod-10 check digit. The serial numbers come from a sequence the caller owns
(the database sequence in the app), so this module never hands out a number on its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from labels.errors import LabelDataError
from labels.gs1 import check_digit, is_valid_sscc

SSCC_AI = "00"


@dataclass(frozen=True)
class SsccScheme:
    """The company's SSCC numbering: extension digit and GS1 company prefix (4-12 digits)."""

    company_prefix: str
    extension_digit: int = 0

    def __post_init__(self) -> None:
        if not (self.company_prefix.isdigit() and self.company_prefix.isascii()):
            raise LabelDataError(f"GS1 company prefix {self.company_prefix!r} must be digits")
        if not 4 <= len(self.company_prefix) <= 12:
            raise LabelDataError("a GS1 company prefix has 4 to 12 digits")
        if not 0 <= self.extension_digit <= 9:
            raise LabelDataError("the SSCC extension digit is 0-9")

    @property
    def serial_digits(self) -> int:
        """How many digits the serial reference has (16 minus the prefix length)."""
        return 16 - len(self.company_prefix)

    @property
    def max_serial(self) -> int:
        """The largest serial reference the scheme can hold."""
        return int("9" * self.serial_digits)

    def sscc(self, serial: int) -> str:
        """The SSCC for serial reference ``serial``, check digit included."""
        if not 0 <= serial <= self.max_serial:
            raise LabelDataError(
                f"serial {serial} is outside 0..{self.max_serial} for prefix {self.company_prefix}"
            )
        body = f"{self.extension_digit}{self.company_prefix}{serial:0{self.serial_digits}d}"
        return body + str(check_digit(body))

    def serial_of(self, sscc: str) -> int:
        """The serial reference inside one of this scheme's SSCCs."""
        value = parse_sscc(sscc)
        prefix = f"{self.extension_digit}{self.company_prefix}"
        if not value.startswith(prefix):
            raise LabelDataError(f"SSCC {value} is not from prefix {prefix}")
        return int(value[len(prefix) : 17])

    def format(self, sscc: str) -> str:
        """Human-readable with the parts apart: ``0 0614141 123456789 0``."""
        value = parse_sscc(sscc)
        cut = 1 + len(self.company_prefix)
        return f"{value[0]} {value[1:cut]} {value[cut:17]} {value[17]}"


class SsccAllocator:
    """Hands out SSCCs from serials supplied by ``next_serial`` (a sequence the caller owns)."""

    def __init__(self, scheme: SsccScheme, next_serial: Callable[[], int]) -> None:
        self.scheme = scheme
        self._next_serial = next_serial

    def next(self) -> str:
        """The next SSCC; raises ``LabelDataError`` once the serial range is used up."""
        return self.scheme.sscc(self._next_serial())


def parse_sscc(value: str) -> str:
    """The 18 digits of an SSCC given bare, spaced or as ``(00)...``; checks the check digit."""
    digits = value.strip().replace(" ", "")
    if digits.startswith(f"({SSCC_AI})"):
        digits = digits[len(SSCC_AI) + 2 :]
    elif len(digits) == 20 and digits.startswith(SSCC_AI):
        digits = digits[len(SSCC_AI) :]
    if not (digits.isascii() and is_valid_sscc(digits)):
        raise LabelDataError(f"{value!r} is not a valid SSCC (18 digits, mod-10 check digit)")
    return digits


def element_string(sscc: str) -> str:
    """The SSCC as a GS1 element string: ``00`` followed by the 18 digits."""
    return SSCC_AI + parse_sscc(sscc)


def hri(sscc: str) -> str:
    """The SSCC as printed under its barcode: ``(00) 006141411234567890``."""
    return f"({SSCC_AI}) {parse_sscc(sscc)}"
