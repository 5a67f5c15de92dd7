"""Data-driven label templates: blocks stacked down the label, filled from named fields.

A template is data (a list of blocks), so a B2B customer who dictates its own label content
gets a template of its own without new code: see ``docs/labels.md`` and
:func:`template_from_dict`. :class:`TemplateRegistry` picks a customer's template for a label
kind, or the built-in one.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from labels import gs1_128
from labels.code128 import FNC1, QUIET_ZONE_MODULES, plan_code128
from labels.errors import LabelDataError, TemplateError
from labels.gs1_128 import Gs1Element
from labels.layout import (
    LABEL_4X2,
    LABEL_4X6,
    BarcodeItem,
    Drawing,
    Item,
    LabelSize,
    RuleItem,
    TextItem,
    clean_text,
    fit_text,
)

MARGIN = 30
"""Dots kept clear along the label's edges (about 4 mm)."""

BLOCK_GAP = 10
LINE_GAP = 6

TEXT_SIZES = {"small": 28, "medium": 36, "large": 48, "xlarge": 80, "huge": 120}
"""Font cell heights in dots that templates may name."""

HRI_HEIGHT = 28


class LabelKind(Enum):
    """The labels the warehouse prints."""

    SHIPPING = "shipping"
    LOGISTIC = "logistic"
    LOCATION = "location"
    TOTE = "tote"
    ITEM = "item"


Fields = Mapping[str, str]


@dataclass(frozen=True)
class TextBlock:
    """Text with ``${field}`` placeholders; a value with newlines spreads over ``lines`` lines.

    Give ``parts`` instead of ``text`` for one line of pieces that each show only when all
    their fields have values, e.g. ``("LOT ${lot}", "EXP ${expiry}")``.
    """

    text: str = ""
    size: str = "medium"
    lines: int = 1
    optional: bool = False
    parts: tuple[str, ...] = ()

    @property
    def pieces(self) -> tuple[str, ...]:
        """The text templates of the block: ``parts``, or ``text`` alone."""
        return self.parts or (self.text,)


@dataclass(frozen=True)
class BarcodeBlock:
    """A Code 128 barcode of one field, human-readable line underneath when ``hri``."""

    field: str
    height: int = 120
    module: int = 3
    min_module: int = 2
    hri: bool = True
    optional: bool = False


@dataclass(frozen=True)
class Gs1BarcodeBlock:
    """A GS1-128 barcode of ``(ai, field)`` elements; empty fields are left out."""

    elements: tuple[tuple[str, str], ...]
    height: int = 160
    module: int = 3
    min_module: int = 3
    hri: bool = True
    optional: bool = False


@dataclass(frozen=True)
class RuleBlock:
    """A horizontal line across the label."""

    thickness: int = 3


@dataclass(frozen=True)
class SpaceBlock:
    """Blank space of ``height`` dots."""

    height: int


Block = TextBlock | BarcodeBlock | Gs1BarcodeBlock | RuleBlock | SpaceBlock


@dataclass(frozen=True)
class Template:
    """A label template: kind, size, the fields it needs and its blocks, top to bottom."""

    name: str
    kind: LabelKind
    blocks: tuple[Block, ...]
    size: LabelSize = LABEL_4X6
    required: tuple[str, ...] = ()
    customer: str | None = None
    description: str = ""

    def __post_init__(self) -> None:
        for block in self.blocks:
            _check_block(self.name, block)


def _check_block(name: str, block: Block) -> None:
    if isinstance(block, TextBlock):
        if block.size not in TEXT_SIZES:
            raise TemplateError(
                f"{name}: text size {block.size!r} is not one of {list(TEXT_SIZES)}"
            )
        if block.lines < 1:
            raise TemplateError(f"{name}: a text block needs at least one line")
        if bool(block.text) == bool(block.parts):
            raise TemplateError(f"{name}: a text block has either text or parts")
        for piece in block.pieces:
            if not string.Template(piece).is_valid():
                raise TemplateError(f"{name}: bad placeholder in {piece!r}")
    elif isinstance(block, BarcodeBlock | Gs1BarcodeBlock):
        if not 1 <= block.min_module <= block.module <= 10 or block.height < 20:
            raise TemplateError(f"{name}: barcode module must be 1-10 dots and height >= 20")
        if isinstance(block, Gs1BarcodeBlock):
            if not block.elements:
                raise TemplateError(f"{name}: a GS1-128 block needs elements")
            for ai, _ in block.elements:
                try:
                    gs1_128.needs_separator(ai)
                except LabelDataError as error:
                    raise TemplateError(f"{name}: {error}") from error


