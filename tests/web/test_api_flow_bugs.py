"""Order-flow faults once found through the API, kept as regression tests."""

from __future__ import annotations

import threading

import pytest
from flask import Flask
from sqlalchemy import select

from tests.web.test_api_flow_support import FlowClient, build_floor, client_for, order, receive
from wms.db import Database
from wms.db.schema import PickBatch
from wms.errors import Conflict
from wms.model import Role
from wms.orders import order_by_number
from wms.picks import cancel_order, change_line_quantity
from wms.release import expedite_order, release_orders


@pytest.fixture
def erp(app: Flask, database: Database, api_token: str) -> FlowClient:
    """The integration's client, on a floor with locations and items."""
    client = FlowClient(app.test_client(), api_token)
    build_floor(client, database)
    return client


@pytest.fixture
def boss(app: Flask, database: Database, erp: FlowClient) -> FlowClient:
    """A supervisor's client."""
    return client_for(app, database, Role.SUPERVISOR)


def test_orders_with_and_without_a_cut_off_can_be_planned_together(erp, boss, database):
    receive(database, "MUG", "A-01-01", 5)
    erp.ok("post", "/orders", order("O-1", ("MUG", 1), cut_off="2030-05-01T16:00:00Z"), 201)
    erp.ok("post", "/orders", order("O-2", ("MUG", 1)), 201)
    waves = boss.ok("post", "/waves/plan", None, 201)["waves"]
    assert [wave["orders"] for wave in waves] == [1, 1]


def test_an_order_held_while_its_wave_is_planned_is_released_after_the_hold(erp, boss, database):
    receive(database, "MUG", "A-01-01", 5)
    erp.ok("post", "/orders", order("O-1", ("MUG", 1)), 201)
    erp.ok("post", "/orders", order("O-2", ("MUG", 1)), 201)
    (wave,) = boss.ok("post", "/waves/plan", None, 201)["waves"]
    boss.ok("post", "/orders/O-2/hold")
    assert boss.ok("post", f"/waves/{wave['code']}/release")["orders"] == 1
    boss.ok("post", "/orders/O-2/unhold")
    replanned = boss.ok("post", "/waves/plan", None, 201)["waves"]
    continuous = boss.ok("post", "/release/continuous")
    assert [w["orders"] for w in replanned] == [1] or continuous["orders"] == 1


def test_cancelling_an_order_leaves_no_replenishment_that_cannot_be_completed(erp, boss, database):
    receive(database, "BOWL", "A-01-04", 1)
    receive(database, "BOWL", "R-01-02", 10)
    erp.ok("post", "/orders", order("O-1", ("BOWL", 4)), 201)
    assert boss.ok("post", "/orders/O-1/expedite")["release"]["replenishments"] == 1
    erp.ok("post", "/orders/O-1/cancel", {"reason": "customer"})
    (replenishment,) = boss.ok("get", "/replenishments")["items"]
    if replenishment["status"] == "open":
        response = erp.post(f"/replenishments/{replenishment['id']}/complete")
        assert response.status_code == 200, response.get_json()
    stock = erp.ok("get", "/stock?sku=BOWL")["items"]
    assert [row["reserved"] for row in stock] == [0] * len(stock)


def test_a_batch_whose_orders_are_all_cancelled_is_not_left_open(erp, boss, database):
    receive(database, "MUG", "A-01-01", 5)
    erp.ok("post", "/orders", order("O-1", ("MUG", 2)), 201)
    code = boss.ok("post", "/orders/O-1/expedite")["release"]["batches"][0]
    erp.ok("post", "/orders/O-1/cancel")
    batch = boss.ok("get", f"/batches/{code}")
    assert batch["open_tasks"] == 0
    assert batch["status"] != "open"


def test_stock_that_is_all_reserved_is_reported_as_not_free_rather_than_absent(erp, database):
    receive(database, "MUG", "A-01-01", 5)
    erp.ok("post", "/orders", order("O-1", ("MUG", 5)), 201)
    second = erp.ok("post", "/orders", order("O-2", ("MUG", 1)), 201)
    assert second["allocation"]["lines"][0]["reason"] == "not enough free stock"


def test_changing_a_line_updates_the_order_status(erp, database):
    receive(database, "MUG", "A-01-01", 5)
    erp.ok("post", "/orders", order("O-1", ("MUG", 1)), 201)
    with database.write() as session:
        changed = order_by_number(session, "O-1")
        change_line_quantity(session, changed, 1, 50)
        assert changed.status.value == "partly_allocated"


def test_a_cancelled_order_cannot_be_expedited(erp, database):
    erp.ok("post", "/orders", order("O-1", ("MUG", 1)), 201)
    with database.write() as session:
        cancel_order(session, order_by_number(session, "O-1"))
    with database.write() as session, pytest.raises(Conflict):
        expedite_order(session, order_by_number(session, "O-1"))


def test_two_releases_at_once_make_distinct_batches(erp, database):
    receive(database, "MUG", "A-01-01", 10)
    erp.ok("post", "/orders", order("R-1", ("MUG", 1)), 201)
    erp.ok("post", "/orders", order("R-2", ("MUG", 1)), 201)
    errors: list[Exception] = []

    def second() -> None:
        try:
            with database.write() as session:
                release_orders(session, [order_by_number(session, "R-2")])
        except Exception as error:  # noqa: BLE001  (reported by the assertion below)
            errors.append(error)

    thread = threading.Thread(target=second)
    with database.write() as session:
        release_orders(session, [order_by_number(session, "R-1")])
        thread.start()
        thread.join(timeout=1.0)  # the second now waits for this transaction
    thread.join(timeout=30)
    assert not errors, errors
    with database.read() as session:
        assert len(set(session.scalars(select(PickBatch.code)))) == 2
