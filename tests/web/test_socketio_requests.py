"""Every Socket.IO event runs in a request context on the socket's URL: it must match a rule."""

from __future__ import annotations

import gc
import uuid

from flask import Flask, request


def _contexts(app: Flask, count: int, *, websocket: bool) -> None:
    headers = {"Upgrade": "websocket", "Connection": "Upgrade"} if websocket else {}
    for _ in range(count):
        with app.test_request_context("/socket.io/?EIO=4&transport=websocket", headers=headers):
            assert request.routing_exception is None


def test_the_socket_io_url_matches_a_rule_for_websockets_and_polling(app: Flask) -> None:
    with app.test_request_context(
        "/socket.io/?EIO=4&transport=websocket",
        headers={"Upgrade": "websocket", "Connection": "Upgrade"},
    ):
        assert request.routing_exception is None
        assert request.url_rule is not None and request.url_rule.websocket
    with app.test_request_context("/socket.io/?EIO=4&transport=polling"):
        assert request.routing_exception is None


def test_an_event_context_leaves_little_cyclic_garbage(app: Flask) -> None:
    # Without the rules each context left a NotFound and its traceback in a reference cycle
    # (about 70 objects each); werkzeug's matcher still leaves a small closure cycle.
    gc.collect()
    gc.disable()
    try:
        _contexts(app, 200, websocket=True)
        collected = gc.collect()
    finally:
        gc.enable()
    assert collected < 200 * 20, collected


def test_socket_events_reuse_the_sockets_session_instead_of_the_cookie(
    app: Flask, client, login, monkeypatch
) -> None:
    from flask.sessions import SecureCookieSessionInterface

    from web.extensions import socketio
    from wms.model import Role

    login(Role.PICKER)
    decoded: list[str] = []
    original = SecureCookieSessionInterface.open_session

    def counting(self, app_, request_):
        decoded.append(request_.path)
        return original(self, app_, request_)

    monkeypatch.setattr(SecureCookieSessionInterface, "open_session", counting)
    socket = socketio.test_client(app, namespace="/handheld", flask_test_client=client)
    assert socket.is_connected("/handheld")
    before = len(decoded)
    for _ in range(5):
        answer = socket.emit(
            "scan",
            {"client_id": uuid.uuid4().hex, "raw": "NOWHERE"},
            namespace="/handheld",
            callback=True,
        )
        assert answer["reason"] == "no_batch"  # still the signed-in picker: answered, not refused
    assert len(decoded) == before  # the events used the socket's kept session
    socket.disconnect("/handheld")
