"""The handheld namespace: answers in the picker's own language, refusals recorded."""

from __future__ import annotations

import dataclasses
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
    socket = _picker_socket(app, database, "fr", username="amelie")
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


def _picker_socket(app: Flask, database: Database, language: str = "fr", username: str = "noor"):
    """A picker signed in at /login with ``language`` in their profile, on /handheld."""
    with database.write() as session:
        badge = f"B-{username.upper()}"
        create_user(
            session, NewUser(username, username.title(), Role.PICKER, PASSWORD, badge, language)
        )
    browser = app.test_client()
    page = browser.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    browser.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token})
    socket = socketio.test_client(app, namespace="/handheld", flask_test_client=browser)
    assert socket.is_connected("/handheld")
    return socket


def _scan(socket, raw: str):
    payload = {"client_id": uuid.uuid4().hex, "raw": raw}
    return socket.emit("scan", payload, namespace="/handheld", callback=True)


def test_a_scan_runs_under_the_apps_context_alone(app: Flask, database: Database, monkeypatch):
    from flask import g, has_app_context, has_request_context

    from web import handheld_socket

    seen: list[tuple[bool, bool, object]] = []
    original = handheld_socket.message

    def watching(*arguments):  # on the event's own thread (the scan runs on the writer's)
        seen.append((has_request_context(), has_app_context(), g.get("_login_user")))
        return original(*arguments)

    monkeypatch.setattr(handheld_socket, "message", watching)
    socket = _picker_socket(app, database)
    answer = _scan(socket, "NOWHERE-1")
    assert (answer["ok"], answer["reason"]) == (False, "no_batch")
    assert (
        answer["message"] == "Vous n'avez pas encore de chariot. Appuyez sur « Chariot suivant »."
    )
    assert answer["snapshot"]["step"] == "idle"
    in_request, in_app, user = seen[-1]
    assert not in_request and in_app
    assert getattr(user, "username", None) == "noor"
    socket.disconnect("/handheld")


def test_a_refusal_outside_a_request_is_answered_in_the_pickers_language(
    app: Flask, database: Database, monkeypatch
):
    from web import handheld_socket
    from wms.errors import Conflict

    def refusing(session, **arguments):
        raise Conflict("this task is not yours any more; your screen is being refreshed")

    monkeypatch.setattr(handheld_socket.handheld, "scan", refusing)
    socket = _picker_socket(app, database)
    answer = _scan(socket, "A-01-01")
    assert (answer["ok"], answer["reason"]) == (False, "conflict")
    assert "not yours any more" in answer["message"]
    assert answer["snapshot"] == {"batch": None, "task": None, "step": "idle"}
    bad = socket.emit("scan", ["not", "a", "scan"], namespace="/handheld", callback=True)
    assert bad == {"ok": False, "reason": "bad_request", "message": "Demande incorrecte."}
    socket.disconnect("/handheld")


def test_a_user_without_a_known_language_is_served_in_a_request_context(
    app: Flask, database: Database, monkeypatch
):
    from flask import has_request_context

    from web import handheld_socket

    socket = _picker_socket(app, database, language="en")
    namespace = socketio.server.namespace_handlers["/handheld"]
    for sid, user in namespace._users.items():
        # A profile from before the languages were checked.
        namespace._users[sid] = dataclasses.replace(user, language="de")
    seen: list[bool] = []
    original = handheld_socket.message

    def watching(*arguments):
        seen.append(has_request_context())
        return original(*arguments)

    monkeypatch.setattr(handheld_socket, "message", watching)
    answer = _scan(socket, "NOWHERE-1")
    assert answer["reason"] == "no_batch" and seen == [True]
    socket.disconnect("/handheld")
