"""The overview's Socket.IO namespace: snapshot on connect, refused without a session."""

from __future__ import annotations

from web.extensions import socketio
from wms.model import Role


def test_a_signed_in_supervisor_gets_the_figures_on_connect(app, client, login):
    login(Role.SUPERVISOR)
    socket = socketio.test_client(app, namespace="/overview", flask_test_client=client)
    assert socket.is_connected("/overview")
    received = socket.get_received("/overview")
    assert [event["name"] for event in received] == ["figures"]
    figures = received[0]["args"][0]
    assert figures["orders"] == 0
    assert {zone["code"] for zone in figures["zones"]} == {"A", "R"}
    socket.disconnect("/overview")


def test_an_anonymous_socket_is_refused(app, client):
    socket = socketio.test_client(app, namespace="/overview", flask_test_client=client)
    assert not socket.is_connected("/overview")


def test_a_picker_cannot_watch_the_overview(app, client, login):
    login(Role.PICKER)
    socket = socketio.test_client(app, namespace="/overview", flask_test_client=client)
    assert not socket.is_connected("/overview")
