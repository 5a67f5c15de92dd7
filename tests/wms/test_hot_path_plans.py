"""The scan path's lookups use an index on SQLite: a full scan grows with the floor's history."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.dialects import sqlite

from wms.db import Database
from wms.handheld import _TOTE_IN_USE
from wms.picks import _OPEN_TASKS


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Database]:
    """An empty SQLite database with the whole schema (indexes included)."""
    db = Database(f"sqlite:///{tmp_path}/plans.sqlite3")
    db.create_all()
    try:
        yield db
    finally:
        db.dispose()


def _plan(db: Database, statement: Any, params: dict[str, Any]) -> list[str]:
    sql = statement.params(params).compile(
        dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}
    )
    with db.engine.connect() as connection:
        rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}").all()
    return [str(row[3]) for row in rows]


def _full_scans(plan: list[str]) -> list[str]:
    return [step for step in plan if step.startswith("SCAN") and "CONSTANT ROW" not in step]


def test_open_task_counts_search_by_order_and_by_cart(sqlite_db: Database) -> None:
    plan = _plan(sqlite_db, _OPEN_TASKS, {"p_order": 1, "p_batch": 2})
    assert _full_scans(plan) == []
    assert any("ix_pick_task_order_id" in step for step in plan), plan
    assert any("ix_pick_task_batch_sequence" in step for step in plan), plan
    # Not through the status index: that walks every open task of the floor.
    assert not any("ix_pick_task_status_zone" in step for step in plan), plan


def test_a_tote_scan_finds_its_cart_by_the_tote_barcode_index(sqlite_db: Database) -> None:
    plan = _plan(sqlite_db, _TOTE_IN_USE, {"p_tote": "TOTE-0001"})
    assert _full_scans(plan) == []
    assert any("ix_batch_order_tote_barcode" in step for step in plan), plan
