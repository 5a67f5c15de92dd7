"""PDF labels and packing lists via pdftoppm and zxing-cpp; screen SVGs rasterised and decoded."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import date
from decimal import Decimal

import pytest
from PIL import Image, ImageDraw

from labels.documents import Address, Carton, LabelDocument, PackingList, PackingListLine
from labels.errors import LabelDataError
from labels.gs1_128 import Gs1Element
from labels.pdf import drawings_pdf, labels_pdf, packing_list_pdf
from labels.svg import code128_svg, gs1_128_svg, sscc_svg
from tests.labels.decoding import Decoded, decode, gs1_hri, pdf_pages, pdf_text
from tests.labels.samples import CASES, DC, GTIN, SCHEME, SSCC, STORE
from tests.labels.test_zpl import check_barcodes


def test_every_label_as_pdf_decodes_like_its_zpl() -> None:
    pdf = labels_pdf([document for _, document, _, _ in CASES])
    pages = pdf_pages(pdf, dpi=203)
    assert len(pages) == len(CASES)
    for page, (name, document, plain, gs1) in zip(pages, CASES, strict=True):
        # A 4x6 label at 203 dpi is 812 x 1218 pixels, as on the printer.
        expected = (812, 1218) if document.kind.value in ("shipping", "logistic") else (812, 406)
        assert page.size == expected, name
        check_barcodes(decode(page), plain, gs1)


def test_pdf_label_text_is_the_field_data() -> None:
    hostile: LabelDocument = CASES[0][1].__class__(  # a ShippingLabel with a hostile name
        order_number="ORD-1",
        ship_to=Address("<b>Bob</b> & ^XZ~JA_", ("1 Road",)),
        carrier="UPS",
    )
    text = pdf_text(labels_pdf([hostile]))
    assert "<b>Bob</b> & ^XZ~JA_" in text


def test_empty_pdf_is_refused() -> None:
    with pytest.raises(LabelDataError):
        drawings_pdf([])


def packing_list(lines: int = 14) -> PackingList:
    return PackingList(
        order_number="ORD-12345",
        ship_to=STORE,
        ship_from=DC,
        purchase_order="PO-778",
        packed_on=date(2025, 11, 22),
        lines=tuple(
            PackingListLine(
                sku=f"SKU-{i:04d}",
                description=f"Widget <b>&amp; number {i}",
                quantity=i + 1,
                gtin=GTIN if i % 2 else None,
                lot="LOT42" if i % 3 == 0 else "",
                carton=1 + i % 2,
            )
            for i in range(lines)
        ),
        cartons=(
            Carton(1, SSCC, Decimal("7.5"), "1Z999AA10123456784"),
            Carton(2, SCHEME.sscc(2), Decimal("3.25")),
        ),
        notes='Fragile <font size="40">X</font>',
    )


def test_packing_list_barcodes_decode() -> None:
    packing = packing_list()
    found: list[Decoded] = []
    for page in pdf_pages(packing_list_pdf(packing), dpi=300):
        assert abs(page.width - 2480) <= 1 and abs(page.height - 3508) <= 1  # A4 at 300 dpi
        found += decode(page)
    plain = sorted(b.text for b in found if b.symbology == "]C0")
    assert plain == sorted(["ORD-12345", *(line.sku for line in packing.lines)])
    assert sorted(gs1_hri(b) for b in found if b.symbology == "]C1") == sorted(
        [f"(00){SSCC}", f"(00){SCHEME.sscc(2)}"]
    )


def test_packing_list_prints_field_data_as_text_not_markup() -> None:
    text = pdf_text(packing_list_pdf(packing_list(3)))
    assert "Widget <b>&amp; number 2" in text
    assert 'Fragile <font size="40">X</font>' in text
    assert "(00) 006141411234567890" in text


def test_packing_list_keeps_a_line_whose_sku_cannot_be_barcoded() -> None:
    packing = PackingList("ORD-1", Address("X"), (PackingListLine("SKÜ-1", "umlaut", 1),))
    text = pdf_text(packing_list_pdf(packing))
    assert "umlaut" in text
    (page,) = pdf_pages(packing_list_pdf(packing), dpi=200)
    assert [b.text for b in decode(page)] == ["ORD-1"]


def svg_image(svg: str, pixels_per_mm: int = 12) -> Image.Image:
    """Rasterise python-barcode's SVG: its bars are <rect>s in mm (text is ignored)."""
    root = ET.fromstring(svg)

    def mm(value: str) -> float:
        return float(value.removesuffix("mm"))

    width, height = mm(root.attrib["width"]), mm(root.attrib["height"])
    image = Image.new("L", (round(width * pixels_per_mm), round(height * pixels_per_mm)), 255)
    draw = ImageDraw.Draw(image)
    for rect in root.iter("{http://www.w3.org/2000/svg}rect"):
        if "x" not in rect.attrib:
            continue  # the white background
        x, y = mm(rect.attrib["x"]) * pixels_per_mm, mm(rect.attrib["y"]) * pixels_per_mm
        w, h = mm(rect.attrib["width"]) * pixels_per_mm, mm(rect.attrib["height"]) * pixels_per_mm
        draw.rectangle((round(x), round(y), round(x + w) - 1, round(y + h) - 1), fill=0)
    return image


def svg_text(svg: str) -> list[str]:
    root = ET.fromstring(svg)
    return [t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text")]


@pytest.mark.parametrize(
    "data", ["ORD-12345", "A01-012-L", "1234567890", "<b>&amp;</b>", "^XZ~JA_>0", "a b c"]
)
def test_code128_svg_decodes(data: str) -> None:
    svg = code128_svg(data)
    assert svg.startswith("<svg")
    assert decode(svg_image(svg)) == [Decoded("]C0", data)]
    assert svg_text(svg) == [data]


@pytest.mark.parametrize(
    ("elements", "hri"),
    [
        ([Gs1Element("00", SSCC)], f"(00){SSCC}"),
        (
            [Gs1Element("01", GTIN), Gs1Element("10", "LOT42"), Gs1Element("21", "SER1")],
            f"(01){GTIN}(10)LOT42(21)SER1",
        ),
        ([Gs1Element("10", "ABC"), Gs1Element("01", GTIN)], f"(10)ABC(01){GTIN}"),
    ],
)
def test_gs1_128_svg_decodes_with_fnc1(elements: list[Gs1Element], hri: str) -> None:
    svg = gs1_128_svg(elements)
    (found,) = decode(svg_image(svg))
    assert gs1_hri(found) == hri
    assert svg_text(svg) == [" ".join(f"({e.ai}) {e.value}" for e in elements)]


def test_sscc_svg_uses_the_gs1_x_dimension() -> None:
    svg = sscc_svg("(00) 006141411234567890")
    widths = {float(w) for w in re.findall(r'width="([0-9.]+)mm" height="25', svg)}
    assert min(widths) == pytest.approx(0.495)
    (found,) = decode(svg_image(svg))
    assert gs1_hri(found) == f"(00){SSCC}"


def test_svg_refuses_what_it_cannot_encode() -> None:
    with pytest.raises(LabelDataError):
        code128_svg("ORDÉ")
    with pytest.raises(LabelDataError):
        code128_svg("A\xf1B")
    with pytest.raises(LabelDataError):
        gs1_128_svg([Gs1Element("00", "006141411234567891")])
