"""Template registry, per-customer templates from data, and the errors bad data gets."""

from __future__ import annotations

from datetime import date

import pytest

from labels.documents import Address, ItemLabel, LogisticLabel, ShippingLabel
from labels.errors import LabelDataError, TemplateError
from labels.templates import (
    BUILT_IN,
    LabelKind,
    Template,
    TemplateRegistry,
    TextBlock,
    layout,
    template_from_dict,
)
from labels.zpl import label_zpl, template_zpl
from tests.labels.decoding import decode, gs1_hri, zpl_image
from tests.labels.samples import GTIN, LOGISTIC_CASE, SCHEME, SSCC

BIGBOX = {
    "name": "bigbox-case",
    "kind": "logistic",
    "customer": "BigBox",
    "size": "4x6",
    "description": "BigBox wants store and PO large, PO as a barcode, SSCC at the bottom",
    "required": ["sscc", "purchase_order", "store_number"],
    "blocks": [
        {"type": "text", "text": "BIGBOX STORE ${store_number}", "size": "xlarge"},
        {"type": "text", "parts": ["DEPT ${department}", "PO ${purchase_order}"], "size": "large"},
        {"type": "rule", "thickness": 6},
        {"type": "barcode", "field": "purchase_order", "height": 120},
        {"type": "space", "height": 40},
        {"type": "gs1_128", "elements": {"02": "content_gtin", "37": "count"}, "optional": True},
        {"type": "gs1_128", "elements": [["00", "sscc"]], "height": 240, "module": 4},
    ],
}


def bigbox_registry() -> TemplateRegistry:
    registry = TemplateRegistry()
    registry.register(template_from_dict(BIGBOX))
    return registry


def test_customer_template_decides_the_content() -> None:
    case = LogisticLabel(
        sscc=SSCC,
        content_gtin=GTIN,
        count=12,
        purchase_order="4500012345",
        customer="bigbox",  # customer codes match regardless of case
        extra={"store_number": "0042", "department": "17"},
    )
    zpl = label_zpl(case, bigbox_registry())
    assert "^FDBIGBOX STORE 0042^FS" in zpl
    assert "^FDDEPT 17   PO 4500012345^FS" in zpl
    found = decode(zpl_image(zpl))
    assert {b.text for b in found if b.symbology == "]C0"} == {"4500012345"}
    assert {gs1_hri(b) for b in found if b.symbology == "]C1"} == {
        "(02)09506000134352(37)12",
        "(00)006141411234567890",
    }


def test_other_customers_keep_the_default_template() -> None:
    registry = bigbox_registry()
    assert registry.for_label(LabelKind.LOGISTIC, "OtherCo").name == "gs1-logistic-4x6"
    assert registry.for_label(LabelKind.LOGISTIC, None).name == "gs1-logistic-4x6"
    assert registry.for_label(LabelKind.LOGISTIC, "BIGBOX").name == "bigbox-case"
    assert registry.for_label(LabelKind.SHIPPING, "BigBox").name == "shipping-4x6"
    assert "bigbox-case" in registry.names()


def test_customer_template_still_needs_its_fields() -> None:
    case = LogisticLabel(sscc=SSCC, purchase_order="45", customer="BigBox")
    with pytest.raises(LabelDataError, match="store_number"):
        label_zpl(case, bigbox_registry())


def test_registry_refuses_duplicates_and_unknown_names() -> None:
    registry = bigbox_registry()
    with pytest.raises(TemplateError, match="already registered"):
        registry.register(BUILT_IN[0])
    with pytest.raises(TemplateError, match="already has"):
        registry.register(template_from_dict({**BIGBOX, "name": "bigbox-2"}))
    with pytest.raises(TemplateError, match="no template"):
        registry.get("nope")
    with pytest.raises(TemplateError, match="no shipping template"):
        TemplateRegistry([]).for_label(LabelKind.SHIPPING)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"colour": "red"}, "unknown keys"),
        ({"name": ""}, "needs a name"),
        ({"kind": "pallet"}, "kind must be"),
        ({"size": "big"}, "size"),
        ({"blocks": []}, "non-empty list"),
        ({"blocks": ["text"]}, "not a mapping"),
        ({"blocks": [{"type": "qr", "field": "x"}]}, "block type"),
        ({"blocks": [{"type": "text", "text": "x", "font": "B"}]}, "unknown keys"),
        ({"blocks": [{"type": "text", "text": "x", "size": "tiny"}]}, "text size"),
        ({"blocks": [{"type": "text", "text": "${"}]}, "bad placeholder"),
        ({"blocks": [{"type": "text"}]}, "either text or parts"),
        ({"blocks": [{"type": "barcode"}]}, "barcode block"),
        ({"blocks": [{"type": "barcode", "field": "x", "module": 20}]}, "module"),
        ({"blocks": [{"type": "gs1_128", "elements": {"999": "x"}}]}, "application identifier"),
        ({"blocks": [{"type": "gs1_128", "elements": "00"}]}, "map AIs"),
        ({"blocks": [{"type": "gs1_128", "elements": [["00"]]}]}, "pair"),
        ({"blocks": [{"type": "gs1_128", "elements": {}}]}, "needs elements"),
    ],
)
def test_bad_template_data_is_refused_with_a_reason(
    change: dict[str, object], message: str
) -> None:
    with pytest.raises(TemplateError, match=message):
        template_from_dict({**BIGBOX, **change})


