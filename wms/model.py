"""The warehouse's own vocabulary: the states and kinds every other module speaks in."""

from __future__ import annotations

from enum import StrEnum


class LocationType(StrEnum):
    """What a location is used for on the floor."""

    PICK_FACE = "pick_face"
    RESERVE = "reserve"
    STAGING = "staging"
    PUT_WALL_SLOT = "put_wall_slot"
    PACK_STATION = "pack_station"
    DOCK = "dock"


class ZoneKind(StrEnum):
    """How work in a zone is done."""

    HANDHELD = "handheld"
    PICK_TO_LIGHT = "pick_to_light"
    PUT_WALL = "put_wall"
    RESERVE = "reserve"
    SHIPPING = "shipping"


class MovementKind(StrEnum):
    """Why stock moved; every row of the ledger has one."""

    RECEIPT = "receipt"
    PICK = "pick"
    PACK = "pack"
    SHIP = "ship"
    TRANSFER = "transfer"
    ADJUSTMENT = "adjustment"
    RETURN = "return"


class OrderKind(StrEnum):
    """B2C parcels or B2B cases and pallets."""

    B2C = "b2c"
    B2B = "b2b"


class OrderStatus(StrEnum):
    """Where an order is in its life on the floor."""

    RECEIVED = "received"
    ALLOCATED = "allocated"
    PARTLY_ALLOCATED = "partly_allocated"
    BACKORDERED = "backordered"
    RELEASED = "released"
    PICKING = "picking"
    PICKED = "picked"
    PACKED = "packed"
    SHIPPED = "shipped"
    CANCELLED = "cancelled"
    ON_HOLD = "on_hold"


class ReservationStatus(StrEnum):
    """A reservation holds stock for an order line until it is picked or released."""

    OPEN = "open"
    PICKED = "picked"
    RELEASED = "released"


class Role(StrEnum):
    """What a user may do; checked on the server for every request."""

    PICKER = "picker"
    PACKER = "packer"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"
    INTEGRATION = "integration"


class DeviceKind(StrEnum):
    """Kinds of floor hardware the app drives."""

    PTL_BUS = "ptl_bus"
    SCANNER = "scanner"
    PRINTER = "printer"
    SCALE = "scale"


class ScanOutcome(StrEnum):
    """What the server made of a scan."""

    ACCEPTED = "accepted"
    REFUSED = "refused"


LANGUAGES = ("en", "fr", "nl")
