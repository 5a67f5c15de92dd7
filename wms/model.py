"""The warehouse's own vocabulary: the states and kinds every other module speaks in."""

from __future__ import annotations

from enum import StrEnum

# Defined with the allocation algorithm, which needs it and may not import wms.
from picking.allocation import HandlingUnit

__all__ = ["HandlingUnit"]  # the rest are defined here


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


class WaveStatus(StrEnum):
    """A wave is planned (or held back whole by a supervisor), then released, then done."""

    PLANNED = "planned"
    HELD = "held"  # its orders are held with it; releasing it lifts their holds
    RELEASED = "released"
    DONE = "done"
    CANCELLED = "cancelled"


class BatchKind(StrEnum):
    """What kind of trip a pick batch is."""

    CLUSTER = "cluster"  # B2C: several orders into totes on one cart
    ORDER = "order"  # B2B: one order's cases, pallets and eaches
    REPLENISHMENT = "replenishment"


class BatchStatus(StrEnum):
    """Where a batch is: waiting, with a picker, done."""

    OPEN = "open"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    CANCELLED = "cancelled"


class TaskKind(StrEnum):
    """Who carries out a pick task: a person with a handheld, or a pick-to-light zone."""

    HANDHELD = "handheld"
    LIGHT = "light"


class TaskStatus(StrEnum):
    """The state of a pick or replenishment task."""

    OPEN = "open"
    DONE = "done"
    SHORT = "short"
    CANCELLED = "cancelled"


class ExceptionKind(StrEnum):
    """What went wrong on the floor."""

    SHORT_PICK = "short_pick"
    DAMAGED = "damaged"
    LOCATION_EMPTY = "location_empty"
    BACKORDER = "backorder"


class ExceptionStatus(StrEnum):
    """Whether a supervisor has dealt with an exception."""

    OPEN = "open"
    RESOLVED = "resolved"


LANGUAGES = ("en", "fr", "nl")


class ParcelStatus(StrEnum):
    """A parcel (carton) is filled at the pack station, closed, loaded at the dock, shipped."""

    OPEN = "open"
    CLOSED = "closed"
    LOADED = "loaded"
    SHIPPED = "shipped"


class PrintJobState(StrEnum):
    """Where a print job is: waiting, being sent, taken by the printer, given up, voided."""

    QUEUED = "queued"
    SENDING = "sending"
    PRINTED = "printed"
    FAILED = "failed"
    VOID = "void"


class ShipmentStatus(StrEnum):
    """A shipment collects a carrier's parcels at one dock door until the truck leaves."""

    OPEN = "open"
    SHIPPED = "shipped"
