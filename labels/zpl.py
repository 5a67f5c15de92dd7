"""ZPL II for Zebra printers, from the same drawings the PDF labels are made of.

Field data never reaches the printer raw: text goes through ``^FH`` hex escaping (``^``, ``~``,
the escape character itself and control characters), and barcode data is written as an
explicit Code 128 plan whose only special characters are ``>`` invocation codes (reference
C.3), so no customer name or order number can end a field or start a command.
"""

from __future__ import annotations

from collections.abc import Iterable

from labels.code128 import Code128Plan, SymbolKind
from labels.documents import LabelDocument
from labels.layout import BarcodeItem, Drawing, RuleItem, TextItem
from labels.templates import Fields, Template, TemplateRegistry, layout

HEX_INDICATOR = "_"
"""The ``^FH`` escape character (ZPL's default)."""

# ZPL would act on these inside field data: the two command prefixes, and the ^FH indicator.
_ESCAPED = {"^", "~", HEX_INDICATOR}

_START = {SymbolKind.START_B: ">:", SymbolKind.START_C: ">;"}
_SWITCH = {SymbolKind.CODE_B: ">6", SymbolKind.CODE_C: ">5", SymbolKind.FNC1: ">8"}
# Subset B characters that need an invocation code; the values are Code 128's own (C.3).
_INVOKED = {">": ">0", "^": "><", "~": ">="}

_DEFAULT_REGISTRY = TemplateRegistry()


def escape_field_data(text: str) -> str:
    """Text for a ``^FH`` field: ``^ ~ _`` and control characters as ``_XX`` hex (UTF-8 bytes)."""
    out = []
    for char in text:
        if char in _ESCAPED or ord(char) < 0x20 or 0x7F <= ord(char) <= 0x9F:
            out.append("".join(f"{HEX_INDICATOR}{byte:02X}" for byte in char.encode("utf-8")))
        else:
            out.append(char)
    return "".join(out)


def code128_field_data(plan: Code128Plan) -> str:
    """``^FD`` data for ``^BC`` mode N: start code, subset switches and FNC1 written out."""
    out = []
    for symbol in plan.symbols:
        if symbol.kind in _START:
            out.append(_START[symbol.kind])
        elif symbol.kind in _SWITCH:
            out.append(_SWITCH[symbol.kind])
        elif symbol.kind is SymbolKind.PAIR:
            out.append(symbol.data)
        else:
            out.append(_INVOKED.get(symbol.data, symbol.data))
    return "".join(out)


def _text(item: TextItem) -> str:
    return (
        f"^FO{item.x},{item.y}^A0N,{item.height},{item.height}"
        f"^FH{HEX_INDICATOR}^FD{escape_field_data(item.text)}^FS"
    )


def _barcode(item: BarcodeItem) -> str:
    # Interpretation line off: the template prints its own (GS1 wants "(00) ..." with brackets).
    return (
        f"^FO{item.x},{item.y}^BY{item.module}^BCN,{item.height},N,N,N"
        f"^FD{code128_field_data(item.plan)}^FS"
    )


def _rule(item: RuleItem) -> str:
    return f"^FO{item.x},{item.y}^GB{item.width},{item.thickness},{item.thickness}^FS"


def drawing_to_zpl(drawing: Drawing) -> str:
    """One ZPL format (``^XA``...``^XZ``) for ``drawing``; UTF-8 text via ``^CI28``."""
    lines = [
        "^XA",
        "^CI28",
        f"^PW{drawing.size.width}",
        f"^LL{drawing.size.height}",
        "^LH0,0",
    ]
    for item in drawing.items:
        if isinstance(item, TextItem):
            lines.append(_text(item))
        elif isinstance(item, BarcodeItem):
            lines.append(_barcode(item))
        else:
            lines.append(_rule(item))
    lines.append("^XZ")
    return "\n".join(lines) + "\n"


def template_zpl(template: Template, fields: Fields) -> str:
    """ZPL for ``fields`` laid out on ``template``."""
    return drawing_to_zpl(layout(template, fields))


def label_drawing(document: LabelDocument, registry: TemplateRegistry | None = None) -> Drawing:
    """Lay a label out on its customer's template for its kind, or the default one."""
    registry = registry or _DEFAULT_REGISTRY
    template = registry.for_label(document.kind, document.customer)
    return layout(template, document.fields())


def label_zpl(document: LabelDocument, registry: TemplateRegistry | None = None) -> str:
    """ZPL for one label document."""
    return drawing_to_zpl(label_drawing(document, registry))


def job_bytes(formats: Iterable[str], copies: int = 1) -> bytes:
    """Formats joined into one print job, encoded as the ``^CI28`` the formats declare.

    Copies repeat the format rather than use ``^PQ``, so a preview rendered from the job shows
    every label that will come out of the printer.
    """
    return ("".join(formats) * copies).encode("utf-8")
