"""Signing in and out: password for desktops, badge scan for handhelds."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from web.extensions import get_db
from web.security import SessionUser, home_for
from wms import access

blueprint = Blueprint("auth", __name__)


class PasswordLoginForm(FlaskForm):  # type: ignore[misc]
    """Username and password."""

    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=40)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


class BadgeLoginForm(FlaskForm):  # type: ignore[misc]
    """A badge barcode, scanned (or typed) into one field."""

    badge = StringField(_l("Badge"), validators=[DataRequired(), Length(max=48)])


def _safe_next(default: str) -> str:
    target = request.args.get("next") or ""
    parts = urlsplit(target)
    # Only local paths: an open redirect would let a link send a picker to a look-alike site.
    if target.startswith("/") and not target.startswith("//") and not parts.netloc:
        return target.rstrip("?")
    return default


@blueprint.route("/login", methods=["GET", "POST"])
def login() -> Any:
    """Desktop sign-in with username and password."""
    if current_user.is_authenticated:
        return redirect(home_for(current_user.role))
    form = PasswordLoginForm()
    if form.validate_on_submit():
        with get_db().read() as session:
            user = access.authenticate(session, form.username.data.strip(), form.password.data)
            found = SessionUser.of(user) if user else None
        if found is not None:
            login_user(found)
            return redirect(_safe_next(home_for(found.role)))
        flash(_l("Wrong username or password. Check both and try again."), "error")
    return render_template("auth/login.html", form=form), 200 if request.method == "GET" else 401


@blueprint.route("/badge", methods=["GET", "POST"])
def badge() -> Any:
    """Handheld sign-in by scanning a badge barcode."""
    if current_user.is_authenticated:
        return redirect(home_for(current_user.role))
    form = BadgeLoginForm()
    if form.validate_on_submit():
        with get_db().read() as session:
            user = access.authenticate_badge(session, form.badge.data)
            found = SessionUser.of(user) if user else None
        if found is not None:
            login_user(found, remember=True)
            return redirect(_safe_next(home_for(found.role)))
        flash(_l("This badge is not known. Scan your own badge or ask your supervisor."), "error")
        form.badge.data = ""
    status = 200 if request.method == "GET" else 401
    return render_template("auth/badge.html", form=form), status


@blueprint.route("/logout", methods=["POST"])
def logout() -> Any:
    """Sign out (POST only, so a link cannot sign anyone out)."""
    handheld = request.form.get("to") == "badge"
    logout_user()
    return redirect(url_for("auth.badge" if handheld else "auth.login"))
