"""Typed label contents: what the app knows about a parcel, case, location, tote or item.

Each turns into the flat field mapping templates read (``fields()``); ``extra`` carries the
fields a customer's own template asks for (store number, department, ...).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from labels import sscc as sscc_codes
from labels.errors import LabelDataError
from labels.gs1 import is_valid_gtin, normalise_gtin
from labels.templates import LabelKind

_CSET82 = set("!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz")


@dataclass(frozen=True)
class Address:
    """A postal address as printed: name, street lines, postal code, city, country."""

    name: str
    lines: tuple[str, ...] = ()
    postal_code: str = ""
    city: str = ""
    country: str = ""

    def block(self) -> str:
        """The address below the name, one line per ``\\n``."""
        town = " ".join(part for part in (self.postal_code, self.city) if part)
        return "\n".join(part for part in (*self.lines, town, self.country) if part)

    def one_line(self) -> str:
        """Name and address on one line, for a compact ``FROM``."""
        return ", ".join(part for part in (self.name, *self.block().splitlines()) if part)


def _gs1_date(value: date | None) -> str:
    return value.strftime("%y%m%d") if value else ""


def _gtin(value: str | None, what: str) -> str:
    if not value:
        return ""
    if not is_valid_gtin(value):
        raise LabelDataError(f"{what} {value!r} is not a GTIN with a valid check digit")
    return normalise_gtin(value)


def _postal_code_for_ai420(postal_code: str) -> str:
    # (420) takes GS1's character set 82 without spaces; leave the barcode off otherwise.
    compact = postal_code.replace(" ", "")
    if compact and len(compact) <= 20 and set(compact) <= _CSET82:
        return compact
    return ""


@dataclass(frozen=True)
class ShippingLabel:
    """A parcel's 4x6 label: addresses, carrier and service, tracking number, package x of y."""

    order_number: str
    ship_to: Address
    carrier: str
    package_number: int = 1
    package_count: int = 1
    service: str = ""
    tracking_number: str = ""
    ship_from: Address | None = None
    weight_kg: Decimal | None = None
    customer: str | None = None
    postal_barcode: bool = True
    extra: Mapping[str, str] = field(default_factory=dict)

    kind = LabelKind.SHIPPING

    def fields(self) -> dict[str, str]:
        """The template fields of this label."""
        if not 1 <= self.package_number <= self.package_count:
            raise LabelDataError(f"package {self.package_number} of {self.package_count}")
        postal = _postal_code_for_ai420(self.ship_to.postal_code) if self.postal_barcode else ""
        return {
            **self.extra,
            "order_number": self.order_number,
            "ship_to_name": self.ship_to.name,
            "ship_to_address": self.ship_to.block(),
            "ship_to_postal_code": postal,
            "ship_from": self.ship_from.one_line() if self.ship_from else "",
            "carrier": self.carrier,
            "service": self.service,
            "tracking_number": self.tracking_number,
            "package_number": str(self.package_number),
            "package_count": str(self.package_count),
            "weight": f"{self.weight_kg:.2f} KG" if self.weight_kg is not None else "",
        }


