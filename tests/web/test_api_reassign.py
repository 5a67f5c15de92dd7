"""A supervisor moves a cart between pickers; the pickers' handhelds are told at once."""

from __future__ import annotations

import uuid

import pytest
from flask import Flask

from tests.web.conftest import PASSWORD
from tests.web.test_api_flow_support import FlowClient, build_floor, client_for, order, receive
from web.extensions import socketio
from wms.db import Database
from wms.model import Role


@pytest.fixture
def erp(app: Flask, database: Database, api_token: str) -> FlowClient:
    """The integration's client, on a floor with locations and items."""
    client = FlowClient(app.test_client(), api_token)
    build_floor(client, database)
    return client


def _picker_socket(app: Flask):
    browser = app.test_client()
    page = browser.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    browser.post("/login", data={"username": "picker", "password": PASSWORD, "csrf_token": token})
    return socketio.test_client(app, namespace="/handheld", flask_test_client=browser)


def test_reassigning_a_cart_pushes_the_new_state_to_the_handheld(app, database, erp):
    receive(database, "MUG", "A-01-01", 5)
    erp.ok("post", "/orders", order("O-1", ("MUG", 1)), 201)
    boss = client_for(app, database, Role.SUPERVISOR)
    code = boss.ok("post", "/orders/O-1/expedite")["release"]["batches"][0]
    socket = _picker_socket(app)
    assert socket.is_connected("/handheld")
    taken = socket.emit("take_batch", {}, namespace="/handheld", callback=True)
    assert taken["snapshot"]["batch"]["code"] == code
    # A scan first: the handheld's writer now keeps this cart between scans.
    answer = socket.emit(
        "scan",
        {"client_id": uuid.uuid4().hex, "raw": "TOTE-R-1"},
        namespace="/handheld",
        callback=True,
    )
    assert answer["reason"] == "tote_bound", answer
    socket.get_received("/handheld")

    assert boss.ok("post", f"/batches/{code}/reassign", {"picker": None}) == {
        "batch": code,
        "picker": None,
    }
    pushed = [e for e in socket.get_received("/handheld") if e["name"] == "snapshot"]
    assert pushed and pushed[-1]["args"][0]["step"] == "idle"
    # The next scan sees the cart gone, not the cart as it was kept.
    answer = socket.emit(
        "scan",
        {"client_id": uuid.uuid4().hex, "raw": "TOTE-R-2"},
        namespace="/handheld",
        callback=True,
    )
    assert (answer["ok"], answer["reason"]) == (False, "no_batch")
    assert boss.ok("get", f"/batches/{code}")["picker"] is None

    assert boss.post(f"/batches/{code}/reassign", {"picker": "nobody"}).status_code == 404
    assert boss.post("/batches/B999999/reassign", {"picker": None}).status_code == 404
    assert erp.post(f"/batches/{code}/reassign", {"picker": None}).status_code == 403
    socket.disconnect("/handheld")


def test_cancelling_an_order_refreshes_the_picker_holding_it(app, database, erp):
    receive(database, "MUG", "A-01-01", 5)
    erp.ok("post", "/orders", order("O-2", ("MUG", 2)), 201)
    boss = client_for(app, database, Role.SUPERVISOR)
    boss.ok("post", "/orders/O-2/expedite")
    socket = _picker_socket(app)
    socket.emit("take_batch", {}, namespace="/handheld", callback=True)
    socket.get_received("/handheld")
    erp.ok("post", "/orders/O-2/cancel", {"reason": "customer called"})
    pushed = [e for e in socket.get_received("/handheld") if e["name"] == "snapshot"]
    assert pushed and pushed[-1]["args"][0]["task"] is None
    socket.disconnect("/handheld")
