"""PDF output for sites without Zebra printers: the same 4x6 labels, and an A4 packing list.

Labels are drawn from the very :class:`~labels.layout.Drawing` the ZPL comes from. Barcodes are
reportlab's own vector Code 128; GS1-128 data carries FNC1 as ``"\\xf1"`` (reference D.2), never
as a GS character, which would print a different barcode.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)
from reportlab.platypus.flowables import Flowable

from labels import gs1_128
from labels import sscc as sscc_codes
from labels.code128 import check_code128_data
from labels.documents import LabelDocument, PackingList
from labels.errors import LabelDataError
from labels.gs1_128 import Gs1Element
from labels.layout import DPI, BarcodeItem, Drawing, RuleItem, TextItem
from labels.templates import TemplateRegistry
from labels.zpl import label_drawing

POINTS_PER_DOT = 72 / DPI
PACKING_LIST_SSCC_X = 0.33 * mm
"""SSCC bars on paper read by a hand scanner; the 0.495 mm GS1 minimum is for the box label."""


@dataclass(frozen=True)
class PdfStyle:
    """Fonts for PDFs: the PDF base fonts by default (Latin-1 only, others print as a box)."""

    font: str = "Helvetica"
    bold_font: str = "Helvetica-Bold"


def truetype_style(regular: Path, bold: Path, name: str = "LabelSans") -> PdfStyle:
    """Register two TrueType fonts (e.g. DejaVu Sans) for text beyond Latin-1."""
    if name not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(name, str(regular)))
        pdfmetrics.registerFont(TTFont(f"{name}-Bold", str(bold)))
    return PdfStyle(font=name, bold_font=f"{name}-Bold")


DEFAULT_STYLE = PdfStyle()


def _code128(data: str, bar_width: float, bar_height: float, quiet: bool) -> Code128:
    # reportlab silently drops characters it cannot encode, so refuse them first.
    check_code128_data(data)
    return Code128(data, barWidth=bar_width, barHeight=bar_height, quiet=quiet, humanReadable=0)


def _draw_text(canvas: Canvas, item: TextItem, page: tuple[float, float], style: PdfStyle) -> None:
    size = item.height * POINTS_PER_DOT
    x = item.x * POINTS_PER_DOT
    # ZPL places a field by its top; a PDF baseline sits about 0.8 of the size lower.
    baseline = page[1] - (item.y + item.height * 0.8) * POINTS_PER_DOT
    room = page[0] - x - 30 * POINTS_PER_DOT
    width = pdfmetrics.stringWidth(item.text, style.bold_font, size)
    text = canvas.beginText(x, baseline)
    text.setFont(style.bold_font, size)
    if width > room > 0:
        # Condense rather than cut: font 0 on the printer is a condensed face anyway.
        text.setHorizScale(100 * room / width)
    text.textOut(item.text)
    canvas.drawText(text)


def _draw_barcode(canvas: Canvas, item: BarcodeItem, page_height: float) -> None:
    barcode = _code128(
        item.data, item.module * POINTS_PER_DOT, item.height * POINTS_PER_DOT, quiet=False
    )
    bottom = page_height - (item.y + item.height) * POINTS_PER_DOT
    barcode.drawOn(canvas, item.x * POINTS_PER_DOT, bottom)


def _draw_rule(canvas: Canvas, item: RuleItem, page_height: float) -> None:
    top = page_height - item.y * POINTS_PER_DOT
    height = item.thickness * POINTS_PER_DOT
    canvas.rect(
        item.x * POINTS_PER_DOT,
        top - height,
        item.width * POINTS_PER_DOT,
        height,
        stroke=0,
        fill=1,
    )


def drawings_pdf(drawings: Iterable[Drawing], style: PdfStyle = DEFAULT_STYLE) -> bytes:
    """One PDF page per drawing, each page the label's own size."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, invariant=1)
    count = 0
    for drawing in drawings:
        page = (drawing.size.width * POINTS_PER_DOT, drawing.size.height * POINTS_PER_DOT)
        canvas.setPageSize(page)
        canvas.setFillColor(colors.black)
        for item in drawing.items:
            if isinstance(item, TextItem):
                _draw_text(canvas, item, page, style)
            elif isinstance(item, BarcodeItem):
                _draw_barcode(canvas, item, page[1])
            else:
                _draw_rule(canvas, item, page[1])
        canvas.showPage()
        count += 1
    if not count:
        raise LabelDataError("a PDF needs at least one label")
    canvas.save()
    return buffer.getvalue()


def labels_pdf(
    documents: Iterable[LabelDocument],
    registry: TemplateRegistry | None = None,
    style: PdfStyle = DEFAULT_STYLE,
) -> bytes:
    """The labels as PDF pages, laid out on the same templates as their ZPL."""
    return drawings_pdf((label_drawing(document, registry) for document in documents), style)


# --- packing list -----------------------------------------------------------------------------


def _paragraph(text: str, style: ParagraphStyle) -> Paragraph:
    # Paragraph reads XML markup: escape field data so "<font size=80>" stays text.
    return Paragraph(escape(text).replace("\n", "<br/>"), style)