def _value(fields: Fields, name: str) -> str:
    return str(fields.get(name, "") or "").strip()


class _Cursor:
    """Stacks items down the label and refuses content taller than it."""

    def __init__(self, template: Template) -> None:
        self.template = template
        self.y = MARGIN
        self.items: list[Item] = []
        self.gs1_elements: list[Gs1Element] = []
        self.width = template.size.width - 2 * MARGIN

    def advance(self, height: int) -> int:
        top = self.y
        self.y += height
        if self.y > self.template.size.height - MARGIN // 2:
            raise TemplateError(
                f"{self.template.name}: content is {self.y} dots tall, the label "
                f"{self.template.size.height}"
            )
        return top


def _missing(names: Iterable[str], fields: Fields) -> list[str]:
    return [name for name in names if not _value(fields, name)]


def _fill(piece: str, fields: Fields) -> str | None:
    names = string.Template(piece).get_identifiers()
    if _missing(names, fields):
        return None
    return string.Template(piece).substitute({name: _value(fields, name) for name in names})


def _layout_text(cursor: _Cursor, block: TextBlock, fields: Fields) -> None:
    filled = [text for text in (_fill(piece, fields) for piece in block.pieces) if text]
    if not filled:
        if block.optional:
            return
        names = [string.Template(piece).get_identifiers() for piece in block.pieces]
        missing = ", ".join(_missing([n for group in names for n in group], fields))
        raise LabelDataError(f"{cursor.template.name}: missing field(s) {missing}")
    # Parts share one line, three spaces apart; a plain text may spread over several lines.
    text = "   ".join(clean_text(part) for part in filled) if block.parts else filled[0]
    # Only "\n" separates lines: other line breaks (CR, GS, ...) are control characters in
    # field data and become spaces like the rest.
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    if len(lines) > block.lines:
        # Extra address lines are kept on the last line rather than silently dropped.
        lines = [*lines[: block.lines - 1], ", ".join(lines[block.lines - 1 :])]
    height = TEXT_SIZES[block.size]
    for line in lines:
        top = cursor.advance(height + LINE_GAP)
        cursor.items.append(
            TextItem(MARGIN, top, height, fit_text(clean_text(line), height, cursor.width))
        )
    cursor.advance(BLOCK_GAP - LINE_GAP)


def _place_barcode(
    cursor: _Cursor, data: str, block: BarcodeBlock | Gs1BarcodeBlock, hri: str, gs1: bool
) -> None:
    plan = plan_code128(data)
    label_width = cursor.template.size.width
    for module in range(block.module, block.min_module - 1, -1):
        # The quiet zone sits inside the label: ten modules each side, never less than the margin.
        x = max(MARGIN, QUIET_ZONE_MODULES * module)
        if x + plan.modules * module + QUIET_ZONE_MODULES * module <= label_width:
            break
    else:
        raise LabelDataError(
            f"{cursor.template.name}: barcode {hri!r} is too long for the label "
            f"({plan.modules} modules at {block.min_module} dots)"
        )
    top = cursor.advance(block.height)
    cursor.items.append(BarcodeItem(x, top, block.height, module, plan, gs1))
    if block.hri:
        cursor.advance(4)
        text_top = cursor.advance(HRI_HEIGHT)
        line = fit_text(clean_text(hri), HRI_HEIGHT, label_width - x - MARGIN)
        cursor.items.append(TextItem(x, text_top, HRI_HEIGHT, line))
    cursor.advance(BLOCK_GAP + 6)


