"""Flask extensions, created unbound and initialised by the app factory."""

from __future__ import annotations

from typing import cast

from flask import current_app
from flask_babel import Babel
from flask_login import LoginManager
from flask_socketio import SocketIO
from flask_wtf.csrf import CSRFProtect

from wms.config import Settings
from wms.db import Database

# threading mode: the most compatible, and it coexists with pyserial reader threads.
socketio = SocketIO(async_mode="threading")
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()


def get_db() -> Database:
    """The app's database."""
    return cast(Database, current_app.extensions["wms_db"])


def get_settings() -> Settings:
    """The app's validated config.yaml."""
    return cast(Settings, current_app.extensions["wms_settings"])
