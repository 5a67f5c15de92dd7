"""ZPL labels rendered by zplkit (an independent renderer) and decoded by zxing-cpp and biip."""

from __future__ import annotations

import pytest

from labels.code128 import FNC1, plan_code128
from labels.documents import Address, LabelDocument, ShippingLabel
from labels.layout import BarcodeItem, Drawing, TextItem
from labels.zpl import (
    code128_field_data,
    drawing_to_zpl,
    escape_field_data,
    job_bytes,
    label_drawing,
    label_zpl,
)
from tests.labels.decoding import Decoded, decode, gs1_hri, zpl_image, zplkit
from tests.labels.samples import CASES, SHIPPING

PROFILES = ["specification", "zd621"]


def check_barcodes(image_barcodes: list[Decoded], plain: set[str], gs1: set[str]) -> None:
    """The image holds exactly the expected barcodes, GS1 ones with valid check digits."""
    found_plain = {b.text for b in image_barcodes if b.symbology == "]C0"}
    found_gs1 = {gs1_hri(b) for b in image_barcodes if b.symbology == "]C1"}
    assert found_plain == plain
    assert found_gs1 == gs1
    assert len(image_barcodes) == len(plain) + len(gs1)


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize(("name", "document", "plain", "gs1"), CASES, ids=[c[0] for c in CASES])
def test_every_template_renders_and_every_barcode_decodes(
    name: str, document: LabelDocument, plain: set[str], gs1: set[str], profile: str
) -> None:
    zpl = label_zpl(document)
    check_barcodes(decode(zpl_image(zpl, profile)), plain, gs1)


@pytest.mark.parametrize(("name", "document", "plain", "gs1"), CASES, ids=[c[0] for c in CASES])
def test_printed_hri_matches_the_barcode(
    name: str, document: LabelDocument, plain: set[str], gs1: set[str]
) -> None:
    drawing = label_drawing(document)
    texts = {item.text for item in drawing.items if isinstance(item, TextItem)}
    for barcode in (item for item in drawing.items if isinstance(item, BarcodeItem)):
        if barcode.gs1:
            # The printed line is "(02) 0950... (37) 12"; the decoded HRI has no spaces.
            printed = [t for t in texts if t.replace(" ", "") == barcode_hri(barcode)]
            assert printed, barcode_hri(barcode)


def barcode_hri(item: BarcodeItem) -> str:
    return gs1_hri(Decoded("]C1", item.data.lstrip(FNC1).replace(FNC1, "\x1d")))


def test_format_is_one_label_of_the_template_size() -> None:
    zpl = label_zpl(SHIPPING)
    assert zpl.startswith("^XA\n^CI28\n^PW812\n^LL1218\n")
    assert zpl.rstrip().endswith("^XZ")
    document = zplkit.render(zpl.encode(), zplkit.Options(profile="specification", dpi=203))
    assert (document.labels[0].width, document.labels[0].height) == (812, 1218)
    assert job_bytes([zpl, zpl]).count(b"^XA") == 2


@pytest.mark.parametrize(
    "data",
    [
        "A",
        "12",
        "123",
        "12345",
        "A1234B",
        "ABC1234567",
        "AB12345678901",
        "99999999999999999999",
        "lower case and spaces",
        ">>0<<>;>8",
        "^XZ~JA_5E_",
        "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~",
    ],
)
def test_code128_plans_decode_to_their_data(data: str) -> None:
    plan = plan_code128(data)
    assert plan.text == data
    zpl = f"^XA^PW812^LL300^FO40,40^BY2^BCN,150,N,N,N^FD{code128_field_data(plan)}^FS^XZ"
    for profile in PROFILES:
        assert decode(zpl_image(zpl, profile)) == [_plain(data)]


@pytest.mark.parametrize(
    ("data", "hri"),
    [
        (f"{FNC1}00006141411234567890", "(00)006141411234567890"),
        (f"{FNC1}0109506000134352{FNC1}10A", "(01)09506000134352(10)A"),
        (f"{FNC1}10ABC{FNC1}21123", "(10)ABC(21)123"),
        (f"{FNC1}3712345{FNC1}0209506000134352", "(37)12345(02)09506000134352"),
    ],
)
def test_gs1_plans_decode_with_fnc1_where_needed(data: str, hri: str) -> None:
    zpl = (
        "^XA^PW812^LL300^FO40,40^BY2^BCN,150,N,N,N"
        f"^FD{code128_field_data(plan_code128(data))}^FS^XZ"
    )
    for profile in PROFILES:
        (found,) = decode(zpl_image(zpl, profile))
        assert found.text == data[1:].replace(FNC1, "\x1d")
        assert gs1_hri(found) == hri


def _plain(text: str) -> Decoded:
    return Decoded("]C0", text)


def test_subset_c_is_used_for_digit_runs() -> None:
    # 20 digits in subset C: start, 10 pairs; in B it would take 21 symbols.
    assert len(plan_code128("0" * 20).symbols) == 11
    assert plan_code128("0" * 20).modules == 11 * 12 + 13


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("plain text", "plain text"),
        ("^XZ", "_5EXZ"),
        ("~JA", "_7EJA"),
        ("a_b", "a_5Fb"),
        ("_5E", "_5F5E"),
        ("tab\there", "tab_09here"),
        ("\x00\x7f\x85", "_00_7F_C2_85"),
        ("Müller", "Müller"),
    ],
)
def test_field_escaping(text: str, escaped: str) -> None:
    assert escape_field_data(text) == escaped


def test_drawing_with_no_items_is_still_a_valid_label() -> None:
    from labels.layout import LABEL_4X2

    zpl = drawing_to_zpl(Drawing(LABEL_4X2, ()))
    assert decode(zpl_image(zpl)) == []
    assert job_bytes([zpl], copies=3).count(b"^XZ") == 3


def test_non_ascii_barcode_data_is_refused() -> None:
    from labels.errors import LabelDataError

    document = ShippingLabel(
        order_number="ORDÉ-1", ship_to=Address("X"), carrier="UPS", package_count=1
    )
    with pytest.raises(LabelDataError, match="Code 128"):
        label_zpl(document)
