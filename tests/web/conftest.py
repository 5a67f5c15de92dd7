"""Fixtures for the web layer: an app on a fresh database, users of every role, clients."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient

from web import create_app
from wms.access import NewUser, create_api_token, create_user
from wms.config import parse_settings
from wms.db import Database
from wms.model import Role
from wms.site import sync_from_settings

PASSWORD = "correct-horse"
SETTINGS = {
    "site_name": "Test warehouse",
    "zones": [
        {"code": "A", "name": "Fast movers", "kind": "handheld"},
        {"code": "R", "name": "Reserve", "kind": "reserve"},
    ],
}


@dataclass(frozen=True)
class Accounts:
    """The test users, by role, and the integration's API token."""

    token: str


@pytest.fixture
def app(database: Database, tmp_path) -> Iterator[Flask]:
    """The app on a fresh database (SQLite and PostgreSQL), with one user of each role."""
    settings = parse_settings({**SETTINGS, "database": {"url": database.url}})
    with database.write() as session:
        sync_from_settings(session, settings)
        for role in Role:
            create_user(
                session,
                NewUser(
                    username=role.value,
                    display_name=f"Test {role.value}",
                    role=role,
                    password=PASSWORD,
                    badge=f"BADGE-{role.value.upper()}",
                    language="fr" if role is Role.PACKER else "en",
                ),
            )
    application = create_app(
        settings, instance_dir=tmp_path / "var", database=database, testing=True
    )
    yield application


@pytest.fixture
def api_token(app: Flask, database: Database) -> str:
    """A bearer token of the integration user."""
    from sqlalchemy import select

    from wms.db.schema import User

    with database.write() as session:
        user = session.scalar(select(User).where(User.username == "integration"))
        return create_api_token(session, user, "tests")


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A browser-like client without a session."""
    return app.test_client()


def _csrf_token(client: FlaskClient, path: str) -> str:
    import re

    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
        r'name="csrf_token" value="([^"]+)"', page
    )
    assert match, f"no CSRF token on {path}"
    return match.group(1)


@pytest.fixture
def login(client: FlaskClient):
    """Sign the client in as a user of ``role`` through the real login form."""

    def sign_in(role: Role) -> FlaskClient:
        token = _csrf_token(client, "/login")
        response = client.post(
            "/login", data={"username": role.value, "password": PASSWORD, "csrf_token": token}
        )
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    return sign_in
