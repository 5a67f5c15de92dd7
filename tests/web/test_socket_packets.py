"""Socket.IO packets encoded once as JSON: the same bytes on the wire, binary data unchanged."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from socketio import packet

from web.socket_events import JsonFirstPacket

ANSWER = {
    "ok": True,
    "reason": "item_ok",
    "params": {"counted": 1, "quantity": 2, "pack": 1},
    "step": "item",
    "repeated": False,
    "message": "Article compté : 1 sur 2.",
    "snapshot": {
        "batch": {"code": "B000012", "totes": [{"position": 1, "tote": None}], "done": 3},
        "task": {"id": 57, "location": "A-03-02-2", "lot": "", "location_confirmed": True},
        "step": "item",
    },
}


@pytest.mark.parametrize(
    ("packet_type", "data", "namespace", "packet_id"),
    [
        (packet.ACK, [ANSWER], "/handheld", 12),
        (packet.EVENT, ["snapshot", ANSWER["snapshot"]], "/handheld", None),
        (packet.EVENT, ["paused", {"paused": True}], "/", None),
        (packet.CONNECT, {"sid": "abc"}, "/dashboard", None),
        (packet.ACK, [None], None, 0),
        (packet.DISCONNECT, None, "/handheld", None),
    ],
)
def test_json_data_is_sent_exactly_as_the_library_sends_it(
    packet_type: int, data: Any, namespace: str | None, packet_id: int | None
) -> None:
    ours = JsonFirstPacket(packet_type, data=data, namespace=namespace, id=packet_id)
    theirs = packet.Packet(packet_type, data=data, namespace=namespace, id=packet_id)
    assert ours.packet_type == theirs.packet_type == packet_type
    assert ours.encode() == theirs.encode()
    decoded = packet.Packet(encoded_packet=ours.encode())
    assert (decoded.packet_type, decoded.data, decoded.id) == (packet_type, data, packet_id)


def test_binary_data_takes_the_librarys_own_path() -> None:
    data = ["label", {"zpl": b"^XA^XZ", "printer": "pack-1"}]
    ours = JsonFirstPacket(packet.EVENT, data=data, namespace="/pack")
    theirs = packet.Packet(packet.EVENT, data=data, namespace="/pack")
    assert ours.packet_type == packet.BINARY_EVENT
    assert ours.encode() == theirs.encode()  # placeholder packet plus the attachment


def test_what_json_refuses_still_fails_loudly() -> None:
    with pytest.raises(TypeError):
        JsonFirstPacket(packet.EVENT, data=["x", {"when": object()}]).encode()


def test_a_received_packet_is_decoded_as_before() -> None:
    received = JsonFirstPacket(encoded_packet='2/handheld,7["scan",{"raw":"A-01"}]')
    assert (received.packet_type, received.namespace, received.id) == (packet.EVENT, "/handheld", 7)
    assert received.data == ["scan", {"raw": "A-01"}]


def test_the_apps_socket_server_sends_these_packets(app: Flask) -> None:
    from web.extensions import socketio

    assert socketio.server is not None
    assert socketio.server.packet_class is JsonFirstPacket
