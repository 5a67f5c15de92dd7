"""Rules of the inventory ledger: which movements are well-formed, before any SQL runs."""

from __future__ import annotations

from dataclasses import dataclass

from wms.errors import InvalidInput
from wms.model import MovementKind

# Where each kind of movement takes stock from and puts it to.
_NEEDS_FROM = {MovementKind.PICK, MovementKind.PACK, MovementKind.TRANSFER, MovementKind.SHIP}
_NEEDS_TO = {
    MovementKind.RECEIPT,
    MovementKind.RETURN,
    MovementKind.PICK,
    MovementKind.PACK,
    MovementKind.TRANSFER,
}
_NO_FROM = {MovementKind.RECEIPT, MovementKind.RETURN}
_NO_TO = {MovementKind.SHIP}


@dataclass(frozen=True, slots=True)
class MovementRequest:
    """A movement as asked for; :func:`check_movement` decides whether it is well-formed."""

    kind: MovementKind
    item_id: int
    quantity: int
    from_location_id: int | None = None
    to_location_id: int | None = None
    lot: str = ""
    reason: str | None = None
    consume_reserved: int = 0


def check_movement(request: MovementRequest) -> None:
    """Raise :class:`InvalidInput` unless the movement obeys the ledger's rules."""
    kind = request.kind
    if not isinstance(request.quantity, int) or isinstance(request.quantity, bool):
        raise InvalidInput("quantity must be a whole number", quantity=request.quantity)
    if request.quantity <= 0:
        raise InvalidInput("quantity must be at least 1", quantity=request.quantity)
    if kind in _NEEDS_FROM and request.from_location_id is None:
        raise InvalidInput(f"a {kind.value} movement needs a from-location", kind=kind.value)
    if kind in _NEEDS_TO and request.to_location_id is None:
        raise InvalidInput(f"a {kind.value} movement needs a to-location", kind=kind.value)
    if kind in _NO_FROM and request.from_location_id is not None:
        raise InvalidInput(f"a {kind.value} movement has no from-location", kind=kind.value)
    if kind in _NO_TO and request.to_location_id is not None:
        raise InvalidInput(f"a {kind.value} movement has no to-location", kind=kind.value)
    if kind is MovementKind.ADJUSTMENT:
        if (request.from_location_id is None) == (request.to_location_id is None):
            raise InvalidInput(
                "an adjustment either adds to (to-location) or removes from (from-location) "
                "exactly one location",
                kind=kind.value,
            )
        if not (request.reason or "").strip():
            raise InvalidInput("an adjustment needs a reason", kind=kind.value)
    if request.from_location_id is not None and request.from_location_id == request.to_location_id:
        raise InvalidInput("from- and to-location are the same", kind=kind.value)
    if not 0 <= request.consume_reserved <= request.quantity:
        raise InvalidInput(
            "reserved quantity consumed must be between 0 and the quantity moved",
            consume_reserved=request.consume_reserved,
        )
    if request.consume_reserved and request.from_location_id is None:
        raise InvalidInput("only a movement out of a location can consume a reservation")
