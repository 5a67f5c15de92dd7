"""SQL tables of the warehouse, mapped with SQLAlchemy 2; the one MetaData Alembic targets."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from wms.model import (
    BatchKind,
    BatchStatus,
    DeviceKind,
    ExceptionKind,
    ExceptionStatus,
    HandlingUnit,
    LocationType,
    MovementKind,
    OrderKind,
    OrderStatus,
    ParcelStatus,
    PrintJobState,
    ReservationStatus,
    Role,
    ScanOutcome,
    ShipmentStatus,
    TaskKind,
    TaskStatus,
    WaveStatus,
    ZoneKind,
)

# Named constraints so that Alembic can alter them identically on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING)

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit key for the ledger.
BigId = BigInteger().with_variant(Integer(), "sqlite")


def _enum(enum_cls: type[StrEnum], length: int = 24) -> Enum:
    """Store an enum by its lower-case value as a plain string (portable, readable in SQL)."""
    return Enum(
        enum_cls,
        native_enum=False,
        create_constraint=False,
        length=length,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    """Declarative base bound to the project's MetaData."""

    metadata = metadata
    type_annotation_map = {dt.datetime: DateTime(timezone=True), dict[str, Any]: JSON}


class Zone(Base):
    """An area of the floor worked one way (handheld, pick-to-light, put wall...)."""

    __tablename__ = "zone"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    kind: Mapped[ZoneKind] = mapped_column(_enum(ZoneKind))
    # Continuous release stops adding work here while this many pick tasks are open.
    wip_limit: Mapped[int | None] = mapped_column(Integer)