@dataclass(frozen=True)
class LogisticLabel:
    """The GS1 logistic label of a case or pallet: SSCC plus content, count, lot and dates.

    Use ``content_gtin`` with ``count`` for a logistic unit holding trade items (AI 02 + 37),
    or ``unit_gtin`` when the unit is itself a trade item such as a standard case (AI 01).
    """

    sscc: str
    content_gtin: str | None = None
    count: int | None = None
    unit_gtin: str | None = None
    lot: str = ""
    best_before: date | None = None
    expiry: date | None = None
    order_number: str = ""
    purchase_order: str = ""
    ship_from: Address | None = None
    ship_to: Address | None = None
    company_prefix_length: int | None = None
    customer: str | None = None
    extra: Mapping[str, str] = field(default_factory=dict)

    kind = LabelKind.LOGISTIC

    def fields(self) -> dict[str, str]:
        """The template fields of this label."""
        sscc = sscc_codes.parse_sscc(self.sscc)
        if self.content_gtin and self.unit_gtin:
            raise LabelDataError("a logistic unit has either content (02) or its own GTIN (01)")
        if self.content_gtin and not self.count:
            raise LabelDataError("AI (02) content needs a count (37)")
        if (self.lot or self.best_before or self.expiry) and not (
            self.content_gtin or self.unit_gtin
        ):
            raise LabelDataError("lot and dates describe a GTIN: give content_gtin or unit_gtin")
        if self.count is not None and not self.content_gtin:
            raise LabelDataError("a count (37) needs the content GTIN (02)")
        if self.count is not None and not 1 <= self.count <= 99_999_999:
            raise LabelDataError(f"count {self.count} is outside 1..99999999")
        if self.company_prefix_length:
            cut = 1 + self.company_prefix_length
            sscc_text = f"{sscc[0]} {sscc[1:cut]} {sscc[cut:17]} {sscc[17]}"
        else:
            sscc_text = sscc
        return {
            **self.extra,
            "sscc": sscc,
            "sscc_text": sscc_text,
            "content_gtin": _gtin(self.content_gtin, "content GTIN"),
            "unit_gtin": _gtin(self.unit_gtin, "GTIN"),
            "count": str(self.count) if self.count else "",
            "lot": self.lot,
            "best_before": _gs1_date(self.best_before),
            "best_before_text": self.best_before.isoformat() if self.best_before else "",
            "expiry": _gs1_date(self.expiry),
            "expiry_text": self.expiry.isoformat() if self.expiry else "",
            "order_number": self.order_number,
            "purchase_order": self.purchase_order,
            "ship_from": self.ship_from.one_line() if self.ship_from else "",
            "ship_to_name": self.ship_to.name if self.ship_to else "",
            "ship_to_address": self.ship_to.block() if self.ship_to else "",
        }


@dataclass(frozen=True)
class LocationLabel:
    """A storage location's label: its code, zone and spoken check digits."""

    location_code: str
    zone: str = ""
    check_digits: str = ""
    customer: str | None = None
    extra: Mapping[str, str] = field(default_factory=dict)

    kind = LabelKind.LOCATION

    def fields(self) -> dict[str, str]:
        """The template fields of this label."""
        return {
            **self.extra,
            "location_code": self.location_code,
            "zone": self.zone,
            "check_digits": self.check_digits,
        }


@dataclass(frozen=True)
class ToteLabel:
    """A tote's label: its id as text and barcode."""

    tote_id: str
    customer: str | None = None
    extra: Mapping[str, str] = field(default_factory=dict)

    kind = LabelKind.TOTE

    def fields(self) -> dict[str, str]:
        """The template fields of this label."""
        return {**self.extra, "tote_id": self.tote_id}


@dataclass(frozen=True)
class ItemLabel:
    """An item's label: SKU, description, GTIN with lot and expiry where tracked."""

    sku: str
    description: str = ""
    gtin: str | None = None
    lot: str = ""
    expiry: date | None = None
    customer: str | None = None
    extra: Mapping[str, str] = field(default_factory=dict)

    kind = LabelKind.ITEM

    def fields(self) -> dict[str, str]:
        """The template fields of this label."""
        gtin = _gtin(self.gtin, "GTIN")
        return {
            **self.extra,
            "sku": self.sku,
            "description": self.description,
            "gtin": gtin,
            "lot_text": self.lot,
            "expiry_text": self.expiry.isoformat() if self.expiry else "",
            # Lot and expiry go into the GS1 barcode only next to the GTIN they describe.
            "lot": self.lot if gtin else "",
            "expiry": _gs1_date(self.expiry) if gtin else "",
        }


LabelDocument = ShippingLabel | LogisticLabel | LocationLabel | ToteLabel | ItemLabel


@dataclass(frozen=True)
class PackingListLine:
    """One order line as packed: what, how many, which lot and which carton."""

    sku: str
    description: str
    quantity: int
    gtin: str | None = None
    lot: str = ""
    carton: int | None = None


@dataclass(frozen=True)
class Carton:
    """One packed carton (or pallet): its number in the order, SSCC, weight and tracking."""

    number: int
    sscc: str | None = None
    weight_kg: Decimal | None = None
    tracking_number: str = ""


@dataclass(frozen=True)
class PackingList:
    """The A4 packing list that travels with an order."""

    order_number: str
    ship_to: Address
    lines: tuple[PackingListLine, ...]
    cartons: tuple[Carton, ...] = ()
    ship_from: Address | None = None
    purchase_order: str = ""
    packed_on: date | None = None
    notes: str = ""
