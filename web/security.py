"""Who is asking: the logged-in user for browsers, bearer tokens for integrations, and roles."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar

from flask import abort, g, jsonify, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import UserMixin, current_user
from sqlalchemy.exc import SQLAlchemyError

from web.extensions import get_db, login_manager
from wms import access
from wms.db.schema import User
from wms.model import Role

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class SessionUser(UserMixin):  # type: ignore[misc]
    """The user of a request, detached from any database session."""

    id: int
    username: str
    display_name: str
    role: Role
    language: str

    @classmethod
    def of(cls, user: User) -> SessionUser:
        """Copy what a request needs from a database row."""
        return cls(user.id, user.username, user.display_name, user.role, user.language)

    def get_id(self) -> str:
        """Flask-Login keeps this in the session cookie."""
        return str(self.id)


@login_manager.user_loader
def _load_user(user_id: str) -> SessionUser | None:
    with get_db().read() as session:
        user = session.get(User, int(user_id))
        return SessionUser.of(user) if user is not None and user.active else None


@login_manager.request_loader
def _load_token_user(req: Any) -> SessionUser | None:
    header = req.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    with get_db().read() as session:
        user = access.user_for_token(session, header.removeprefix("Bearer ").strip())
        if user is None:
            return None
        found = SessionUser.of(user)
        if session.dirty:
            try:
                session.commit()
            except SQLAlchemyError:
                session.rollback()  # last-used time is a courtesy; never fail the request for it
    g.authenticated_by_token = True
    return found


def prefer_bearer_token() -> None:
    """Let an Authorization header win over a session cookie in the same browser.

    Flask-Login tries the session first; an explicit token says who is calling, so it
    decides (Swagger UI's "Try it out" while signed in to the app, for example).
    """
    if request.headers.get("Authorization", "").startswith("Bearer "):
        user = _load_token_user(request)
        if user is not None:
            g._login_user = user


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


@login_manager.unauthorized_handler
def _unauthorized() -> Any:
    if _wants_json():
        response = jsonify(
            code=401,
            status="Unauthorized",
            message=_("Sign in first, or send an API token as 'Authorization: Bearer <token>'."),
        )
        response.status_code = 401
        return response
    return redirect(url_for("auth.login", next=request.full_path))


def roles_required(*roles: Role) -> Callable[[F], F]:
    """Let a view run only for signed-in users with one of ``roles`` (admins always pass)."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles and current_user.role is not Role.ADMIN:
                abort(403)
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def home_for(role: Role) -> str:
    """Where a user lands after signing in."""
    if role is Role.PICKER:
        return url_for("pages.handheld")
    return url_for("pages.overview")
