"""The handheld's Socket.IO namespace: snapshot on connect, scans and shorts answered at once.

Events and payloads are documented in docs/handheld-protocol.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, g, request
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_socketio import Namespace, emit, join_room
from sqlalchemy.orm import Session

from web.server import (
    CommitWhereFast,
    gevent_patched,
    off_the_loop,
    wal_sync_for,
    yield_to_the_loop,
)
from wms import handheld
from wms.db import Database
from wms.db.group_commit import GroupCommit
from wms.errors import WmsError
from wms.model import LANGUAGES, ExceptionKind, Role

NAMESPACE = "/handheld"
_ROLES = {Role.PICKER, Role.SUPERVISOR, Role.ADMIN}

# What each answer says to the picker; params fill the placeholders.
MESSAGES = {
    "tote_bound": _l("Tote %(tote)s is tote %(position)s, for order %(order)s."),
    "location_ok": _l("Location %(location)s confirmed. Scan the item."),
    "item_ok": _l("Item counted: %(counted)s of %(quantity)s."),
    "picked": _l("Picked %(quantity)s. Next pick."),
    "short_reported": _l("Short pick reported: %(missing)s missing. The supervisor is told."),
    "wrong_location": _l("Wrong location: you scanned %(scanned)s. Go to %(expected)s."),
    "wrong_item": _l("Wrong item: %(scanned)s. Pick %(expected)s."),
    "wrong_lot": _l("Wrong lot %(scanned)s. Take lot %(expected)s."),
    "expired": _l("This unit expired on %(expiry)s. Do not pick it; take another."),
    "too_many": _l("Too many: only %(quantity)s to pick here."),
    "wrong_tote": _l("Wrong tote %(scanned)s. Put it in tote %(position)s (%(expected)s)."),
    "not_a_tote": _l("That is not a tote barcode. Scan the next empty tote."),
    "tote_already_on_cart": _l("Tote %(tote)s is already on this cart. Scan another tote."),
    "tote_in_use": _l("Tote %(tote)s is on another cart. Scan an empty tote."),
    "unreadable": _l("The barcode could not be read. Scan it again or type it in."),
    "no_batch": _l("You have no cart yet. Press 'Next cart'."),
    "nothing_to_pick": _l("Nothing to pick right now."),
    "press_confirm": _l("All units counted: press Confirm."),
    "skipped": _l("Skipped: %(location)s comes back at the end of the route."),
    "paused": _l("Paused. Press Resume when you are back."),
    "resumed": _l("Welcome back."),
}


# Each message as translated per language: Flask-Babel picks the locale and its catalogue
# again for every event (a new request context each), 4 % of the server under load.
_TRANSLATED: dict[tuple[str, str], str] = {}


def message(
    reason: str, params: dict[str, Any], detail: str = "", language: str | None = None
) -> str:
    """The answer in the picker's language (``language``: theirs, when known)."""
    template = MESSAGES.get(reason)
    if template is None:
        return detail or _("That did not work. Try again or ask your supervisor.")
    if language in LANGUAGES:
        key = (language, reason)
        text = _TRANSLATED.get(key)
        if text is None:
            with force_locale(language):
                text = _TRANSLATED[key] = str(template)
    else:
        text = str(template)
    try:
        return text % params
    except (KeyError, TypeError, ValueError):
        return text


