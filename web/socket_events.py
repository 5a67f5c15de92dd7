"""The request context Flask-SocketIO pushes for every Socket.IO event, made cheap.

Every scan of every handheld is an event, and Flask-SocketIO runs each one inside a Flask
request context built on the socket's own WSGI environ. Two parts of building it did work
that is thrown away at once, and cost the most at a few hundred scans a second.
"""

from __future__ import annotations

from typing import Any, NoReturn

from flask import Flask, Request, abort
from flask.sessions import SecureCookieSessionInterface, SessionMixin


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