def _layout_barcode(cursor: _Cursor, block: BarcodeBlock, fields: Fields) -> None:
    value = _value(fields, block.field)
    if not value:
        if block.optional:
            return
        raise LabelDataError(f"{cursor.template.name}: missing field {block.field}")
    if FNC1 in value:
        raise LabelDataError(f"{cursor.template.name}: {block.field} holds an FNC1 character")
    _place_barcode(cursor, value, block, value, gs1=False)


def _layout_gs1(cursor: _Cursor, block: Gs1BarcodeBlock, fields: Fields) -> None:
    elements = [Gs1Element(ai, _value(fields, name)) for ai, name in block.elements]
    elements = [element for element in elements if element.value]
    if not elements:
        if block.optional:
            return
        names = ", ".join(name for _, name in block.elements)
        raise LabelDataError(f"{cursor.template.name}: missing field(s) {names}")
    try:
        data = gs1_128.barcode_data(elements)
    except LabelDataError as error:
        raise LabelDataError(f"{cursor.template.name}: {error}") from error
    cursor.gs1_elements.extend(elements)
    _place_barcode(cursor, data, block, gs1_128.hri(elements), gs1=True)


def layout(template: Template, fields: Fields) -> Drawing:
    """Lay ``fields`` out on ``template``; raises ``LabelDataError`` for missing or bad data."""
    missing = _missing(template.required, fields)
    if missing:
        raise LabelDataError(f"{template.name}: missing field(s) {', '.join(missing)}")
    cursor = _Cursor(template)
    for block in template.blocks:
        if isinstance(block, TextBlock):
            _layout_text(cursor, block, fields)
        elif isinstance(block, BarcodeBlock):
            _layout_barcode(cursor, block, fields)
        elif isinstance(block, Gs1BarcodeBlock):
            _layout_gs1(cursor, block, fields)
        elif isinstance(block, RuleBlock):
            top = cursor.advance(block.thickness)
            cursor.items.append(RuleItem(0, top, template.size.width, block.thickness))
            cursor.advance(BLOCK_GAP + 2)
        else:
            cursor.advance(block.height)
    try:
        gs1_128.check_pairing(cursor.gs1_elements)
    except LabelDataError as error:
        raise LabelDataError(f"{template.name}: {error}") from error
    return Drawing(template.size, tuple(cursor.items), template.name)


# --- built-in templates ----------------------------------------------------------------------

SHIPPING = Template(
    name="shipping-4x6",
    kind=LabelKind.SHIPPING,
    description="Parcel label: from, ship-to, carrier and service, tracking, order, package x of y",
    required=("order_number", "ship_to_name", "carrier", "package_number", "package_count"),
    blocks=(
        TextBlock("FROM", "small"),
        TextBlock("${ship_from}", "small", lines=3, optional=True),
        RuleBlock(),
        TextBlock("SHIP TO", "small"),
        TextBlock("${ship_to_name}", "large"),
        TextBlock("${ship_to_address}", "medium", lines=4, optional=True),
        Gs1BarcodeBlock((("420", "ship_to_postal_code"),), height=90, optional=True),
        RuleBlock(),
        TextBlock(parts=("${carrier}", "${service}"), size="large"),
        TextBlock("TRACKING", "small", optional=True),
        BarcodeBlock("tracking_number", height=130, module=3, optional=True),
        RuleBlock(),
        TextBlock("ORDER ${order_number}", "medium"),
        BarcodeBlock("order_number", height=80, module=2),
        TextBlock("PACKAGE ${package_number} OF ${package_count}", "large"),
        TextBlock("WEIGHT ${weight}", "medium", optional=True),
    ),
)

