"""The composition root: builds the Flask app from config.yaml and wires every layer."""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask, request
from flask_babel import get_locale
from flask_login import current_user

from web import errors
from web.api import API_PREFIX, init_api
from web.extensions import babel, csrf, login_manager, socketio
from wms.config import Settings
from wms.db import Database
from wms.model import LANGUAGES


def _secret_key(settings: Settings, instance_dir: Path) -> str:
    """Configured key, or one kept in the instance folder so sessions survive restarts."""
    configured = os.environ.get("WMS_SECRET_KEY") or settings.server.secret_key
    if configured:
        return configured
    path = instance_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    path.write_text(key)
    path.chmod(0o600)
    return key


def create_app(
    settings: Settings,
    *,
    instance_dir: str | os.PathLike[str] = "var",
    database: Database | None = None,
    testing: bool = False,
) -> Flask:
    """Build the app for ``settings``; ``database`` may be passed in by tests."""
    app = Flask(__name__, instance_path=str(Path(instance_dir).resolve()))
    app.config.update(
        SECRET_KEY=_secret_key(settings, Path(app.instance_path)),
        TESTING=testing,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        WTF_CSRF_TIME_LIMIT=None,  # a handheld left on the login screen all shift must still work
        MAX_CONTENT_LENGTH=64 * 1024 * 1024,
        BABEL_TRANSLATION_DIRECTORIES=str(Path(__file__).parent / "translations"),
        BABEL_DEFAULT_LOCALE=settings.language,
        WMS_SITE_NAME=settings.site_name,
    )
    app.extensions["wms_settings"] = settings
    app.extensions["wms_db"] = database or Database(settings.database.url)

    login_manager.init_app(app)
    login_manager.session_protection = "strong"
    csrf.init_app(app)
    from web.security import prefer_bearer_token

    app.before_request(prefer_bearer_token)
    babel.init_app(app, locale_selector=_select_locale)
    # Events run on the socket's own thread (each handheld waits for its answer anyway):
    # a new thread per event cost more than the scan under load.
    from web import socket_events
    from web.server import gevent_patched

    socketio.init_app(
        app,
        async_mode="gevent" if gevent_patched() else "threading",
        async_handlers=False,
        serializer=socket_events.JsonFirstPacket,
    )

    socket_events.install(app)

    from web import auth, pages

    app.register_blueprint(auth.blueprint)
    app.register_blueprint(pages.blueprint)
    from web import pack
    from web.spooler import init_spooler

    app.register_blueprint(pack.blueprint)
    # The print spooler's senders start with the first request of the serving process.
    init_spooler(app, start=not testing)
    init_api(app)
    from web.live import init_live

    init_live(app, app.extensions["wms_db"])
    from web.dashboard import init_dashboard

    init_dashboard(app, app.extensions["wms_db"])
    from web.floor_devices import init_floor_devices
    from web.lights import init_lights

    init_lights(app)
    # Built here (a bad device config stops the start); started only by the server's worker.
    init_floor_devices(app, settings, app.extensions["wms_db"])
    errors.register(app)

    @app.context_processor
    def _template_globals() -> dict[str, Any]:
        return {"api_prefix": API_PREFIX, "get_locale": get_locale}

    if not testing:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s"
        )
    return app


def _select_locale() -> str | None:
    """The user's own language, else the browser's best match, else the site default."""
    if current_user and current_user.is_authenticated and current_user.language in LANGUAGES:
        return str(current_user.language)
    return request.accept_languages.best_match(LANGUAGES)
