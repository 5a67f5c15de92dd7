"""Which pick-to-light lights should be on: pure rules from open pick tasks to light signals.

The web layer feeds in what the database says (open picks of the tote working in a zone, the
tote waiting to be passed on) and hands the result to the device manager; nothing here does
I/O, so every rule is tested with plain values.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

#: The largest quantity a generic display shows; bigger picks show this and are confirmed whole.
DISPLAY_MAX = 9999


class LightColor(StrEnum):
    """Colours a light can show (the device profile maps them to register values)."""

    RED = "red"
    GREEN = "green"
    BLUE = "blue"
    YELLOW = "yellow"
    WHITE = "white"


class LightMode(StrEnum):
    """How a light shows its colour."""

    STEADY = "steady"
    FLASH_SLOW = "flash_slow"
    FLASH_FAST = "flash_fast"


class Button(StrEnum):
    """The key an operator pressed on a light."""

    CONFIRM = "confirm"
    SHORT = "short"


#: Picks light green and steady; "order complete" flashes blue so it is never read as a pick.
PICK_COLOR, PICK_MODE = LightColor.GREEN, LightMode.STEADY
COMPLETE_COLOR, COMPLETE_MODE = LightColor.BLUE, LightMode.FLASH_FAST


@dataclass(frozen=True, slots=True)
class LightSignal:
    """What one light shows; ``tag`` names what a press on it answers."""

    color: LightColor
    mode: LightMode
    qty: int
    tag: str


@dataclass(frozen=True, slots=True)
class OpenPick:
    """An open pick task at a lit location, as the zone needs it."""

    task_id: int
    location: str
    quantity: int  # still to pick
    sequence: int


@dataclass(frozen=True, slots=True)
class LightZone:
    """A pick-to-light zone: the locations its bus lights and its "order complete" light."""

    code: str
    locations: frozenset[str]
    order_complete: str | None = None


@dataclass(frozen=True, slots=True)
class ToteDone:
    """A tote whose picks in the zone are all closed, waiting to be passed on."""

    batch_id: int
    units: int  # what was picked into it in this zone, shown on the complete light


def pick_tag(task_id: int) -> str:
    """The tag a pick's light carries (and its press brings back)."""
    return f"pick:{task_id}"


def complete_tag(batch_id: int) -> str:
    """The tag of the "order complete" light for a tote."""
    return f"complete:{batch_id}"


def put_tag(ref: int) -> str:
    """The tag of a put-wall slot lit for one put (``ref`` numbers the puts lit at a wall)."""
    return f"put:{ref}"


def full_tag(order_id: int) -> str:
    """The tag of a put-wall slot flashing because its order is complete."""
    return f"full:{order_id}"


_TAG = re.compile(r"^(pick|complete|put|full):(\d+)$")


def read_tag(tag: str | None) -> tuple[str, int] | None:
    """What a press answers: ``(kind, number)`` for pick, complete, put and full tags."""
    match = _TAG.match(tag or "")
    return (match.group(1), int(match.group(2))) if match else None


def wanted_lights(
    zone: LightZone, picks: Iterable[OpenPick], waiting: ToteDone | None = None
) -> dict[str, LightSignal]:
    """The lights of ``zone`` that should be on, by location; every other light is off.

    A location with several open picks (two lines of one order on the same face) shows the
    first in route order; the next lights when that one is confirmed.
    """
    first: dict[str, OpenPick] = {}
    for pick in sorted(picks, key=lambda p: (p.sequence, p.task_id)):
        if pick.location in zone.locations and pick.quantity > 0:
            first.setdefault(pick.location, pick)
    lights = {
        location: LightSignal(
            PICK_COLOR, PICK_MODE, min(pick.quantity, DISPLAY_MAX), pick_tag(pick.task_id)
        )
        for location, pick in first.items()
    }
    if waiting is not None and zone.order_complete is not None:
        lights[zone.order_complete] = LightSignal(
            COMPLETE_COLOR,
            COMPLETE_MODE,
            min(waiting.units, DISPLAY_MAX),
            complete_tag(waiting.batch_id),
        )
    return lights


def light_changes(
    shown: Mapping[str, LightSignal], wanted: Mapping[str, LightSignal]
) -> dict[str, LightSignal | None]:
    """What to send to make ``shown`` into ``wanted``: new or changed signals, None for off."""
    changes: dict[str, LightSignal | None] = {
        location: signal for location, signal in wanted.items() if shown.get(location) != signal
    }
    for location in shown:
        if location not in wanted:
            changes[location] = None
    return changes


def press_client_id(device: str, tag: str, button: Button, sequence: int) -> str:
    """The scan-log id of a press: the same press read twice gets the same id, so counts once.

    The tag is part of it because a unit's counter restarts after a power cycle: the same
    sequence number on another pick is another press.
    """
    if len(device) > 24:  # keep the id within the scan log's 64 characters
        device = hashlib.sha1(device.encode(), usedforsecurity=False).hexdigest()[:12]
    kind, number = tag.split(":", 1)
    return f"ptl:{device}:{kind[0]}{number}:{button.value[0]}:{sequence}"


# --------------------------------------------------------------------------- put walls


@dataclass(frozen=True, slots=True)
class WallNeed:
    """What one order of the batch at the wall has of one item: picked, and put in its slot."""

    order_id: int
    slot: int  # the order's position in the batch (1 = the wall's first slot)
    item_id: int
    picked: int
    put: int


@dataclass(frozen=True, slots=True)
class PendingPut:
    """A slot lit for a put: the operator scanned an item that goes there."""

    order_id: int
    item_id: int
    quantity: int
    #: Numbers the puts lit at a wall, so a late press on an earlier put of the same order is
    #: never taken for this one.
    ref: int = 0


def slot_for_item(needs: Iterable[WallNeed], item_id: int) -> WallNeed | None:
    """The first slot (by position) whose order still waits for units of ``item_id``."""
    waiting = [n for n in needs if n.item_id == item_id and n.picked > n.put]
    return min(waiting, key=lambda n: n.slot) if waiting else None


def full_orders(needs: Iterable[WallNeed]) -> dict[int, int]:
    """Orders with every picked unit put in their slot: order id -> units in the slot."""
    picked: dict[int, int] = {}
    put: dict[int, int] = {}
    for need in needs:
        picked[need.order_id] = picked.get(need.order_id, 0) + need.picked
        put[need.order_id] = put.get(need.order_id, 0) + need.put
    return {order: units for order, units in picked.items() if units and put[order] >= units}


def wall_lights(
    slots: Sequence[str],
    needs: Iterable[WallNeed],
    pending: Mapping[str, PendingPut],
    cleared: Iterable[int] = (),
) -> dict[str, LightSignal]:
    """A put wall's lights: slots lit for a put, and full orders flashing for the packer.

    ``slots`` are the wall's light locations in slot order; ``cleared`` are full orders the
    packer has taken out (their slot is dark again).
    """
    needs = list(needs)
    slot_of = {n.order_id: n.slot for n in needs}
    lights: dict[str, LightSignal] = {}
    done = set(cleared)
    for order_id, units in full_orders(needs).items():
        position = slot_of[order_id]
        if order_id not in done and 1 <= position <= len(slots):
            lights[slots[position - 1]] = LightSignal(
                PICK_COLOR, LightMode.FLASH_FAST, min(units, DISPLAY_MAX), full_tag(order_id)
            )
    for location, put in pending.items():
        lights[location] = LightSignal(
            PICK_COLOR, PICK_MODE, min(put.quantity, DISPLAY_MAX), put_tag(put.ref)
        )
    return lights