class HandheldNamespace(Namespace):
    """One connection per handheld; each picker in their own room for pushes."""

    def __init__(self, db: Database) -> None:
        super().__init__(NAMESPACE)
        self._db = db
        # Scans and actions share commits (see wms/db/group_commit.py); reads do not queue.
        self._writer = GroupCommit(
            db,
            name="handheld-writes",
            run_commit=CommitWhereFast(off_the_loop),
            run_checkpoint=off_the_loop,
            durable=wal_sync_for(db),
            between_units=yield_to_the_loop if gevent_patched() else None,
        )
        # The signed-in user per connection, so an event does not load the user again.
        self._users: dict[str, Any] = {}
        self._app: Flask | None = None  # for scans run under the app's context alone

    def trigger_event(self, event: str, *args: Any) -> Any:
        """Run a scan under the app's context alone; every other event as Flask-SocketIO does.

        Flask-SocketIO pushes a request context on the socket's environ for every event (a
        request object, its URL matched, the session put in place): 20 µs a scan, which
        needs none of it. Its user is kept per connection, their language is in their
        profile, and what a scan touches of Flask (the app, ``g``, translations) is the
        app's. A connection without a kept user or language takes the usual path.
        """
        if event == "scan" and len(args) == 2 and self._app is not None:
            user = self._users.get(args[0])
            if user is not None and getattr(user, "language", None) in LANGUAGES:
                with self._app.app_context():
                    g._login_user = user  # as _user() does, for anything that asks
                    return self._scan_as(user, args[1])
        return super().trigger_event(event, *args)

    def _user(self) -> Any:
        sid = getattr(request, "sid", None)
        user = self._users.get(sid) if sid is not None else None
        if user is None:
            return current_user
        # Flask-Login keeps the request's user in g; the locale selector reads it from there.
        g._login_user = user
        return user

    def _allowed(self) -> bool:
        user = self._user()
        return bool(user.is_authenticated and user.role in _ROLES)

    def on_connect(self, auth: Any = None) -> bool:
        """Refuse anyone not signed in as a picker; send the snapshot at once."""
        if not (current_user.is_authenticated and current_user.role in _ROLES):
            return False
        self._users[request.sid] = current_user._get_current_object()  # type: ignore[attr-defined]
        self._app = current_app._get_current_object()  # type: ignore[attr-defined]
        join_room(f"user:{current_user.id}")
        with self._db.read() as session:
            view = handheld.snapshot(session, current_user.id)
            # A reload (or another handheld) comes back paused if the picker was.
            view["paused"] = handheld.is_paused(session, current_user.id)
        emit("snapshot", view)
        return True

    def on_disconnect(self, reason: Any = None) -> None:
        """Forget the connection's user."""
        self._users.pop(getattr(request, "sid", ""), None)

    def _answer(self, answer: handheld.Answer, user: Any) -> dict[str, Any]:
        """The answer with its message and a snapshot read now; ``user`` is who asked."""
        data = answer.as_dict()
        data["message"] = self._message(answer, user)
        with self._db.read() as session:
            data["snapshot"] = handheld.snapshot(session, user.id)
        return data

    @staticmethod
    def _message(answer: handheld.Answer, user: Any) -> str:
        language = getattr(user, "language", None)
        return message(answer.reason, answer.params, answer.params.get("detail", ""), language)

    def _refused(self, error: WmsError, user: Any) -> dict[str, Any]:
        answer = handheld.Answer(False, error.code, {"detail": error.message})
        return self._answer(answer, user)

    def on_take_batch(self, data: Any = None) -> dict[str, Any]:
        """Give the picker a cart (their own, or the most urgent free one)."""
        if not self._allowed():
            return {"ok": False, "reason": "signed_out"}
        user_id = self._user().id

        def take(session: Session) -> tuple[bool, dict[str, Any]]:
            self._writer.kept.pop(user_id, None)  # their cart changes: it is read again
            taken = handheld.take_next_cart(session, user_id) is not None
            return taken, handheld.snapshot(session, user_id)

        # Through the scans' writer: a write transaction of its own would wait for the
        # writer's lock with the whole loop (gevent) stopped behind it.
        try:
            taken, view = self._writer.run(take)
        except WmsError as error:
            return self._refused(error, self._user())
        return {"ok": taken, "snapshot": view}

    def on_scan(self, data: Any) -> dict[str, Any]:
        """Check a scan; the answer comes back as the acknowledgement."""
        return self._scan_as(self._user(), data)

    def _scan_as(self, user: Any, data: Any) -> dict[str, Any]:
        if not (user.is_authenticated and user.role in _ROLES):
            return {"ok": False, "reason": "signed_out"}
        try:
            client_id, raw = str(data["client_id"]), str(data["raw"])
        except (TypeError, KeyError):
            return self._bad_request(getattr(user, "language", None))
        scanned_at = _time(data.get("scanned_at"))
        user_id = user.id
        try:
            answer, view = self._writer.run(
                lambda session: handheld.scan(
                    session,
                    user_id=user_id,
                    client_id=client_id,
                    raw=raw,
                    scanned_at=scanned_at,
                    carts=self._writer.kept,
                    repeats_raise=True,
                )
            )
        except handheld.DuplicateScan:
            # A repeat (the outbox resending), or a copy that won the race on another
            # connection: what it did is undone; answer with the result stored first. The
            # writer answers after its commit, so a copy in the same group is stored now.
            with self._db.read() as session:
                stored = handheld.stored_answer(session, client_id) or {}
                answer = handheld.Answer(**{**stored, "repeated": True})
                view = handheld.snapshot(session, user_id)
        except WmsError as error:
            return self._refused(error, user)
        if answer.reason == "picked" and not answer.repeated:
            self._pick_work_changed()
        data = answer.as_dict()
        data["message"] = self._message(answer, user)
        data["snapshot"] = view
        return data

    @staticmethod
    def _pick_work_changed() -> None:
        # Pick-to-light zones show open picks: a pick made here turns its light off at once;
        # the dashboards' ticker goes out now rather than at its next tick.
        devices = current_app.extensions.get("wms_devices")
        if devices is not None:
            devices.pick_work_changed()
        board = current_app.extensions.get("wms_dashboard")
        if board is not None:
            board.picked()

    def _act(self, action: Callable[..., handheld.Answer], **arguments: Any) -> dict[str, Any]:
        """Run one handheld action in its own transaction and answer it."""
        if not self._allowed():
            return {"ok": False, "reason": "signed_out"}
        user = self._user()
        user_id = user.id

        def act(session: Session) -> handheld.Answer:
            # Shorts, skips and confirms change carts beyond the picker's own (allocation,
            # release): the scans read every cart again.
            self._writer.kept.clear()
            return action(session, user_id=user_id, **arguments)

        try:
            answer = self._writer.run(act)
        except WmsError as error:
            return self._refused(error, user)
        if answer.reason in ("picked", "short_reported"):
            self._pick_work_changed()
        return self._answer(answer, user)

    @staticmethod
    def _bad_request(language: str | None = None) -> dict[str, Any]:
        # In the picker's language when known: a scan outside a request has no browser's.
        if language in LANGUAGES:
            with force_locale(language):
                text = _("Bad request.")
        else:
            text = _("Bad request.")
        return {"ok": False, "reason": "bad_request", "message": text}

    def on_short(self, data: Any) -> dict[str, Any]:
        """Report a short pick, damaged units or an empty location."""
        try:
            arguments = {
                "client_id": str(data["client_id"]),
                "task_id": int(data["task_id"]),
                "found": int(data["found"]),
                "kind": ExceptionKind(data.get("kind", "short_pick")),
            }
        except (TypeError, KeyError, ValueError, AttributeError):
            return self._bad_request()
        return self._act(handheld.short_pick, **arguments)

    def on_skip(self, data: Any) -> dict[str, Any]:
        """Leave the current pick for the end of the route."""
        try:
            arguments = {"client_id": str(data["client_id"]), "task_id": int(data["task_id"])}
        except (TypeError, KeyError, ValueError):
            return self._bad_request()
        return self._act(handheld.skip_task, **arguments)

    def on_pause(self, data: Any) -> dict[str, Any]:
        """A break starts (paused true) or ends (paused false)."""
        try:
            arguments = {"client_id": str(data["client_id"]), "paused": bool(data["paused"])}
        except (TypeError, KeyError):
            return self._bad_request()
        return self._act(handheld.record_pause, **arguments)

    def on_confirm(self, data: Any) -> dict[str, Any]:
        """Close a counted pick that has no tote (B2B order picks)."""
        try:
            arguments = {"client_id": str(data["client_id"]), "task_id": int(data["task_id"])}
        except (TypeError, KeyError, ValueError):
            return self._bad_request()
        return self._act(handheld.confirm_without_tote, **arguments)


def _time(value: Any) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None