def _styles(style: PdfStyle) -> dict[str, ParagraphStyle]:
    body = ParagraphStyle("body", fontName=style.font, fontSize=9, leading=11)
    return {
        "body": body,
        "bold": ParagraphStyle("bold", parent=body, fontName=style.bold_font),
        "title": ParagraphStyle(
            "title", parent=body, fontName=style.bold_font, fontSize=18, leading=22
        ),
        "head": ParagraphStyle(
            "head",
            parent=body,
            fontName=style.bold_font,
            fontSize=11,
            leading=14,
            spaceBefore=4 * mm,
            spaceAfter=2 * mm,
        ),
    }


def _line_barcode(sku: str) -> Flowable:
    try:
        return _code128(sku, 0.25 * mm, 8 * mm, quiet=True)
    except LabelDataError:
        # A SKU Code 128 cannot carry still prints as text; the line is not dropped.
        return Spacer(0, 0)


def packing_list_pdf(packing: PackingList, style: PdfStyle = DEFAULT_STYLE) -> bytes:
    """An A4 packing list: order barcode, addresses, lines with SKU barcodes, cartons' SSCCs."""
    styles = _styles(style)
    body, bold = styles["body"], styles["bold"]
    order_barcode = _code128(packing.order_number, 0.33 * mm, 12 * mm, quiet=True)
    facts = [f"Order {packing.order_number}"]
    if packing.purchase_order:
        facts.append(f"PO {packing.purchase_order}")
    if packing.packed_on:
        facts.append(f"Packed {packing.packed_on.isoformat()}")
    header = Table(
        [
            [_paragraph("PACKING LIST", styles["title"]), order_barcode],
            [_paragraph("   ".join(facts), bold), _paragraph(packing.order_number, body)],
        ],
        colWidths=[100 * mm, 80 * mm],
        style=TableStyle(
            [("VALIGN", (0, 0), (-1, -1), "TOP"), ("ALIGN", (1, 0), (1, -1), "CENTER")]
        ),
    )
    addresses = Table(
        [
            [_paragraph("Ship from", bold), _paragraph("Ship to", bold)],
            [
                _paragraph(
                    packing.ship_from.name + "\n" + packing.ship_from.block()
                    if packing.ship_from
                    else "",
                    body,
                ),
                _paragraph(packing.ship_to.name + "\n" + packing.ship_to.block(), body),
            ],
        ],
        colWidths=[90 * mm, 90 * mm],
        style=TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]),
    )
    rows: list[list[object]] = [
        [
            _paragraph(title, bold)
            for title in ("#", "SKU", "Description", "GTIN", "Lot", "Qty", "Carton")
        ]
    ]
    for number, line in enumerate(packing.lines, start=1):
        rows.append(
            [
                str(number),
                [_paragraph(line.sku, body), _line_barcode(line.sku)],
                _paragraph(line.description, body),
                _paragraph(line.gtin or "", body),
                _paragraph(line.lot, body),
                str(line.quantity),
                str(line.carton) if line.carton is not None else "",
            ]
        )
    grid = TableStyle(
        [
            ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("FONTNAME", (0, 0), (-1, -1), style.font),
            ("FONTSIZE", (0, 0), (-1, -1), 9),
            ("ALIGN", (5, 1), (6, -1), "RIGHT"),
        ]
    )
    lines = Table(
        rows,
        colWidths=[8 * mm, 50 * mm, 46 * mm, 30 * mm, 20 * mm, 12 * mm, 14 * mm],
        repeatRows=1,
        style=grid,
    )
    story: list[Flowable] = [header, Spacer(1, 4 * mm), addresses]
    story += [_paragraph("Lines", styles["head"]), lines]
    if packing.cartons:
        # Keep the heading with its table rather than alone at the foot of a page.
        cartons = _cartons_table(packing, styles, grid)
        story.append(KeepTogether([_paragraph("Cartons", styles["head"]), cartons]))
    if packing.notes:
        story += [_paragraph("Notes", styles["head"]), _paragraph(packing.notes, body)]
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
        title=f"Packing list {packing.order_number}",
        invariant=1,
    )

    def footer(canvas: Canvas, doc: SimpleDocTemplate) -> None:
        canvas.setFont(style.font, 8)
        canvas.drawRightString(A4[0] - 15 * mm, 8 * mm, f"{packing.order_number}  page {doc.page}")

    document.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()


def _cartons_table(
    packing: PackingList, styles: dict[str, ParagraphStyle], grid: TableStyle
) -> Table:
    body, bold = styles["body"], styles["bold"]
    rows: list[list[object]] = [
        [_paragraph(title, bold) for title in ("Carton", "SSCC", "Weight", "Tracking")]
    ]
    for carton in packing.cartons:
        if carton.sscc:
            code = sscc_codes.parse_sscc(carton.sscc)
            data = gs1_128.barcode_data([Gs1Element(sscc_codes.SSCC_AI, code)])
            sscc_cell: object = [
                _code128(data, PACKING_LIST_SSCC_X, 14 * mm, quiet=True),
                _paragraph(sscc_codes.hri(code), body),
            ]
        else:
            sscc_cell = ""
        weight = f"{carton.weight_kg:.2f} kg" if carton.weight_kg is not None else ""
        rows.append(
            [
                f"{carton.number} of {len(packing.cartons)}",
                sscc_cell,
                weight,
                _paragraph(carton.tracking_number, body),
            ]
        )
    return Table(rows, colWidths=[22 * mm, 100 * mm, 20 * mm, 38 * mm], repeatRows=1, style=grid)