class Location(Base):
    """A place that holds stock: a pick face, reserve slot, put-wall slot, pack station, dock."""

    __tablename__ = "location"
    __table_args__ = (
        CheckConstraint("walk_sequence >= 0", name="walk_sequence_not_negative"),
        Index("ix_location_zone_walk", "zone_id", "walk_sequence"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    barcode: Mapped[str] = mapped_column(String(48), unique=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("zone.id"))
    type: Mapped[LocationType] = mapped_column(_enum(LocationType))
    aisle: Mapped[str] = mapped_column(String(8), default="")
    bay: Mapped[str] = mapped_column(String(8), default="")
    level: Mapped[str] = mapped_column(String(8), default="")
    slot: Mapped[str] = mapped_column(String(8), default="")
    walk_sequence: Mapped[int] = mapped_column(Integer, default=0)
    x: Mapped[float] = mapped_column(Float, default=0.0)
    y: Mapped[float] = mapped_column(Float, default=0.0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # How stock is kept here: eaches on a pick face, whole cases, or whole pallets.
    handling_unit: Mapped[HandlingUnit] = mapped_column(
        _enum(HandlingUnit), default=HandlingUnit.EACH, server_default=HandlingUnit.EACH.value
    )
    # Pick faces: replenish from reserve when on-hand falls below min, up to max.
    replenish_min: Mapped[int | None] = mapped_column(Integer)
    replenish_max: Mapped[int | None] = mapped_column(Integer)
    # Pack stations: how many released orders may wait for this station at once.
    wip_limit: Mapped[int | None] = mapped_column(Integer)

    zone: Mapped[Zone] = relationship()


class Item(Base):
    """A stock-keeping unit with its dimensions and tracking rules."""

    __tablename__ = "item"
    __table_args__ = (
        CheckConstraint("weight_g >= 0", name="weight_not_negative"),
        CheckConstraint(
            "length_mm >= 0 AND width_mm >= 0 AND height_mm >= 0", name="dimensions_not_negative"
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    length_mm: Mapped[int] = mapped_column(Integer, default=0)
    width_mm: Mapped[int] = mapped_column(Integer, default=0)
    height_mm: Mapped[int] = mapped_column(Integer, default=0)
    weight_g: Mapped[int] = mapped_column(Integer, default=0)
    lot_tracked: Mapped[bool] = mapped_column(Boolean, default=False)
    expiry_tracked: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Units on a full pallet (B2B pallet picks); cases come from the case GTINs.
    pallet_quantity: Mapped[int | None] = mapped_column(Integer)

    gtins: Mapped[list[ItemGtin]] = relationship(
        back_populates="item", cascade="all, delete-orphan", order_by="ItemGtin.pack_quantity"
    )


class ItemGtin(Base):
    """A barcode of an item: the unit GTIN (pack quantity 1) or a case/pallet GTIN."""

    __tablename__ = "item_gtin"
    __table_args__ = (CheckConstraint("pack_quantity >= 1", name="pack_quantity_positive"),)
    gtin: Mapped[str] = mapped_column(String(14), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id", ondelete="CASCADE"), index=True)
    pack_quantity: Mapped[int] = mapped_column(Integer, default=1)

    item: Mapped[Item] = relationship(back_populates="gtins")


class Stock(Base):
    """On-hand and reserved quantity of one item and lot at one location: the ledger's total."""

    __tablename__ = "stock"
    __table_args__ = (
        UniqueConstraint("location_id", "item_id", "lot", name="uq_stock_location_item_lot"),
        CheckConstraint("on_hand >= 0", name="on_hand_not_negative"),
        CheckConstraint("reserved >= 0", name="reserved_not_negative"),
        CheckConstraint("reserved <= on_hand", name="reserved_within_on_hand"),
        Index("ix_stock_item_location", "item_id", "location_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"))
    # '' when the item is not lot-tracked, so the unique key works on every database.
    lot: Mapped[str] = mapped_column(String(40), default="")
    expiry: Mapped[dt.date | None] = mapped_column(Date)
    on_hand: Mapped[int] = mapped_column(Integer, default=0)
    reserved: Mapped[int] = mapped_column(Integer, default=0)
    received_at: Mapped[dt.datetime] = mapped_column(default=_now)

    location: Mapped[Location] = relationship()
    item: Mapped[Item] = relationship()


class Movement(Base):
    """One row of the append-only inventory ledger (database triggers refuse UPDATE/DELETE)."""

    __tablename__ = "movement"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint(
            "from_location_id IS NOT NULL OR to_location_id IS NOT NULL", name="has_a_location"
        ),
        CheckConstraint(
            "from_location_id IS NULL OR to_location_id IS NULL "
            "OR from_location_id <> to_location_id",
            name="from_differs_from_to",
        ),
        Index("ix_movement_from", "from_location_id", "item_id", "lot"),
        Index("ix_movement_to", "to_location_id", "item_id", "lot"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[MovementKind] = mapped_column(_enum(MovementKind))
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"))
    lot: Mapped[str] = mapped_column(String(40), default="")
    expiry: Mapped[dt.date | None] = mapped_column(Date)
    quantity: Mapped[int] = mapped_column(Integer)
    from_location_id: Mapped[int | None] = mapped_column(ForeignKey("location.id"))
    to_location_id: Mapped[int | None] = mapped_column(ForeignKey("location.id"))
    reason: Mapped[str | None] = mapped_column(String(200))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("order.id"), index=True)
    order_line_id: Mapped[int | None] = mapped_column(ForeignKey("order_line.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    scan_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=_now, server_default=func.now())


class Customer(Base):
    """A B2B customer (or a webshop channel) with its own delivery and labelling rules."""

    __tablename__ = "customer"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[OrderKind] = mapped_column(_enum(OrderKind))
    min_shelf_life_days: Mapped[int] = mapped_column(Integer, default=0)
    label_template: Mapped[str | None] = mapped_column(String(40))


class Order(Base):
    """A customer order: B2C parcel or B2B delivery, with its schedule and label rules."""

    __tablename__ = "order"
    __table_args__ = (
        Index("ix_order_status_cut_off", "status", "cut_off"),
        CheckConstraint(
            "delivery_window_start IS NULL OR delivery_window_end IS NULL "
            "OR delivery_window_start <= delivery_window_end",
            name="delivery_window_ordered",
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[OrderKind] = mapped_column(_enum(OrderKind))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id"))
    ship_to_name: Mapped[str] = mapped_column(String(120), default="")
    ship_to_address: Mapped[str] = mapped_column(Text, default="")
    ship_to_postcode: Mapped[str] = mapped_column(String(16), default="")
    ship_to_city: Mapped[str] = mapped_column(String(80), default="")
    ship_to_country: Mapped[str] = mapped_column(String(2), default="")
    priority: Mapped[int] = mapped_column(Integer, default=0)
    cut_off: Mapped[dt.datetime | None] = mapped_column()
    carrier: Mapped[str] = mapped_column(String(40), default="")
    service: Mapped[str] = mapped_column(String(40), default="")
    delivery_window_start: Mapped[dt.datetime | None] = mapped_column()
    delivery_window_end: Mapped[dt.datetime | None] = mapped_column()
    dock: Mapped[str | None] = mapped_column(String(32))
    label_requirements: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[OrderStatus] = mapped_column(_enum(OrderStatus), default=OrderStatus.RECEIVED)
    wave_id: Mapped[int | None] = mapped_column(ForeignKey("wave.id"), index=True)
    pack_station_id: Mapped[int | None] = mapped_column(ForeignKey("location.id"))
    held: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[dt.datetime] = mapped_column(default=_now)
    updated_at: Mapped[dt.datetime] = mapped_column(default=_now, onupdate=_now)

    customer: Mapped[Customer | None] = relationship()
    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderLine.line_no"
    )


class OrderLine(Base):
    """One item and quantity of an order, with how far it has got."""

    __tablename__ = "order_line"
    __table_args__ = (
        UniqueConstraint("order_id", "line_no", name="uq_order_line_order_line_no"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint(
            "allocated_quantity >= 0 AND allocated_quantity <= quantity", name="allocated_in_range"
        ),
        CheckConstraint(
            "picked_quantity >= 0 AND picked_quantity <= quantity", name="picked_in_range"
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id", ondelete="CASCADE"))
    line_no: Mapped[int] = mapped_column(Integer)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"), index=True)
    quantity: Mapped[int] = mapped_column(Integer)
    allocated_quantity: Mapped[int] = mapped_column(Integer, default=0)
    picked_quantity: Mapped[int] = mapped_column(Integer, default=0)

    order: Mapped[Order] = relationship(back_populates="lines")
    item: Mapped[Item] = relationship()


class Wave(Base):
    """Orders released together: by cut-off, carrier and priority."""

    __tablename__ = "wave"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    status: Mapped[WaveStatus] = mapped_column(_enum(WaveStatus), default=WaveStatus.PLANNED)
    cut_off: Mapped[dt.datetime | None] = mapped_column()
    carrier: Mapped[str] = mapped_column(String(40), default="")
    priority: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(default=_now)
    released_at: Mapped[dt.datetime | None] = mapped_column()
    released_by: Mapped[int | None] = mapped_column(ForeignKey("user.id"))


class PickBatch(Base):
    """One trip: a cart of totes (B2C cluster), or one B2B order's cases and pallets."""

    __tablename__ = "pick_batch"
    __table_args__ = (Index("ix_pick_batch_status_zone", "status", "zone_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[BatchKind] = mapped_column(_enum(BatchKind))
    status: Mapped[BatchStatus] = mapped_column(_enum(BatchStatus), default=BatchStatus.OPEN)
    wave_id: Mapped[int | None] = mapped_column(ForeignKey("wave.id"), index=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("zone.id"))
    picker_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    totes: Mapped[int] = mapped_column(Integer, default=1)
    route_length_m: Mapped[float] = mapped_column(Float, default=0.0)
    route_method: Mapped[str] = mapped_column(String(24), default="")
    priority: Mapped[int] = mapped_column(Integer, default=0)
    cut_off: Mapped[dt.datetime | None] = mapped_column()
    created_at: Mapped[dt.datetime] = mapped_column(default=_now)
    started_at: Mapped[dt.datetime | None] = mapped_column()
    completed_at: Mapped[dt.datetime | None] = mapped_column()

    zone: Mapped[Zone] = relationship()
    tasks: Mapped[list[PickTask]] = relationship(
        back_populates="batch", order_by="PickTask.sequence"
    )
    orders: Mapped[list[BatchOrder]] = relationship(order_by="BatchOrder.tote_position")


class BatchOrder(Base):
    """An order's place on a cart: its tote position and, once scanned, the tote."""

    __tablename__ = "batch_order"
    __table_args__ = (
        UniqueConstraint("batch_id", "tote_position", name="uq_batch_order_batch_tote"),
        # A tote scanned onto a cart is checked against every active cart.
        Index("ix_batch_order_tote_barcode", "tote_barcode"),
    )
    batch_id: Mapped[int] = mapped_column(ForeignKey("pick_batch.id"), primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id"), primary_key=True)
    tote_position: Mapped[int] = mapped_column(Integer)
    tote_barcode: Mapped[str | None] = mapped_column(String(40))

    order: Mapped[Order] = relationship()


class PickTask(Base):
    """Pick this quantity of this item (and lot) from this location into this tote."""

    __tablename__ = "pick_task"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint(
            "picked_quantity >= 0 AND picked_quantity <= quantity", name="picked_in_range"
        ),
        Index("ix_pick_task_batch_sequence", "batch_id", "sequence"),
        Index("ix_pick_task_status_zone", "status", "zone_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("pick_batch.id"))
    sequence: Mapped[int] = mapped_column(Integer)
    kind: Mapped[TaskKind] = mapped_column(_enum(TaskKind))
    status: Mapped[TaskStatus] = mapped_column(_enum(TaskStatus), default=TaskStatus.OPEN)
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id"), index=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_line.id"), index=True)
    reservation_id: Mapped[int] = mapped_column(ForeignKey("reservation.id"))
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"))
    zone_id: Mapped[int] = mapped_column(ForeignKey("zone.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"))
    lot: Mapped[str] = mapped_column(String(40), default="")
    quantity: Mapped[int] = mapped_column(Integer)
    unit: Mapped[HandlingUnit] = mapped_column(_enum(HandlingUnit), default=HandlingUnit.EACH)
    picked_quantity: Mapped[int] = mapped_column(Integer, default=0)
    # Handheld progress: the location scanned, then units counted by item scans.
    location_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    scanned_quantity: Mapped[int] = mapped_column(Integer, default=0)
    tote_position: Mapped[int] = mapped_column(Integer, default=1)
    route_distance_m: Mapped[float] = mapped_column(Float, default=0.0)
    # A replenishment that must be done before this pick can be made.
    waits_for_id: Mapped[int | None] = mapped_column(ForeignKey("replenishment_task.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=_now)
    done_at: Mapped[dt.datetime | None] = mapped_column()
    done_by: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    batch: Mapped[PickBatch] = relationship(back_populates="tasks")
    location: Mapped[Location] = relationship()
    item: Mapped[Item] = relationship()
    order: Mapped[Order] = relationship()


class ReplenishmentTask(Base):
    """Bring stock from reserve to a pick face, before the picks that need it."""

    __tablename__ = "replenishment_task"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        Index("ix_replenishment_status_to", "status", "to_location_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[TaskStatus] = mapped_column(_enum(TaskStatus), default=TaskStatus.OPEN)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"))
    lot: Mapped[str] = mapped_column(String(40), default="")
    from_location_id: Mapped[int] = mapped_column(ForeignKey("location.id"))
    to_location_id: Mapped[int] = mapped_column(ForeignKey("location.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    # Reserved units that travel with the stock: picks already promised from this move.
    carries_reserved: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str] = mapped_column(String(24))
    priority: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(default=_now)
    done_at: Mapped[dt.datetime | None] = mapped_column()
    done_by: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    item: Mapped[Item] = relationship()
    from_location: Mapped[Location] = relationship(foreign_keys=[from_location_id])
    to_location: Mapped[Location] = relationship(foreign_keys=[to_location_id])


class FloorException(Base):
    """Something the supervisor must look at: a short pick, damaged stock, a backorder."""

    __tablename__ = "floor_exception"
    __table_args__ = (Index("ix_floor_exception_status", "status", "created_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[ExceptionKind] = mapped_column(_enum(ExceptionKind))
    status: Mapped[ExceptionStatus] = mapped_column(
        _enum(ExceptionStatus), default=ExceptionStatus.OPEN
    )
    order_id: Mapped[int | None] = mapped_column(ForeignKey("order.id"))
    order_line_id: Mapped[int | None] = mapped_column(ForeignKey("order_line.id"))
    task_id: Mapped[int | None] = mapped_column(ForeignKey("pick_task.id"))
    location_id: Mapped[int | None] = mapped_column(ForeignKey("location.id"))
    item_id: Mapped[int | None] = mapped_column(ForeignKey("item.id"))
    quantity: Mapped[int] = mapped_column(Integer, default=0)
    outcome: Mapped[str] = mapped_column(String(24), default="")
    detail: Mapped[str] = mapped_column(String(300), default="")
    reported_by: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=_now)
    resolved_at: Mapped[dt.datetime | None] = mapped_column()
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("user.id"))


class OrderEvent(Base):
    """A timestamped step in an order's history, for the integrator and the customer."""

    __tablename__ = "order_event"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id", ondelete="CASCADE"), index=True)
    status: Mapped[OrderStatus] = mapped_column(_enum(OrderStatus))
    detail: Mapped[str] = mapped_column(String(200), default="")
    at: Mapped[dt.datetime] = mapped_column(default=_now)


class Reservation(Base):
    """Stock held at one location for one order line until it is picked or released."""

    __tablename__ = "reservation"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_line.id"), index=True)
    stock_id: Mapped[int] = mapped_column(ForeignKey("stock.id"), index=True)
    quantity: Mapped[int] = mapped_column(Integer)
    status: Mapped[ReservationStatus] = mapped_column(
        _enum(ReservationStatus), default=ReservationStatus.OPEN
    )
    # Picked as eaches, whole cases or whole pallets (B2B).
    unit: Mapped[HandlingUnit] = mapped_column(
        _enum(HandlingUnit), default=HandlingUnit.EACH, server_default=HandlingUnit.EACH.value
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=_now)

    stock: Mapped[Stock] = relationship()


class User(Base):
    """A person (or an integration) who uses the app, with one role and a badge."""

    __tablename__ = "user"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(40), unique=True)
    display_name: Mapped[str] = mapped_column(String(80))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    badge: Mapped[str | None] = mapped_column(String(48), unique=True)
    role: Mapped[Role] = mapped_column(_enum(Role))
    language: Mapped[str] = mapped_column(String(5), default="en")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=_now)


class ApiToken(Base):
    """A bearer token for an integration; only its SHA-256 is stored."""

    __tablename__ = "api_token"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=_now)
    last_used_at: Mapped[dt.datetime | None] = mapped_column()
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)

    user: Mapped[User] = relationship()


class Device(Base):
    """A piece of floor hardware known from config.yaml, with its last known health."""

    __tablename__ = "device"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[DeviceKind] = mapped_column(_enum(DeviceKind))
    driver: Mapped[str] = mapped_column(String(40))
    transport_url: Mapped[str] = mapped_column(String(200))
    zone_id: Mapped[int | None] = mapped_column(ForeignKey("zone.id"))
    station: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(24), default="unknown")
    last_seen_at: Mapped[dt.datetime | None] = mapped_column()


class ScanEvent(Base):
    """One scan as received, keyed by the id its client generated; never changed afterwards."""

    __tablename__ = "scan_event"
    __table_args__ = (Index("ix_scan_event_user_received", "user_id", "received_at"),)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    device_id: Mapped[int | None] = mapped_column(ForeignKey("device.id"))
    station: Mapped[str | None] = mapped_column(String(40))
    raw: Mapped[str] = mapped_column(String(400))
    symbology: Mapped[str | None] = mapped_column(String(8))
    kind: Mapped[str] = mapped_column(String(24))
    parsed: Mapped[dict[str, Any]] = mapped_column(default=dict)
    outcome: Mapped[ScanOutcome] = mapped_column(_enum(ScanOutcome))
    reason: Mapped[str | None] = mapped_column(String(64))
    result: Mapped[dict[str, Any]] = mapped_column(default=dict)
    scanned_at: Mapped[dt.datetime | None] = mapped_column()
    received_at: Mapped[dt.datetime] = mapped_column(default=_now)


# Tables whose rows are history: the database itself refuses UPDATE and DELETE on them.
APPEND_ONLY_TABLES = ("movement", "scan_event", "order_event")


class SsccCounter(Base):
    """The last serial handed out for one extension digit and GS1 company prefix."""

    __tablename__ = "sscc_counter"
    __table_args__ = (CheckConstraint("last_serial >= 0", name="last_serial_not_negative"),)
    # Extension digit followed by the company prefix, e.g. "05412345"
    key: Mapped[str] = mapped_column(String(16), primary_key=True)
    last_serial: Mapped[int] = mapped_column(BigInteger, default=0)


class Shipment(Base):
    """One carrier's parcels leaving through one dock door."""

    __tablename__ = "shipment"
    __table_args__ = (Index("ix_shipment_status_carrier_dock", "status", "carrier", "dock"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    carrier: Mapped[str] = mapped_column(String(40), default="")
    dock: Mapped[str] = mapped_column(String(32), default="")
    status: Mapped[ShipmentStatus] = mapped_column(
        _enum(ShipmentStatus), default=ShipmentStatus.OPEN
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=_now)
    shipped_at: Mapped[dt.datetime | None] = mapped_column()
    shipped_by: Mapped[int | None] = mapped_column(ForeignKey("user.id"))


class Parcel(Base):
    """A carton of one order, filled and verified at a pack station."""

    __tablename__ = "parcel"
    __table_args__ = (
        UniqueConstraint("order_id", "number", name="uq_parcel_order_number"),
        CheckConstraint("weight_g IS NULL OR weight_g >= 0", name="weight_not_negative"),
        Index("ix_parcel_status_order", "status", "order_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id"))
    # 1, 2, 3... within the order ("parcel 2 of 3")
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[ParcelStatus] = mapped_column(_enum(ParcelStatus), default=ParcelStatus.OPEN)
    carton: Mapped[str] = mapped_column(String(24), default="")
    weight_g: Mapped[int | None] = mapped_column(Integer)
    sscc: Mapped[str | None] = mapped_column(String(18), unique=True)
    tracking_number: Mapped[str | None] = mapped_column(String(40), unique=True)
    station: Mapped[str] = mapped_column(String(40), default="")
    shipment_id: Mapped[int | None] = mapped_column(ForeignKey("shipment.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=_now)
    closed_at: Mapped[dt.datetime | None] = mapped_column()
    closed_by: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    loaded_at: Mapped[dt.datetime | None] = mapped_column()
    loaded_by: Mapped[int | None] = mapped_column(ForeignKey("user.id"))


class ParcelContent(Base):
    """Units of one order line (and lot or serial) verified by scan into a parcel."""

    __tablename__ = "parcel_content"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    parcel_id: Mapped[int] = mapped_column(ForeignKey("parcel.id", ondelete="CASCADE"), index=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_line.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"))
    lot: Mapped[str] = mapped_column(String(40), default="")
    serial: Mapped[str] = mapped_column(String(40), default="")
    quantity: Mapped[int] = mapped_column(Integer)
    scanned: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=_now)


class PrintJob(Base):
    """A document for a printer, stored before it is sent so that it is never lost."""

    __tablename__ = "print_job"
    __table_args__ = (Index("ix_print_job_printer_state", "printer", "state", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    printer: Mapped[str] = mapped_column(String(40))
    # shipping_label, logistic_label, packing_list...
    document: Mapped[str] = mapped_column(String(40))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("order.id"), index=True)
    parcel_id: Mapped[int | None] = mapped_column(ForeignKey("parcel.id"), index=True)
    zpl: Mapped[bytes] = mapped_column(LargeBinary)
    # The document's field data, so the preview renders the same label without a ZPL renderer.
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    state: Mapped[PrintJobState] = mapped_column(_enum(PrintJobState), default=PrintJobState.QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(String(200), default="")
    reprint_of: Mapped[int | None] = mapped_column(ForeignKey("print_job.id"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=_now)
    updated_at: Mapped[dt.datetime] = mapped_column(default=_now)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column()
    sent_at: Mapped[dt.datetime | None] = mapped_column()


class AuditLog(Base):
    """A supervisor's action on the floor: who did what to which target, why, and when.

    Append-only: the migration (and ``wms.audit`` for ``create_all``) adds the same triggers
    as the ledger's, so a row can never be changed or removed.
    """

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_at", "at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    username: Mapped[str] = mapped_column(String(40), default="")
    # release_wave, hold_wave, expedite_order, reassign_batch, cancel_order, pause_picker...
    action: Mapped[str] = mapped_column(String(40))
    # What was acted on, e.g. "wave:W-0001", "order:SO-1", "batch:B-1", "exception:7"
    target: Mapped[str] = mapped_column(String(80))
    reason: Mapped[str] = mapped_column(String(300), default="")
    # What the action did (counts, the new picker...), as JSON.
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    at: Mapped[dt.datetime] = mapped_column(default=_now)


# KPIs and the dashboard read the event log by time range (wms/kpis.py): without these, every
# refresh would scan the whole ledger and scan log.
Index("ix_movement_kind_created_at", Movement.kind, Movement.created_at)
Index("ix_scan_event_received_at", ScanEvent.received_at)
Index("ix_pick_task_done_at", PickTask.done_at)
Index("ix_order_event_status_at", OrderEvent.status, OrderEvent.at)
