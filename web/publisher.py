"""The one place that emits to sockets from outside a socket handler (REST calls, jobs)."""

from __future__ import annotations

from collections.abc import Iterable

from web.extensions import socketio
from web.handheld_socket import NAMESPACE as HANDHELD
from wms import handheld
from wms.db import Database


def push_handheld_snapshots(db: Database, user_ids: Iterable[int]) -> None:
    """Send each picker's screen its fresh snapshot (after a reassignment or a cancellation)."""
    for user_id in set(user_ids):
        with db.read() as session:
            snap = handheld.snapshot(session, user_id)
        socketio.emit("snapshot", snap, namespace=HANDHELD, to=f"user:{user_id}")


def push_pause(user_id: int, paused: bool) -> None:
    """Tell a picker's handheld that a supervisor paused (or resumed) them."""
    socketio.emit("paused", {"paused": paused}, namespace=HANDHELD, to=f"user:{user_id}")
