"""Hostile field data cannot inject ZPL: the printer gets exactly one field with the input in it."""

from __future__ import annotations

import re

import pytest

from labels.documents import Address, LogisticLabel, ShippingLabel
from labels.layout import TextItem
from labels.zpl import escape_field_data, label_drawing, label_zpl
from tests.labels.decoding import decode, gs1_hri, zpl_image, zplkit_parse
from tests.labels.samples import GTIN, SHIPPING, SSCC

# Printable ASCII only: zplkit's copy of font 0 has no glyphs beyond a few Latin-1 letters.
HOSTILE_NAMES = [
    "^XZ^XA^FO0,0^GB9,9,9^FS",
    "~JA~HS~JR~PS",
    "_5E_7E_ and _",
    "^FH\\^FDx^FS",
    "${order_number}<b>&amp;",
    "Bob'); DROP TABLE x;--",
    ">;>8>0<><= ^CC~ ~CT^",
    "^^^^~~~~____",
]


def commands(zpl: str) -> list[bytes]:
    """The command names of a ZPL stream as zplkit's own parser frames it."""
    parsed = zplkit_parse.parse(zpl.encode("utf-8"))
    return [bytes(element)[:3] for element in parsed.elements]


def unhex(field: str) -> str:
    """Undo ^FH: every ``_XX`` is one byte (written independently of labels.zpl)."""
    raw = re.sub(rb"_([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), field.encode())
    return raw.decode("utf-8")


def all_hex(text: str) -> str:
    """The most literal ^FH form: every byte as ``_XX``."""
    return "".join(f"_{byte:02X}" for byte in text.encode("utf-8"))


def parcel_to(name: str) -> ShippingLabel:
    return ShippingLabel(
        order_number=SHIPPING.order_number,
        ship_to=Address(name, SHIPPING.ship_to.lines, "SW1A1AA", "London"),
        carrier="UPS",
        package_count=1,
    )


def shipping_to(name: str) -> str:
    return label_zpl(parcel_to(name))


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_name_adds_no_command(name: str) -> None:
    assert commands(shipping_to(name)) == commands(shipping_to("Jane Doe"))


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_name_field_holds_exactly_the_name(name: str) -> None:
    zpl = shipping_to(name)
    fields = [
        bytes(e).decode()[3:]
        for e in zplkit_parse.parse(zpl.encode()).elements
        if bytes(e).startswith(b"^FD")
    ]
    assert name in [unhex(field) for field in fields]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_name_prints_the_same_pixels_as_the_literal_name(name: str) -> None:
    zpl = shipping_to(name)
    ours = f"^FD{escape_field_data(name)}^FS"
    assert zpl.count(ours) == 1
    reference = zpl.replace(ours, f"^FD{all_hex(name)}^FS")
    assert zpl_image(zpl).tobytes() == zpl_image(reference).tobytes()


def test_control_characters_become_spaces_not_commands() -> None:
    name = "Line\rBreak\tTab\x00Nul\x03Etx\x1dGs"
    zpl = shipping_to(name)
    assert commands(zpl) == commands(shipping_to("Jane Doe"))
    assert "^FDLine Break Tab Nul Etx Gs^FS" in zpl
    zpl_image(zpl)


def test_long_hostile_name_is_cut_before_escaping() -> None:
    name = "^FS~JA_" * 40
    zpl = shipping_to(name)
    assert commands(zpl) == commands(shipping_to("Jane Doe"))
    fields = [unhex(bytes(e).decode()[3:]) for e in zplkit_parse.parse(zpl.encode()).elements]
    cut = [field for field in fields if field.startswith("^FS~JA_")]
    assert len(cut) == 1 and name.startswith(cut[0]) and len(cut[0]) < len(name)
    # The cut text stays inside the label: no ink in the right-hand margin of its line.
    image = zpl_image(zpl)
    line = next(
        i
        for i in label_drawing(parcel_to(name)).items
        if isinstance(i, TextItem) and i.text == cut[0]
    )
    box = (image.width - 20, line.y, image.width, line.y + line.height)
    assert image.crop(box).getextrema() == (255, 255)


@pytest.mark.parametrize(
    "order_number", ["^XZ~JA", "A>0B><C>=D", "_5E_7E", ">;>8123", "~HS^XA", "a b\\c"]
)
def test_hostile_barcode_data_decodes_to_itself(order_number: str) -> None:
    zpl = label_zpl(
        ShippingLabel(
            order_number=order_number, ship_to=Address("Jane"), carrier="UPS", package_count=1
        )
    )
    assert commands(zpl) == commands(
        label_zpl(
            ShippingLabel(
                order_number="SAFE-1", ship_to=Address("Jane"), carrier="UPS", package_count=1
            )
        )
    )
    assert {b.text for b in decode(zpl_image(zpl))} == {order_number}


def test_hostile_lot_decodes_to_itself_in_gs1() -> None:
    lot = "A_>B<;8%"
    zpl = label_zpl(LogisticLabel(sscc=SSCC, content_gtin=GTIN, count=5, lot=lot))
    hris = {gs1_hri(b) for b in decode(zpl_image(zpl))}
    assert f"(10){lot}" in {h[h.index("(10)") :] for h in hris if "(10)" in h}