LOGISTIC = Template(
    name="gs1-logistic-4x6",
    kind=LabelKind.LOGISTIC,
    description="GS1 logistic label for B2B cases and pallets: SSCC, content, count, lot, dates",
    required=("sscc",),
    blocks=(
        TextBlock("FROM ${ship_from}", "small", optional=True),
        TextBlock("TO ${ship_to_name}", "medium", optional=True),
        TextBlock("${ship_to_address}", "small", lines=2, optional=True),
        RuleBlock(),
        TextBlock("SSCC ${sscc_text}", "large"),
        TextBlock(parts=("CONTENT ${content_gtin}", "COUNT ${count}"), optional=True),
        TextBlock("GTIN ${unit_gtin}", optional=True),
        TextBlock("BATCH/LOT ${lot}", optional=True),
        TextBlock(
            parts=("BEST BEFORE ${best_before_text}", "USE BY ${expiry_text}"), optional=True
        ),
        TextBlock(
            parts=("ORDER ${order_number}", "PO ${purchase_order}"), size="small", optional=True
        ),
        RuleBlock(),
        # GS1 logistic labels want X >= 0.495 mm: 4 dots at 203 dpi; 3 only for long lots.
        Gs1BarcodeBlock(
            (("02", "content_gtin"), ("01", "unit_gtin"), ("37", "count")),
            height=150,
            module=4,
            optional=True,
        ),
        Gs1BarcodeBlock(
            (("15", "best_before"), ("17", "expiry"), ("10", "lot")),
            height=150,
            module=4,
            optional=True,
        ),
        Gs1BarcodeBlock((("00", "sscc"),), height=240, module=4, min_module=4),
    ),
)

LOCATION = Template(
    name="location-4x2",
    kind=LabelKind.LOCATION,
    size=LABEL_4X2,
    description="Location label: code, check digits for voice, barcode",
    required=("location_code",),
    blocks=(
        TextBlock("${location_code}", "xlarge"),
        TextBlock(parts=("ZONE ${zone}", "CHECK ${check_digits}"), size="medium", optional=True),
        BarcodeBlock("location_code", height=150, module=3, hri=False),
    ),
)

TOTE = Template(
    name="tote-4x2",
    kind=LabelKind.TOTE,
    size=LABEL_4X2,
    description="Tote label: tote id and barcode",
    required=("tote_id",),
    blocks=(
        TextBlock("TOTE ${tote_id}", "xlarge"),
        BarcodeBlock("tote_id", height=180, module=4, hri=False),
    ),
)

ITEM = Template(
    name="item-4x2",
    kind=LabelKind.ITEM,
    size=LABEL_4X2,
    description="Item label: SKU, description, GTIN with lot and expiry in GS1-128",
    required=("sku",),
    blocks=(
        TextBlock("${sku}", "large"),
        TextBlock("${description}", "small", optional=True),
        TextBlock(parts=("LOT ${lot_text}", "EXP ${expiry_text}"), size="small", optional=True),
        Gs1BarcodeBlock(
            (("01", "gtin"), ("17", "expiry"), ("10", "lot")), height=100, optional=True
        ),
        BarcodeBlock("sku", height=60, module=2, hri=False, optional=True),
    ),
)

BUILT_IN = (SHIPPING, LOGISTIC, LOCATION, TOTE, ITEM)


class TemplateRegistry:
    """The templates a site prints with: one built-in per kind, plus per-customer ones."""

    def __init__(self, templates: Iterable[Template] = BUILT_IN) -> None:
        self._by_name: dict[str, Template] = {}
        self._default: dict[LabelKind, Template] = {}
        self._customer: dict[tuple[str, LabelKind], Template] = {}
        for template in templates:
            self.register(template)

    def register(self, template: Template) -> None:
        """Add a template; one with a ``customer`` replaces the default for that customer."""
        if template.name in self._by_name:
            raise TemplateError(f"template {template.name!r} is already registered")
        self._by_name[template.name] = template
        if template.customer is None:
            self._default.setdefault(template.kind, template)
        else:
            key = (template.customer.casefold(), template.kind)
            if key in self._customer:
                raise TemplateError(
                    f"customer {template.customer!r} already has a {template.kind.value} template"
                )
            self._customer[key] = template

    def get(self, name: str) -> Template:
        """The template called ``name``."""
        try:
            return self._by_name[name]
        except KeyError:
            raise TemplateError(f"no template called {name!r}") from None

    def for_label(self, kind: LabelKind, customer: str | None = None) -> Template:
        """The customer's template for ``kind`` if it has one, else the site's default."""
        if customer is not None:
            found = self._customer.get((customer.casefold(), kind))
            if found is not None:
                return found
        try:
            return self._default[kind]
        except KeyError:
            raise TemplateError(f"no {kind.value} template") from None

    def names(self) -> list[str]:
        """Every registered template name."""
        return sorted(self._by_name)


