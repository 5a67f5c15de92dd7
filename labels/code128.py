"""Code 128 symbol planning: the app picks subsets and FNC1, so every renderer draws the same bars.

ZPL renderers disagree on automatic subset selection and on GS1 mode D (reference C.3); an
explicit plan (start code, subset switches, FNC1) is the one form they all agree on. The same
plan gives the symbol's width in modules, so templates can check that a barcode fits.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from labels.errors import LabelDataError

FNC1 = "\xf1"
"""FNC1 in barcode data: the character python-barcode and reportlab use (reference D.2)."""

QUIET_ZONE_MODULES = 10
"""Code 128 needs ten modules of white space on each side."""


class SymbolKind(Enum):
    """What one Code 128 symbol character does."""

    START_B = "start_b"
    START_C = "start_c"
    CODE_B = "code_b"
    CODE_C = "code_c"
    FNC1 = "fnc1"
    CHAR = "char"
    PAIR = "pair"


@dataclass(frozen=True)
class Symbol:
    """One Code 128 symbol: a subset change, FNC1, a subset B character or a subset C pair."""

    kind: SymbolKind
    data: str = ""


@dataclass(frozen=True)
class Code128Plan:
    """The symbols of one Code 128 barcode, start code first, without check and stop."""

    symbols: tuple[Symbol, ...]

    @property
    def modules(self) -> int:
        """Width of the bars in modules: 11 per symbol and the check, 13 for the stop."""
        return 11 * (len(self.symbols) + 1) + 13

    @property
    def text(self) -> str:
        """The data the plan encodes, FNC1 included as ``FNC1``."""
        return "".join(FNC1 if s.kind is SymbolKind.FNC1 else s.data for s in self.symbols)


def _digit_run(data: str, start: int) -> int:
    end = start
    while end < len(data) and data[end].isdigit() and data[end].isascii():
        end += 1
    return end - start


def check_code128_data(data: str) -> None:
    """Refuse data Code 128 subset B cannot carry (only printable ASCII and FNC1 are allowed)."""
    if not data.replace(FNC1, ""):
        raise LabelDataError("a barcode needs data")
    for char in data:
        if char != FNC1 and not (" " <= char <= "~"):
            raise LabelDataError(
                f"character {char!r} cannot be encoded in Code 128 (printable ASCII)"
            )


def plan_code128(data: str) -> Code128Plan:
    """Plan subsets B and C for ``data`` (printable ASCII, FNC1 as ``FNC1``)."""
    check_code128_data(data)
    symbols: list[Symbol] = []
    subset = ""
    i = 0
    while i < len(data):
        char = data[i]
        if char == FNC1:
            if not subset:
                subset = "C" if _digit_run(data, i + 1) >= 2 else "B"
                symbols.append(Symbol(SymbolKind.START_C if subset == "C" else SymbolKind.START_B))
            symbols.append(Symbol(SymbolKind.FNC1))
            i += 1
            continue
        run = _digit_run(data, i)
        if subset == "C":
            if run >= 2:
                symbols.append(Symbol(SymbolKind.PAIR, data[i : i + 2]))
                i += 2
                continue
            symbols.append(Symbol(SymbolKind.CODE_B))
            subset = "B"
        if not subset:
            # Start in C only for an even run: an odd one costs the same either way.
            if run >= 2 and run % 2 == 0:
                symbols.append(Symbol(SymbolKind.START_C))
                subset = "C"
                continue
            symbols.append(Symbol(SymbolKind.START_B))
            subset = "B"
        # Subset B from here. Four digits or more pay for the switch to C; an odd run leaves
        # its first digit in B so that C gets whole pairs.
        if run >= 4 and run % 2 == 0:
            symbols.append(Symbol(SymbolKind.CODE_C))
            subset = "C"
            continue
        symbols.append(Symbol(SymbolKind.CHAR, char))
        i += 1
    return Code128Plan(tuple(symbols))
