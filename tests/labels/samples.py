"""Sample label documents of every kind, with the barcodes each must carry."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from labels.documents import (
    Address,
    ItemLabel,
    LabelDocument,
    LocationLabel,
    LogisticLabel,
    ShippingLabel,
    ToteLabel,
)
from labels.sscc import SsccScheme

SCHEME = SsccScheme(company_prefix="0614141", extension_digit=0)
SSCC = SCHEME.sscc(123456789)  # 006141411234567890, GS1's own example
GTIN = "09506000134352"

DC = Address("ACME DC 1", ("1 Warehouse Rd",), "12345", "Springfield", "US")
STORE = Address("CUSTOMER STORE 42", ("99 Market St",), "12345", "Shelbyville", "US")

SHIPPING = ShippingLabel(
    order_number="ORD-12345",
    ship_to=Address("Jane Doe", ("Flat 2", "10 High Street"), "SW1A1AA", "London", "GB"),
    ship_from=DC,
    carrier="UPS",
    service="GROUND",
    tracking_number="1Z999AA10123456784",
    package_number=1,
    package_count=3,
    weight_kg=Decimal("7.5"),
)
LOGISTIC_CASE = LogisticLabel(
    sscc=SSCC,
    content_gtin=GTIN,
    count=12,
    lot="LOT42",
    best_before=date(2026, 12, 31),
    order_number="ORD-12345",
    purchase_order="PO-778",
    ship_from=DC,
    ship_to=STORE,
    company_prefix_length=7,
)
LOGISTIC_PALLET = LogisticLabel(sscc=SCHEME.sscc(2), ship_to=STORE, order_number="ORD-9")
LOGISTIC_TRADE_UNIT = LogisticLabel(
    sscc=SCHEME.sscc(3), unit_gtin="10614141000415", lot="B7-22/A", expiry=date(2027, 2, 28)
)
LOCATION = LocationLabel("A01-012-L", zone="A", check_digits="42")
TOTE = ToteLabel("T-000123")
ITEM = ItemLabel("SKU-1", "Blue widget, large", GTIN, "LOT9", date(2027, 1, 31))

# (document, plain Code 128 texts, GS1 barcodes as biip HRI)
CASES: list[tuple[str, LabelDocument, set[str], set[str]]] = [
    (
        "shipping",
        SHIPPING,
        {"1Z999AA10123456784", "ORD-12345"},
        {"(420)SW1A1AA"},
    ),
    (
        "logistic-case",
        LOGISTIC_CASE,
        set(),
        {
            "(02)09506000134352(37)12",
            "(15)261231(10)LOT42",
            "(00)006141411234567890",
        },
    ),
    ("logistic-pallet", LOGISTIC_PALLET, set(), {f"(00){SCHEME.sscc(2)}"}),
    (
        "logistic-trade-unit",
        LOGISTIC_TRADE_UNIT,
        set(),
        {"(01)10614141000415", "(17)270228(10)B7-22/A", f"(00){SCHEME.sscc(3)}"},
    ),
    ("location", LOCATION, {"A01-012-L"}, set()),
    ("tote", TOTE, {"T-000123"}, set()),
    ("item", ITEM, {"SKU-1"}, {"(01)09506000134352(17)270131(10)LOT9"}),
]
