"""The ledger keeps on-hand equal to its movements and never lets a location go negative."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from wms.catalog import NewItem, NewLocation, create_item, create_location, ensure_zone
from wms.db import Database
from wms.db.ledger import post_movement, receive, release, reserve, verify_ledger
from wms.db.schema import Movement, Order, OrderLine, Stock
from wms.errors import InsufficientStock, InvalidInput
from wms.ledger import MovementRequest
from wms.model import LocationType, MovementKind, OrderKind, ZoneKind
from wms.orders import NewOrder, NewOrderLine, create_order


@pytest.fixture
def site(database: Database) -> dict[str, int]:
    """One zone, two locations, one item."""
    with database.write() as s:
        ensure_zone(s, "A", "Zone A", ZoneKind.HANDHELD)
        a = create_location(s, NewLocation("A-01-01", "A", LocationType.PICK_FACE))
        b = create_location(s, NewLocation("A-01-02", "A", LocationType.STAGING))
        item = create_item(s, NewItem("SKU-1", "Mug", gtins=()))
        return {"a": a.id, "b": b.id, "item": item.id}


def _on_hand(db: Database, location_id: int, item_id: int) -> tuple[int, int]:
    with db.read() as s:
        row = s.execute(
            select(Stock.on_hand, Stock.reserved).where(
                Stock.location_id == location_id, Stock.item_id == item_id
            )
        ).one()
        return row.on_hand, row.reserved


def test_receipt_pick_and_transfer_keep_the_ledger_balanced(database, site):
    with database.write() as s:
        receive(s, item_id=site["item"], location_id=site["a"], quantity=10)
        post_movement(s, MovementRequest(MovementKind.PICK, site["item"], 3, site["a"], site["b"]))
    assert _on_hand(database, site["a"], site["item"]) == (7, 0)
    assert _on_hand(database, site["b"], site["item"]) == (3, 0)
    with database.read() as s:
        assert verify_ledger(s) == []
        assert s.scalar(select(text("count(*)")).select_from(Movement)) == 2


def test_taking_more_than_on_hand_is_refused_and_changes_nothing(database, site):
    with database.write() as s:
        receive(s, item_id=site["item"], location_id=site["a"], quantity=2)
    with pytest.raises(InsufficientStock, match="A-01-01 holds 2"), database.write() as s:
        post_movement(s, MovementRequest(MovementKind.PICK, site["item"], 3, site["a"], site["b"]))
    assert _on_hand(database, site["a"], site["item"]) == (2, 0)
    with database.read() as s:
        assert s.scalar(select(text("count(*)")).select_from(Movement)) == 1
        assert verify_ledger(s) == []


def test_unreserved_movement_cannot_take_reserved_stock(database, site):
    with database.write() as s:
        receive(s, item_id=site["item"], location_id=site["a"], quantity=5)
        order = create_order(s, NewOrder("O-1", OrderKind.B2C, [NewOrderLine("SKU-1", 4)]))
        stock_id = s.scalar(select(Stock.id).where(Stock.location_id == site["a"]))
        reservation = reserve(s, order.lines[0].id, stock_id, 4)
    with pytest.raises(InsufficientStock), database.write() as s:
        post_movement(
            s, MovementRequest(MovementKind.TRANSFER, site["item"], 2, site["a"], site["b"])
        )
    with database.write() as s:
        post_movement(
            s,
            MovementRequest(
                MovementKind.PICK, site["item"], 4, site["a"], site["b"], consume_reserved=4
            ),
        )
    assert _on_hand(database, site["a"], site["item"]) == (1, 0)
    with database.write() as s:
        release(s, reservation)  # already consumed by the pick: must not go negative
    assert _on_hand(database, site["a"], site["item"]) == (1, 0)


def test_reserving_beyond_free_stock_is_refused(database, site):
    with database.write() as s:
        receive(s, item_id=site["item"], location_id=site["a"], quantity=3)
        order = create_order(s, NewOrder("O-2", OrderKind.B2C, [NewOrderLine("SKU-1", 5)]))
        line_id = order.lines[0].id
        stock_id = s.scalar(select(Stock.id))
    with pytest.raises(InsufficientStock, match="only 3 free"), database.write() as s:
        reserve(s, line_id, stock_id, 4)
    with database.write() as s:
        reservation = reserve(s, line_id, stock_id, 3)
        assert s.get(OrderLine, line_id).allocated_quantity == 3
        release(s, reservation)
    assert _on_hand(database, site["a"], site["item"]) == (3, 0)
    with database.read() as s:
        assert s.get(OrderLine, line_id).allocated_quantity == 0
        assert s.scalar(select(Order.number)) == "O-2"


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (MovementRequest(MovementKind.PICK, 1, 0, 1, 2), "at least 1"),
        (MovementRequest(MovementKind.PICK, 1, 1, None, 2), "needs a from-location"),
        (MovementRequest(MovementKind.RECEIPT, 1, 1, 1, 2), "has no from-location"),
        (MovementRequest(MovementKind.SHIP, 1, 1, 1, 2), "has no to-location"),
        (MovementRequest(MovementKind.ADJUSTMENT, 1, 1, None, 2), "needs a reason"),
        (MovementRequest(MovementKind.ADJUSTMENT, 1, 1, 1, 2, reason="x"), "exactly one"),
        (MovementRequest(MovementKind.TRANSFER, 1, 1, 2, 2), "the same"),
    ],
)
def test_malformed_movements_are_refused_before_sql(database, site, request_, message):
    with pytest.raises(InvalidInput, match=message), database.write() as s:
        post_movement(s, request_)


def test_adjustment_with_reason_and_ship(database, site):
    with database.write() as s:
        receive(s, item_id=site["item"], location_id=site["a"], quantity=4)
        post_movement(
            s,
            MovementRequest(
                MovementKind.ADJUSTMENT,
                site["item"],
                1,
                from_location_id=site["a"],
                reason="damaged",
            ),
        )
        post_movement(
            s, MovementRequest(MovementKind.SHIP, site["item"], 3, from_location_id=site["a"])
        )
    assert _on_hand(database, site["a"], site["item"]) == (0, 0)
    with database.read() as s:
        assert verify_ledger(s) == []


def test_the_database_refuses_negative_stock_even_past_the_domain(database, site):
    with database.write() as s:
        receive(s, item_id=site["item"], location_id=site["a"], quantity=1)
    with pytest.raises(IntegrityError), database.write() as s:
        s.execute(text("UPDATE stock SET on_hand = -1"))
    with pytest.raises(IntegrityError), database.write() as s:
        s.execute(text("UPDATE stock SET reserved = 2"))


@pytest.mark.parametrize("statement", ["UPDATE movement SET quantity = 99", "DELETE FROM movement"])
def test_the_ledger_is_append_only(database, site, statement):
    with database.write() as s:
        receive(s, item_id=site["item"], location_id=site["a"], quantity=1)
    with pytest.raises(DBAPIError, match="append-only"), database.write() as s:
        s.execute(text(statement))
    with database.read() as s:
        assert s.scalar(select(Movement.quantity)) == 1
