"""Renderer-independent label drawings: text, barcodes and rules placed in printer dots.

A template lays its blocks out into a :class:`Drawing`; ``labels.zpl`` and ``labels.pdf`` both
draw that same drawing, so a site without a Zebra printer gets the very label a Zebra prints.
Coordinates are dots at 203 dpi (8 dots/mm), top-left origin, as in ZPL.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from labels.code128 import Code128Plan

DPI = 203
"""Dots per inch of the drawing grid: the common 8 dots/mm Zebra print head."""


@dataclass(frozen=True)
class LabelSize:
    """A label's printable size in dots."""

    width: int
    height: int

    @classmethod
    def inches(cls, width: float, height: float) -> LabelSize:
        """A size given in inches, e.g. ``LabelSize.inches(4, 6)``."""
        return cls(round(width * DPI), round(height * DPI))

    @property
    def width_in(self) -> float:
        """Width in inches."""
        return self.width / DPI

    @property
    def height_in(self) -> float:
        """Height in inches."""
        return self.height / DPI


LABEL_4X6 = LabelSize.inches(4, 6)
LABEL_4X2 = LabelSize.inches(4, 2)


@dataclass(frozen=True)
class TextItem:
    """One line of text; ``height`` is the font's cell height in dots, ``y`` its top."""

    x: int
    y: int
    height: int
    text: str


@dataclass(frozen=True)
class BarcodeItem:
    """A Code 128 barcode (GS1-128 when ``gs1``) with its bars starting at ``x``."""

    x: int
    y: int
    height: int
    module: int
    plan: Code128Plan
    gs1: bool = False

    @property
    def data(self) -> str:
        """The encoded data, FNC1 included."""
        return self.plan.text

    @property
    def width(self) -> int:
        """Width of the bars in dots, quiet zones excluded."""
        return self.plan.modules * self.module


@dataclass(frozen=True)
class RuleItem:
    """A filled horizontal rule."""

    x: int
    y: int
    width: int
    thickness: int


Item = TextItem | BarcodeItem | RuleItem


@dataclass(frozen=True)
class Drawing:
    """A laid-out label: its size, its items and the template that made it."""

    size: LabelSize
    items: tuple[Item, ...]
    template: str = ""


def clean_text(value: str) -> str:
    """One printable line: control characters (CR, LF, tab, NUL, ...) become spaces."""
    return "".join(" " if unicodedata.category(char) == "Cc" else char for char in value)


# Advance widths of font 0 (CG Triumvirate Bold Condensed) as a fraction of the font height,
# measured on zplkit's printer-captured strikes with ``^A0N,h,h``.
_FONT0_WIDTHS = {
    0.25: "ijl",
    0.28: " !'(),./:;I[\\]`ft",
    0.34: "r",
    0.38: "z",
    0.44: "?Jcksvxy",
    0.47: '"#$*0123456789Laeo',
    0.5: "EFTZ^_bdghnpqu{|}",
    0.53: "CSV",
    0.56: "ABKOPQXY",
    0.59: "DGR",
    0.62: "&HNU",
    0.66: "w",
    0.75: "Mm",
    0.81: "W",
    0.91: "%+-=@",
    1.0: "<>~",
}
_WIDTH_OF = {char: width for width, chars in _FONT0_WIDTHS.items() for char in chars}
_OTHER_WIDTH = 0.7
"""Letters beyond ASCII: about a capital, rounded up."""


def text_width(text: str, height: int) -> int:
    """Width in dots of ``text`` in the printer's scalable font 0 at ``height``, 3 % to spare."""
    return round(sum(_WIDTH_OF.get(char, _OTHER_WIDTH) for char in text) * height * 1.03)


def fit_text(text: str, height: int, width: int) -> str:
    """Cut ``text`` so it fits ``width`` dots at font ``height``."""
    if text_width(text, height) <= width:
        return text
    while text and text_width(text, height) > width:
        text = text[:-1]
    return text.rstrip()
