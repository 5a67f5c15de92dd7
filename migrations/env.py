"""Alembic environment: targets the one MetaData in wms.db; the URL comes from the caller."""

from __future__ import annotations

from typing import Any

from alembic import context

import wms.db.triggers  # noqa: F401  (keeps trigger DDL attached, for completeness)
from wms.db.database import make_engine
from wms.db.schema import metadata

config = context.config


def run_migrations_online() -> None:
    """Run against a live connection: the caller's, or one made from the configured URL."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


def _run(connection: Any) -> None:
    if connection.dialect.name == "sqlite":
        # Batch migrations rebuild tables; with foreign keys on, dropping the old copy of a
        # table would cascade into its children (order -> order lines). Straight to the
        # driver, outside any transaction, where SQLite honours this pragma.
        connection.connection.driver_connection.execute("PRAGMA foreign_keys = OFF")
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=True,  # SQLite can only ALTER through table copies
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=metadata)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