# --- templates from data ----------------------------------------------------------------------

_BLOCK_KEYS: dict[str, set[str]] = {
    "text": {"text", "parts", "size", "lines", "optional"},
    "barcode": {"field", "height", "module", "min_module", "hri", "optional"},
    "gs1_128": {"elements", "height", "module", "min_module", "hri", "optional"},
    "rule": {"thickness"},
    "space": {"height"},
}


def _block_from_dict(name: str, raw: Mapping[str, Any]) -> Block:
    kind = raw.get("type")
    if kind not in _BLOCK_KEYS:
        raise TemplateError(f"{name}: block type {kind!r} is not one of {sorted(_BLOCK_KEYS)}")
    options = {key: value for key, value in raw.items() if key != "type"}
    unknown = set(options) - _BLOCK_KEYS[kind]
    if unknown:
        raise TemplateError(f"{name}: {kind} block has unknown keys {sorted(unknown)}")
    try:
        if kind == "text":
            if "parts" in options:
                options["parts"] = tuple(str(part) for part in options["parts"])
            return TextBlock(**options)
        if kind == "barcode":
            return BarcodeBlock(**options)
        if kind == "gs1_128":
            elements = options.pop("elements", None)
            pairs = _element_pairs(name, elements)
            return Gs1BarcodeBlock(pairs, **options)
        if kind == "rule":
            return RuleBlock(**options)
        return SpaceBlock(**options)
    except TypeError as error:
        raise TemplateError(f"{name}: {kind} block: {error}") from error


def _element_pairs(name: str, elements: Any) -> tuple[tuple[str, str], ...]:
    # Accept a mapping {ai: field} (YAML keeps its order) or a list of [ai, field] pairs.
    if isinstance(elements, Mapping):
        items: Sequence[Any] = list(elements.items())
    elif isinstance(elements, list | tuple):
        items = elements
    else:
        raise TemplateError(f"{name}: gs1_128 elements must map AIs to field names")
    pairs = []
    for item in items:
        if not (isinstance(item, list | tuple) and len(item) == 2):
            raise TemplateError(f"{name}: gs1_128 element {item!r} is not an (AI, field) pair")
        pairs.append((str(item[0]), str(item[1])))
    return tuple(pairs)


def template_from_dict(raw: Mapping[str, Any]) -> Template:
    """Build a template from plain data (a YAML or JSON document), checking every key."""
    allowed = {"name", "kind", "customer", "size", "required", "description", "blocks"}
    unknown = set(raw) - allowed
    if unknown:
        raise TemplateError(f"template has unknown keys {sorted(unknown)}")
    name = str(raw.get("name") or "")
    if not name:
        raise TemplateError("a template needs a name")
    try:
        kind = LabelKind(raw.get("kind"))
    except ValueError:
        kinds = [k.value for k in LabelKind]
        raise TemplateError(f"{name}: kind must be one of {kinds}") from None
    size_raw = raw.get("size", "4x6")
    try:
        width, height = (float(part) for part in str(size_raw).lower().split("x"))
    except ValueError:
        raise TemplateError(f"{name}: size {size_raw!r} is not like '4x6' (inches)") from None
    blocks_raw = raw.get("blocks")
    if not isinstance(blocks_raw, list) or not blocks_raw:
        raise TemplateError(f"{name}: blocks must be a non-empty list")
    blocks = []
    for block in blocks_raw:
        if not isinstance(block, Mapping):
            raise TemplateError(f"{name}: block {block!r} is not a mapping")
        blocks.append(_block_from_dict(name, block))
    customer = raw.get("customer")
    return Template(
        name=name,
        kind=kind,
        blocks=tuple(blocks),
        size=LabelSize.inches(width, height),
        required=tuple(str(field_name) for field_name in raw.get("required", ())),
        customer=str(customer) if customer else None,
        description=str(raw.get("description", "")),
    )
