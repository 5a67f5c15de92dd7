"""GS1-128 element strings: validation through biip, FNC1 placement, human-readable text."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from biip import ParseError
from biip.gs1_application_identifiers import GS1ApplicationIdentifier
from biip.gs1_messages import GS1Message

from labels.code128 import FNC1
from labels.errors import LabelDataError


@dataclass(frozen=True)
class Gs1Element:
    """One GS1 element string: an application identifier and its value, e.g. ``("00", sscc)``."""

    ai: str
    value: str

    @property
    def hri(self) -> str:
        """The element as people read it: ``(10) LOT42``."""
        return f"({self.ai}) {self.value}"


def _application_identifier(ai: str) -> GS1ApplicationIdentifier:
    try:
        found = GS1ApplicationIdentifier.extract(ai)
    except ParseError as error:
        raise LabelDataError(f"unknown GS1 application identifier ({ai})") from error
    if found.ai != ai:
        raise LabelDataError(f"unknown GS1 application identifier ({ai})")
    return found


def needs_separator(ai: str) -> bool:
    """Tell whether a value of ``ai`` is variable-length, so FNC1 must end it unless it is last."""
    return bool(_application_identifier(ai).separator_required)


def validate_element(element: Gs1Element) -> None:
    """Check one element against GS1's pattern for its AI and its check digit (GTIN, SSCC, GLN)."""
    _application_identifier(element.ai)
    try:
        message = GS1Message.parse(element.ai + element.value)
    except ParseError as error:
        raise LabelDataError(f"({element.ai}) {element.value!r}: {error}") from error
    parsed = message.element_strings
    if len(parsed) != 1 or parsed[0].ai.ai != element.ai or parsed[0].value != element.value:
        raise LabelDataError(f"({element.ai}) {element.value!r} is not one GS1 element")
    problem = parsed[0].gtin_error or parsed[0].sscc_error or parsed[0].gln_error
    if problem:
        raise LabelDataError(f"({element.ai}) {element.value}: {problem}")


# GS1 pairing rules: these attributes only mean something next to the key they describe.
_NEEDS_KEY = {
    "10": ("01", "02"),
    "11": ("01", "02"),
    "13": ("01", "02"),
    "15": ("01", "02"),
    "16": ("01", "02"),
    "17": ("01", "02"),
    "21": ("01",),
    "37": ("02",),
}


def check_pairing(elements: Sequence[Gs1Element]) -> None:
    """Refuse attributes without their key, e.g. a count (37) without content (02).

    Pass every element on the label: GS1 pairs element strings per unit, so a lot may sit in
    another barcode than the GTIN it belongs to.
    """
    present = {element.ai for element in elements}
    for element in elements:
        keys = _NEEDS_KEY.get(element.ai)
        if keys and not present.intersection(keys):
            wanted = " or ".join(f"({key})" for key in keys)
            raise LabelDataError(f"({element.ai}) needs {wanted} in the same barcode")
    if "01" in present and "02" in present:
        raise LabelDataError("(01) and (02) exclude each other")


def barcode_data(elements: Sequence[Gs1Element]) -> str:
    """The GS1-128 data: leading FNC1, and FNC1 after every variable-length value but the last."""
    if not elements:
        raise LabelDataError("a GS1-128 barcode needs at least one element")
    parts = [FNC1]
    for index, element in enumerate(elements):
        validate_element(element)
        parts.append(element.ai + element.value)
        if index < len(elements) - 1 and needs_separator(element.ai):
            parts.append(FNC1)
    return "".join(parts)


def hri(elements: Sequence[Gs1Element]) -> str:
    """The human-readable line printed under a GS1-128 barcode."""
    return " ".join(element.hri for element in elements)
