"""Socket.IO for the overview: a snapshot of the floor figures on connect, then changes.

One background thread recomputes the figures every few seconds while anyone watches and
emits only when they changed, so many open screens cost one query, not one each.
"""

from __future__ import annotations

import threading
from dataclasses import asdict
from typing import Any

from flask import Flask
from flask_login import current_user
from flask_socketio import Namespace, emit

from web.extensions import socketio
from wms.db import Database
from wms.model import Role
from wms.overview import floor_summary

NAMESPACE = "/overview"
REFRESH_SECONDS = 2.0
ROOM = "overview"
_WATCH_ROLES = {Role.SUPERVISOR, Role.PACKER, Role.INTEGRATION, Role.ADMIN}


def figures(db: Database) -> dict[str, Any]:
    """The overview figures as JSON-ready data."""
    with db.read() as session:
        summary = floor_summary(session)
    data = asdict(summary)
    data["orders_by_status"] = {k.value: v for k, v in summary.orders_by_status.items()}
    data["orders_by_kind"] = {k.value: v for k, v in summary.orders_by_kind.items()}
    data["orders"] = sum(summary.orders_by_status.values())
    return data


class OverviewNamespace(Namespace):
    """Signed-in office users and supervisors watch the floor figures here."""

    def __init__(self, app: Flask, db: Database) -> None:
        super().__init__(NAMESPACE)
        self._app = app
        self._db = db
        self._watchers = 0
        self._lock = threading.Lock()
        self._running = False

    def on_connect(self, auth: Any = None) -> bool:
        """Refuse anonymous sockets; send the snapshot at once."""
        if not current_user.is_authenticated or current_user.role not in _WATCH_ROLES:
            return False
        from flask_socketio import join_room

        join_room(ROOM)
        emit("figures", figures(self._db))
        with self._lock:
            self._watchers += 1
            if not self._running:
                self._running = True
                socketio.start_background_task(self._refresh_loop)
        return True

    def on_disconnect(self, reason: Any = None) -> None:
        """Count the watcher out; the refresh loop stops when nobody watches."""
        with self._lock:
            self._watchers = max(0, self._watchers - 1)

    def _refresh_loop(self) -> None:
        last: dict[str, Any] | None = None
        while True:
            socketio.sleep(REFRESH_SECONDS)
            with self._lock:
                if self._watchers == 0:
                    self._running = False
                    return
            current = figures(self._db)
            if current != last:
                socketio.emit("figures", current, namespace=NAMESPACE, to=ROOM)
                last = current


def init_live(app: Flask, db: Database) -> None:
    """Register the Socket.IO namespaces."""
    from web.handheld_socket import HandheldNamespace

    socketio.on_namespace(OverviewNamespace(app, db))
    socketio.on_namespace(HandheldNamespace(db))
