"""Shared fixtures: a fresh database per test on SQLite and, when configured, PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy.engine import make_url

from wms.db import Database

POSTGRES_URL = os.environ.get("WMS_TEST_POSTGRES_URL", "")
BACKENDS = ["sqlite", "postgresql"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip PostgreSQL tests with a reason when no server is configured (never in CI)."""
    if POSTGRES_URL:
        return
    if os.environ.get("CI"):
        raise pytest.UsageError("CI must test PostgreSQL too: set WMS_TEST_POSTGRES_URL")
    skip = pytest.mark.skip(reason="set WMS_TEST_POSTGRES_URL to run the PostgreSQL tests")
    for item in items:
        if "postgresql" in item.keywords:
            item.add_marker(skip)


def _admin_conninfo() -> str:
    url = make_url(POSTGRES_URL)
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A brand-new, empty PostgreSQL database for one test; dropped afterwards."""
    name = f"wms_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_admin_conninfo(), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(_admin_conninfo(), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgresql", marks=pytest.mark.postgresql),
    ]
)
def db_url(request: pytest.FixtureRequest, tmp_path: os.PathLike[str]) -> str:
    """An empty database URL, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/wms.sqlite3"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def database(db_url: str) -> Iterator[Database]:
    """A :class:`Database` with the whole schema created, on each backend."""
    db = Database(db_url)
    db.create_all()
    try:
        yield db
    finally:
        db.dispose()
