"""Barcode SVGs for screens (pack station, previews), drawn by python-barcode.

GS1-128 separators are FNC1 as ``"\\xf1"``, never GS: python-barcode crashes or draws another
barcode with a literal GS (reference D.2), so this module builds the data itself.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from barcode.codex import Code128, Gs1_128
from barcode.writer import SVGWriter

from labels import gs1_128
from labels import sscc as sscc_codes
from labels.code128 import FNC1, check_code128_data
from labels.errors import LabelDataError
from labels.gs1_128 import Gs1Element

DEFAULT_MODULE_MM = 0.33
DEFAULT_HEIGHT_MM = 15.0


def _svg(symbol: Code128, module_mm: float, height_mm: float, text: str) -> str:
    writer = SVGWriter()
    writer.with_doctype = False
    options = {
        "module_width": module_mm,
        "module_height": height_mm,
        "quiet_zone": 10 * module_mm,
        "font_size": 10 if text else 0,
        "text_distance": 4.0,
        "write_text": False,
    }
    symbol.writer = writer
    buffer = io.BytesIO()
    # python-barcode writes its own text only when asked; we pass the exact line to print.
    symbol.write(buffer, options, text=text or None)
    svg = buffer.getvalue().decode("utf-8")
    # Drop the XML declaration so the SVG can be inlined in an HTML page.
    return svg[svg.index("<svg") :]


def code128_svg(
    data: str,
    *,
    module_mm: float = DEFAULT_MODULE_MM,
    height_mm: float = DEFAULT_HEIGHT_MM,
    show_text: bool = True,
) -> str:
    """A Code 128 barcode of ``data`` (printable ASCII) as an SVG document."""
    check_code128_data(data)
    if FNC1 in data:
        raise LabelDataError("FNC1 belongs in a GS1-128 barcode: use gs1_128_svg")
    return _svg(Code128(data), module_mm, height_mm, data if show_text else "")


def gs1_128_svg(
    elements: Sequence[Gs1Element],
    *,
    module_mm: float = DEFAULT_MODULE_MM,
    height_mm: float = DEFAULT_HEIGHT_MM,
    show_text: bool = True,
) -> str:
    """A GS1-128 barcode of ``elements`` with its ``(AI) value`` line, as an SVG document."""
    data = gs1_128.barcode_data(elements)
    # Gs1_128 adds the leading FNC1 itself; the separators inside stay as FNC1.
    symbol = Gs1_128(data.removeprefix(FNC1))
    return _svg(symbol, module_mm, height_mm, gs1_128.hri(elements) if show_text else "")


def sscc_svg(sscc: str, *, module_mm: float = 0.495, height_mm: float = 25.0) -> str:
    """An SSCC in GS1-128 at the GS1 logistics X-dimension, as on the carton's label."""
    code = sscc_codes.parse_sscc(sscc)
    return gs1_128_svg(
        [Gs1Element(sscc_codes.SSCC_AI, code)], module_mm=module_mm, height_mm=height_mm
    )