def test_content_taller_than_the_label_is_refused() -> None:
    tall = Template("tall", LabelKind.TOTE, tuple(TextBlock("LINE", "huge") for _ in range(12)))
    with pytest.raises(TemplateError, match="dots tall"):
        layout(tall, {})


def test_barcode_too_long_for_the_label_is_refused() -> None:
    parcel = ShippingLabel(
        order_number="ORD-1",
        ship_to=Address("Jane"),
        carrier="UPS",
        tracking_number="X" * 60,
    )
    with pytest.raises(LabelDataError, match="too long"):
        label_zpl(parcel)


def test_long_lot_falls_back_to_a_narrower_module() -> None:
    case = LogisticLabel(sscc=SSCC, content_gtin=GTIN, count=1, lot="ABCDEFGHIJ0123456789")
    zpl = label_zpl(case)
    assert "^BY3^BC" in zpl
    hris = {gs1_hri(b) for b in decode(zpl_image(zpl))}
    assert "(10)ABCDEFGHIJ0123456789" in hris


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"content_gtin": "09506000134353", "count": 1}, "check digit"),
        ({"content_gtin": GTIN}, "needs a count"),
        ({"count": 5}, "content GTIN"),
        ({"content_gtin": GTIN, "count": 1, "unit_gtin": GTIN}, "either"),
        ({"lot": "L1"}, "describe a GTIN"),
        ({"content_gtin": GTIN, "count": 0}, "needs a count"),
        ({"content_gtin": GTIN, "count": 123456789}, "outside"),
        ({"content_gtin": GTIN, "count": 1, "lot": "LOT^1"}, r"\(10\)"),
        ({"content_gtin": GTIN, "count": 1, "lot": "L" * 21}, r"\(10\)"),
    ],
)
def test_bad_logistic_data_is_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(LabelDataError, match=message):
        label_zpl(LogisticLabel(sscc=SSCC, **kwargs))  # type: ignore[arg-type]


def test_bad_sscc_is_refused() -> None:
    with pytest.raises(LabelDataError, match="SSCC"):
        label_zpl(LogisticLabel(sscc="006141411234567891"))


def test_gs1_pairing_is_checked_across_the_label() -> None:
    from labels.templates import Gs1BarcodeBlock

    lonely = Template("lonely", LabelKind.ITEM, (Gs1BarcodeBlock((("10", "lot"),)),))
    with pytest.raises(LabelDataError, match=r"\(10\) needs"):
        layout(lonely, {"lot": "L1"})
    both = Template(
        "both",
        LabelKind.ITEM,
        (Gs1BarcodeBlock((("01", "a"),)), Gs1BarcodeBlock((("02", "b"), ("37", "n")))),
    )
    with pytest.raises(LabelDataError, match="exclude"):
        layout(both, {"a": GTIN, "b": GTIN, "n": "1"})


def test_item_without_gtin_keeps_lot_as_text_only() -> None:
    item = ItemLabel("SKU-9", lot="L7", expiry=date(2027, 5, 31))
    zpl = label_zpl(item)
    assert "^FDLOT L7   EXP 2027-05-31^FS" in zpl
    assert {b.text for b in decode(zpl_image(zpl))} == {"SKU-9"}


def test_template_zpl_from_plain_fields() -> None:
    zpl = template_zpl(BUILT_IN[3], {"tote_id": "T-9"})
    assert {b.text for b in decode(zpl_image(zpl))} == {"T-9"}


def test_sscc_text_is_grouped_when_the_prefix_length_is_known() -> None:
    assert "^FDSSCC 0 0614141 123456789 0^FS" in label_zpl(LOGISTIC_CASE)
    plain = LogisticLabel(sscc=SCHEME.sscc(5))
    assert f"^FDSSCC {SCHEME.sscc(5)}^FS" in label_zpl(plain)
