"""The Alembic history builds exactly the schema the models describe, triggers included."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import DBAPIError

from wms.db import metadata
from wms.db.database import make_engine
from wms.db.migrate import alembic_config, is_current, upgrade
from wms.db.schema import APPEND_ONLY_TABLES


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on the (still empty) test database, disposed afterwards."""
    engine = make_engine(db_url)
    try:
        yield engine
    finally:
        engine.dispose()


def _schema_diff(engine: Engine) -> list[object]:
    """What Alembic autogenerate would change to make the database match the models."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))


def _trigger_names(engine: Engine) -> set[str]:
    """Names of the user-defined triggers in the database."""
    query = (
        "SELECT name FROM sqlite_master WHERE type = 'trigger'"
        if engine.dialect.name == "sqlite"
        else "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
    )
    with engine.connect() as connection:
        return set(connection.execute(text(query)).scalars())


def _expected_triggers(dialect: str) -> set[str]:
    """The triggers the initial migration is meant to create on ``dialect``."""
    if dialect == "sqlite":
        return {f"{t}_no_{op}" for t in APPEND_ONLY_TABLES for op in ("update", "delete")}
    return {
        f"{t}_{suffix}" for t in APPEND_ONLY_TABLES for suffix in ("append_only", "no_truncate")
    }


def _app_tables(engine: Engine) -> set[str]:
    """Tables in the database other than Alembic's own bookkeeping."""
    return set(inspect(engine).get_table_names()) - {"alembic_version"}


def _insert_one_movement(engine: Engine) -> None:
    """Write the minimum rows a receipt movement needs, with plain SQL."""
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO zone (id, code, name, kind) VALUES (1, 'A', 'Zone A', 'handheld')")
        )
        connection.execute(
            text(
                "INSERT INTO location (id, code, barcode, zone_id, type, aisle, bay, level, "
                "slot, walk_sequence, x, y, active) "
                "VALUES (1, 'A-1', 'A-1', 1, 'pick_face', '', '', '', '', 0, 0, 0, TRUE)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO item (id, sku, name, description, length_mm, width_mm, height_mm, "
                "weight_g, lot_tracked, expiry_tracked, active) "
                "VALUES (1, 'SKU-1', 'Mug', '', 0, 0, 0, 0, FALSE, FALSE, TRUE)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO movement (kind, item_id, lot, quantity, to_location_id, created_at) "
                "VALUES ('receipt', 1, '', 5, 1, CURRENT_TIMESTAMP)"
            )
        )


def test_upgrade_on_an_empty_database_matches_the_models(db_url: str, engine: Engine) -> None:
    """After ``upgrade`` to head, autogenerate finds nothing to change (types compared too)."""
    assert _app_tables(engine) == set()
    upgrade(db_url)
    assert _app_tables(engine) == set(metadata.tables)
    assert _schema_diff(engine) == []


def test_the_diff_is_not_empty_when_models_and_database_disagree(
    db_url: str, engine: Engine
) -> None:
    """The comparison above can fail: a dropped index shows up as a difference."""
    upgrade(db_url)
    with engine.begin() as connection:
        connection.execute(text("DROP INDEX ix_movement_from"))
    diff = _schema_diff(engine)
    assert [(d[0], d[1].name) for d in diff if isinstance(d, tuple)] == [
        ("add_index", "ix_movement_from")
    ]


def test_is_current_only_after_upgrade(db_url: str, engine: Engine) -> None:
    """``is_current`` is False on an empty database and True once at head."""
    assert is_current(engine) is False
    upgrade(db_url)
    assert is_current(engine) is True


def test_append_only_triggers_exist_after_migration(db_url: str, engine: Engine) -> None:
    """The migration creates the triggers, and they refuse UPDATE and DELETE on the ledger."""
    upgrade(db_url)
    assert _expected_triggers(engine.dialect.name) <= _trigger_names(engine)
    _insert_one_movement(engine)
    statements = ["UPDATE movement SET quantity = 99", "DELETE FROM movement"]
    if engine.dialect.name == "postgresql":
        statements.append("TRUNCATE movement")
    for statement in statements:
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
            connection.execute(text(statement))
    with engine.connect() as connection:
        assert connection.execute(text("SELECT quantity FROM movement")).scalars().all() == [5]


def test_downgrade_to_base_then_upgrade_again(db_url: str, engine: Engine) -> None:
    """The history runs down to nothing and back up to the same schema."""
    upgrade(db_url)
    command.downgrade(alembic_config(db_url), "base")
    assert _app_tables(engine) == set()
    assert _trigger_names(engine) == set()
    assert is_current(engine) is False
    upgrade(db_url)
    assert is_current(engine) is True
    assert _schema_diff(engine) == []
    assert _expected_triggers(engine.dialect.name) <= _trigger_names(engine)
    _insert_one_movement(engine)
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
        connection.execute(text("DELETE FROM movement"))


def test_upgrading_keeps_existing_orders_and_lines(db_url: str) -> None:
    """Table rebuilds in later migrations must not cascade-delete children (SQLite batch mode)."""
    upgrade(db_url, "0001")
    engine = make_engine(db_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO item (id, sku, name, description, length_mm, "
                    "width_mm, height_mm, weight_g, lot_tracked, expiry_tracked, active) VALUES "
                    "(1, 'SKU-1', 'Mug', '', 0, 0, 0, 0, false, false, true)"
                )
            )
            connection.execute(
                text(
                    'INSERT INTO "order" (id, number, kind, ship_to_name, '
                    "ship_to_address, ship_to_postcode, ship_to_city, ship_to_country, priority, "
                    "carrier, service, label_requirements, status, created_at, updated_at) VALUES "
                    "(1, 'O-1', 'b2c', '', '', '', '', '', 0, '', '', '{}', 'received', "
                    "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO order_line (id, order_id, line_no, item_id, "
                    "quantity, allocated_quantity, picked_quantity) VALUES (1, 1, 1, 1, 2, 0, 0)"
                )
            )
        upgrade(db_url)
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM order_line")).scalar_one() == 1
            assert connection.execute(text('SELECT held FROM "order"')).scalar_one() in (0, False)
    finally:
        engine.dispose()
