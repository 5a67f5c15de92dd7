"""Which stock an order line takes: FEFO for dated lots, FIFO otherwise; cases and pallets whole.

Pure: it sees candidate stock as plain values and returns a plan; the caller reserves it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum


class HandlingUnit(StrEnum):
    """How stock is kept at a location, and so how it is picked from there."""

    EACH = "each"
    CASE = "case"
    PALLET = "pallet"


class Shortage(StrEnum):
    """Why a line could not be allocated in full."""

    NONE = "none"
    NO_STOCK = "no_stock"
    EXPIRED_ONLY = "expired_only"
    SHELF_LIFE_TOO_SHORT = "shelf_life_too_short"
    NOT_ENOUGH = "not_enough"


@dataclass(frozen=True, slots=True)
class StockCandidate:
    """Free stock of the line's item at one location and lot."""

    stock_id: int
    location_id: int
    available: int
    received_at: dt.datetime
    unit: HandlingUnit = HandlingUnit.EACH
    pick_face: bool = True
    walk_sequence: int = 0
    lot: str = ""
    expiry: dt.date | None = None


@dataclass(frozen=True, slots=True)
class LineDemand:
    """What an order line asks for and the rules that bind it."""

    quantity: int
    bulk: bool = False  # B2B: whole pallets and cases first
    case_quantity: int | None = None
    pallet_quantity: int | None = None
    dated: bool = False  # expiry-tracked item: FEFO, never expired
    min_shelf_life_days: int = 0


@dataclass(frozen=True, slots=True)
class Take:
    """Reserve ``quantity`` base units from one stock row, picked as ``unit``."""

    stock_id: int
    quantity: int
    unit: HandlingUnit


@dataclass(frozen=True, slots=True)
class AllocationPlan:
    """The takes for a line, what is left short, and why."""

    takes: tuple[Take, ...]
    short: int
    reason: Shortage

    @property
    def allocated(self) -> int:
        """Base units the plan reserves."""
        return sum(t.quantity for t in self.takes)


def _usable(
    demand: LineDemand, candidates: Iterable[StockCandidate], today: dt.date
) -> tuple[list[StockCandidate], Shortage]:
    """Drop expired lots and lots too short-dated for the customer; say why if none is left."""
    stock = [c for c in candidates if c.available > 0]
    if not stock:
        return [], Shortage.NO_STOCK
    if not demand.dated:
        return stock, Shortage.NONE
    not_expired = [c for c in stock if c.expiry is None or c.expiry >= today]
    if not not_expired:
        return [], Shortage.EXPIRED_ONLY
    best_before = today + dt.timedelta(days=demand.min_shelf_life_days)
    fresh = [c for c in not_expired if c.expiry is None or c.expiry >= best_before]
    if not fresh:
        return [], Shortage.SHELF_LIFE_TOO_SHORT
    return fresh, Shortage.NONE


def _order(demand: LineDemand, stock: list[StockCandidate]) -> list[StockCandidate]:
    """FEFO for dated items, else pick faces first and FIFO; walk order breaks ties."""
    if demand.dated:
        return sorted(
            stock,
            key=lambda c: (
                c.expiry or dt.date.max,
                not c.pick_face,
                c.received_at,
                c.walk_sequence,
                c.stock_id,
            ),
        )
    return sorted(
        stock, key=lambda c: (not c.pick_face, c.received_at, c.walk_sequence, c.stock_id)
    )


def _take_whole(
    remaining: int,
    pack: int | None,
    unit: HandlingUnit,
    stock: Sequence[StockCandidate],
    left: dict[int, int],
) -> tuple[list[Take], int]:
    """Take whole packs of ``pack`` units from locations that keep ``unit``."""
    takes: list[Take] = []
    if not pack or pack <= 1:
        return takes, remaining
    for candidate in stock:
        if remaining < pack:
            break
        if candidate.unit is not unit:
            continue
        packs = min(remaining // pack, left[candidate.stock_id] // pack)
        if packs:
            takes.append(Take(candidate.stock_id, packs * pack, unit))
            left[candidate.stock_id] -= packs * pack
            remaining -= packs * pack
    return takes, remaining


def plan_allocation(
    demand: LineDemand, candidates: Iterable[StockCandidate], today: dt.date
) -> AllocationPlan:
    """Decide which stock rows a line takes, never more than each has free."""
    if demand.quantity <= 0:
        return AllocationPlan((), 0, Shortage.NONE)
    stock, reason = _usable(demand, candidates, today)
    if not stock:
        return AllocationPlan((), demand.quantity, reason)
    stock = _order(demand, stock)
    left = {c.stock_id: c.available for c in stock}
    remaining = demand.quantity
    takes: list[Take] = []
    # Dated items: FEFO decides, lot by lot (by expiry); whole packs are preferred only among
    # stock of the same expiry, so an earlier lot is never left behind for a later one.
    groups: list[list[StockCandidate]] = []
    if demand.dated:
        for candidate in stock:
            if groups and groups[-1][0].expiry == candidate.expiry:
                groups[-1].append(candidate)
            else:
                groups.append([candidate])
    else:
        groups = [stock]
    for group in groups:
        if remaining == 0:
            break
        if demand.bulk:
            for pack, unit in (
                (demand.pallet_quantity, HandlingUnit.PALLET),
                (demand.case_quantity, HandlingUnit.CASE),
            ):
                whole, remaining = _take_whole(remaining, pack, unit, group, left)
                takes.extend(whole)
        # Eaches: locations that keep eaches first, then break cases or pallets if need be.
        for candidate in sorted(group, key=lambda c: c.unit is not HandlingUnit.EACH):
            if remaining == 0:
                break
            quantity = min(remaining, left[candidate.stock_id])
            if quantity:
                takes.append(Take(candidate.stock_id, quantity, HandlingUnit.EACH))
                left[candidate.stock_id] -= quantity
                remaining -= quantity
    return AllocationPlan(
        tuple(_merge(takes)), remaining, Shortage.NOT_ENOUGH if remaining else Shortage.NONE
    )


def _merge(takes: list[Take]) -> list[Take]:
    """One take per stock row and unit, in the order first taken."""
    merged: dict[tuple[int, HandlingUnit], int] = {}
    for take in takes:
        key = (take.stock_id, take.unit)
        merged[key] = merged.get(key, 0) + take.quantity
    return [Take(stock_id, quantity, unit) for (stock_id, unit), quantity in merged.items()]
