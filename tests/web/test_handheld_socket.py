"""The handheld namespace: answers in the picker's own language, refusals recorded."""

from __future__ import annotations

import uuid

from flask import Flask
from sqlalchemy import func, select

from tests.web.conftest import PASSWORD
from tests.web.test_api_flow_support import FlowClient, build_floor, client_for, order, receive
from web.extensions import socketio
from wms.access import NewUser, create_user
from wms.db import Database
from wms.db.schema import ScanEvent
from wms.model import LANGUAGES, Role


def test_a_french_picker_gets_answers_in_french(app: Flask, database: Database, api_token: str):
    erp = FlowClient(app.test_client(), api_token)
    build_floor(erp, database)
    receive(database, "MUG", "A-01-01", 5)
    erp.ok("post", "/orders", order("O-1", ("MUG", 1)), 201)
    client_for(app, database, Role.SUPERVISOR).ok("post", "/orders/O-1/expedite")
    with database.write() as session:
        create_user(session, NewUser("amelie", "Amélie", Role.PICKER, PASSWORD, "B-FR", "fr"))
    browser = app.test_client()
    page = browser.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    browser.post("/login", data={"username": "amelie", "password": PASSWORD, "csrf_token": token})
    socket = socketio.test_client(app, namespace="/handheld", flask_test_client=browser)
    assert socket.is_connected("/handheld")
    taken = socket.emit("take_batch", {}, namespace="/handheld", callback=True)
    assert taken["ok"]
    tote_scan = {"client_id": str(uuid.uuid4()), "raw": "TOTE-FR-1"}
    tote = socket.emit("scan", tote_scan, namespace="/handheld", callback=True)
    assert tote["ok"] and tote["message"].startswith("Le bac TOTE-FR-1")
    # The outbox sends it again (the answer was lost): the first answer, nothing done twice.
    again = socket.emit("scan", tote_scan, namespace="/handheld", callback=True)
    assert again["repeated"] and (again["ok"], again["reason"]) == (True, "tote_bound")
    assert again["message"] == tote["message"] and again["snapshot"] == tote["snapshot"]
    with database.read() as session:
        logged = session.scalar(
            select(func.count()).select_from(ScanEvent).where(ScanEvent.raw == "TOTE-FR-1")
        )
    assert logged == 1
    answer = socket.emit(
        "scan",
        {"client_id": str(uuid.uuid4()), "raw": "NOWHERE-1"},
        namespace="/handheld",
        callback=True,
    )
    assert not answer["ok"] and answer["reason"] == "wrong_location"
    assert answer["message"].startswith("Mauvais emplacement")
    bad = socket.emit("scan", {"raw": "x"}, namespace="/handheld", callback=True)
    assert bad == {"ok": False, "reason": "bad_request", "message": "Demande incorrecte."}
    socket.disconnect("/handheld")


def test_a_packer_cannot_open_the_handheld_socket(app: Flask, client, login):
    login(Role.PACKER)
    socket = socketio.test_client(app, namespace="/handheld", flask_test_client=client)
    assert not socket.is_connected("/handheld")


def test_each_picker_gets_the_message_in_their_own_language_one_after_the_other(app: Flask):
    from web.handheld_socket import message

    params = {"scanned": "X-1", "expected": "A-01-01-1"}
    with app.test_request_context("/", headers={"Accept-Language": "nl"}):
        said = {lang: message("wrong_location", params, language=lang) for lang in LANGUAGES}
        again = {lang: message("wrong_location", params, language=lang) for lang in LANGUAGES}
        browser = message("wrong_location", params)  # no profile: the browser's language
    assert said == again
    assert said["en"] == "Wrong location: you scanned X-1. Go to A-01-01-1."
    assert said["fr"].startswith("Mauvais emplacement") and "X-1" in said["fr"]
    assert said["nl"] != said["en"] and "A-01-01-1" in said["nl"]
    assert browser == said["nl"]
