"""What every Socket.IO event costs the server besides its handler, made cheap.

Every scan of every handheld is an event, and Flask-SocketIO runs each one inside a Flask
request context built on the socket's own WSGI environ. Two parts of building it did work
that is thrown away at once, and cost the most at a few hundred scans a second. Each answer
is then a Socket.IO packet, whose check for binary data walked the whole answer in Python.
"""

from __future__ import annotations

from typing import Any, NoReturn

from flask import Flask, Request, abort
from flask.sessions import SecureCookieSessionInterface, SessionMixin
from socketio import packet


class SocketEventSessions(SecureCookieSessionInterface):
    """Cookie sessions, except that a Socket.IO event gets its socket's session at once.

    Flask would decode and verify the session cookie of the socket's handshake again for
    every event, and Flask-SocketIO would then replace it with the copy it keeps in the
    environ (``saved_session``, made at the first event); this hands over that copy directly.
    """

    def open_session(self, app: Flask, request: Request) -> SessionMixin | None:
        """The socket's kept session for its events, else the signed cookie as usual."""
        kept: Any = request.environ.get("saved_session")
        if kept is not None:
            return kept  # type: ignore[no-any-return]
        return super().open_session(app, request)


class JsonFirstPacket(packet.Packet):  # type: ignore[misc]
    """A Socket.IO packet that learns whether its data is binary by encoding it as JSON once.

    python-socketio walks every outgoing packet's data in Python to look for bytes (about
    30 µs for a handheld's answer with its snapshot, twice what encoding it costs), then
    encodes it. JSON cannot hold bytes, so data that encodes is not binary: it is encoded
    here once and that text is sent. Data that does not encode (bytes, or anything else
    JSON refuses) takes the library's own path, unchanged.
    """

    def __init__(
        self,
        packet_type: int = packet.EVENT,
        data: Any = None,
        namespace: str | None = None,
        id: int | None = None,  # noqa: A002 - the library's own name
        binary: bool | None = None,
        encoded_packet: Any = None,
    ) -> None:
        self._json: str | None = None
        if binary is None and encoded_packet is None and data is not None:
            try:
                self._json = self.json.dumps(data, separators=(",", ":"))
            except (TypeError, ValueError):
                self._json = None  # the library finds out what it is
            else:
                binary = False
        super().__init__(packet_type, data, namespace, id, binary, encoded_packet)

    def encode(self) -> Any:
        """The packet as sent: type, namespace, id and the JSON made at construction."""
        if self._json is None:
            return super().encode()
        encoded = str(self.packet_type)
        if self.namespace is not None and self.namespace != "/":
            encoded += self.namespace + ","
        if self.id is not None:
            encoded += str(self.id)
        return encoded + self._json


def _never_served() -> NoReturn:
    """The Socket.IO path is answered by the engine.io middleware, not by a view."""
    abort(404)


def install(app: Flask) -> None:
    """Make the per-event request context cheap (see the module docstring)."""
    app.session_interface = SocketEventSessions()
    # The event's context is on the socket's URL (a websocket upgrade, or polling). With no
    # rule for it, Flask stores a NotFound whose traceback holds the context in a reference
    # cycle: ~70 objects of cyclic garbage per event, and 150-250 ms pauses of the cycle
    # collector at a few hundred scans a second. The engine.io middleware answers this path
    # before Flask does: the rules are only ever matched, never served.
    app.add_url_rule("/socket.io/", "socketio_path", _never_served)
    app.add_url_rule("/socket.io/", "socketio_path", _never_served, websocket=True)
