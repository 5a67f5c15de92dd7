"""Statements run on the driver's cursor read and write exactly what Connection.execute does."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Enum,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    event,
    exc,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.orm import registry

from wms import handheld, picks, scans
from wms.db import Database, direct
from wms.handheld import take_next_batch
from wms.model import TaskStatus

from .test_handheld import _scan, floor  # noqa: F401  (the fixture, reused)


class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


_meta = MetaData()
_sample = Table(
    "direct_sample",
    _meta,
    Column("id", Integer, primary_key=True),
    Column("name", String(40), nullable=False, unique=True),
    Column("colour", Enum(Colour, native_enum=False, length=16), nullable=False),
    Column("flag", Boolean, nullable=False),
    Column("at", DateTime(timezone=True)),
    Column("day", Date),
    Column("doc", JSON, nullable=False),
)
_INSERT = insert(_sample).values(
    name=bindparam("p_name"),
    colour=bindparam("p_colour"),
    flag=bindparam("p_flag"),
    at=bindparam("p_at"),
    day=bindparam("p_day"),
    doc=bindparam("p_doc"),
)
_INSERT_RETURNING = _INSERT.returning(_sample.c.id)
_BY_NAME = select(_sample).where(_sample.c.name == bindparam("p_name"))
_BLUE = (
    select(_sample.c.name, func.count().label("n"))
    .where(_sample.c.colour == Colour.BLUE, _sample.c.flag.is_(True))
    .group_by(_sample.c.name)
    .order_by(_sample.c.name)
)
_RECOLOUR = update(_sample).where(_sample.c.flag.is_(True)).values(colour=bindparam("p_colour"))
_AT = dt.datetime(2026, 11, 23, 6, 30, 15, 123456, tzinfo=dt.UTC)


@pytest.fixture
def sample_db(database: Database) -> Iterator[Database]:
    """The project database with one scratch table holding every kind of column."""
    _meta.create_all(database.engine)
    yield database


def _row(name: str, **changes: Any) -> dict[str, Any]:
    values = {
        "p_name": name,
        "p_colour": Colour.BLUE,
        "p_flag": True,
        "p_at": _AT,
        "p_day": dt.date(2027, 1, 31),
        "p_doc": {"lot": "L1", "n": [1, 2], "none": None},
    }
    return {**values, **changes}


def test_rows_written_directly_read_the_same_through_sqlalchemy_and_back(sample_db):
    with sample_db.write() as session:
        connection = session.connection()
        inserted = direct.execute(connection, _INSERT_RETURNING, _row("a"))
        direct.execute(connection, _INSERT, _row("b", p_colour=Colour.RED, p_flag=False))
        connection.execute(_INSERT, _row("c", p_at=None, p_day=None, p_doc={}))
    with sample_db.read() as session:
        connection = session.connection()
        for name in ("a", "b", "c"):
            through_sqlalchemy = connection.execute(_BY_NAME, {"p_name": name}).one()
            through_driver = direct.execute(connection, _BY_NAME, {"p_name": name}).one()
            assert tuple(through_driver) == tuple(through_sqlalchemy)
            assert through_driver._asdict() == dict(through_sqlalchemy._mapping)
        a = direct.execute(connection, _BY_NAME, {"p_name": "a"}).one()
    assert inserted.scalar_one() == a.id
    assert a.colour is Colour.BLUE and a.flag is True
    assert a.doc == {"lot": "L1", "n": [1, 2], "none": None}
    assert a.day == dt.date(2027, 1, 31)
    # SQLite keeps no zone: both paths give the same naive UTC time there.
    assert a.at.replace(tzinfo=dt.UTC) == _AT


def test_constants_in_the_statement_are_bound_like_sqlalchemy_binds_them(sample_db):
    with sample_db.write() as session:
        connection = session.connection()
        for name, colour, flag in (("a", Colour.BLUE, True), ("b", Colour.BLUE, False)):
            direct.execute(connection, _INSERT, _row(name, p_colour=colour, p_flag=flag))
        direct.execute(connection, _INSERT, _row("c", p_colour=Colour.RED))
        assert [tuple(r) for r in direct.execute(connection, _BLUE)] == [("a", 1)]
        changed = direct.execute(connection, _RECOLOUR, {"p_colour": Colour.RED})
        assert changed.rowcount == 2
        assert direct.execute(connection, _BLUE).all() == []
        assert direct.execute(connection, _BLUE).first() is None
        assert direct.execute(connection, _BLUE).scalar() is None


def test_statements_run_inside_the_sessions_transaction_and_savepoints(sample_db):
    with pytest.raises(RuntimeError), sample_db.write() as session:
        direct.execute(session.connection(), _INSERT, _row("gone"))
        raise RuntimeError("the unit of work fails")
    with sample_db.write() as session:
        direct.execute(session.connection(), _INSERT, _row("kept"))
        savepoint = session.begin_nested()
        direct.execute(session.connection(), _INSERT, _row("undone"))
        savepoint.rollback()
    with sample_db.read() as session:
        names = session.scalars(select(_sample.c.name).order_by(_sample.c.name)).all()
    assert names == ["kept"]


def test_a_driver_error_is_sqlalchemys_error_and_loses_the_statement_only(sample_db):
    with sample_db.write() as session:
        direct.execute(session.connection(), _INSERT, _row("a"))
        savepoint = session.begin_nested()
        with pytest.raises(exc.IntegrityError):
            direct.execute(session.connection(), _INSERT, _row("a"))
        savepoint.rollback()
    with sample_db.read() as session:
        assert session.scalar(select(func.count()).select_from(_sample)) == 1


def test_an_expanding_in_list_is_refused_at_first_use(sample_db):
    statement = select(_sample.c.id).where(_sample.c.colour.in_([Colour.RED, Colour.BLUE]))
    with sample_db.read() as session, pytest.raises(ValueError, match="IN"):
        direct.execute(session.connection(), statement)


def test_one_insists_on_one_row(sample_db):
    with sample_db.write() as session:
        connection = session.connection()
        with pytest.raises(exc.NoResultFound):
            direct.execute(connection, _BY_NAME, {"p_name": "nobody"}).one()
        direct.execute(connection, _INSERT, _row("a"))
        direct.execute(connection, _INSERT, _row("b"))
        with pytest.raises(exc.MultipleResultsFound):
            direct.execute(connection, select(_sample.c.id)).one_or_none()


def test_the_scan_paths_statements_read_the_same_either_way(floor):  # noqa: F811
    db, picker = floor
    with db.write() as session:
        batch = take_next_batch(session, picker)
        assert batch is not None
        batch_id = batch.id
    for tote in range(1, 5):
        _scan(db, picker, f"TOTE-DIRECT-{tote}")
    with db.read() as session:
        handheld_view = handheld.snapshot(session, picker)
    task = handheld_view["task"]
    client_id = str(uuid.uuid4())
    _scan(db, picker, task["location"], client_id)
    with db.read() as session:
        connection = session.connection()
        checks: list[tuple[Any, dict[str, Any]]] = [
            (handheld._CART, {"p_user": picker}),
            (handheld._TOTES, {"p_batch": batch_id}),
            (handheld._CURRENT, {"p_batch": batch_id}),
            (handheld._TOTE_IN_USE, {"p_tote": "TOTE-DIRECT-1"}),
            (picks._PICK_ROW, {"p_task": task["id"]}),
            (picks._OPEN_TASKS, {"p_order": 1, "p_batch": batch_id}),
            (scans._STORED, {"p_id": client_id}),
        ]
        for statement, params in checks:
            expected = [tuple(r) for r in connection.execute(statement, params)]
            assert expected, statement
            assert [tuple(r) for r in direct.execute(connection, statement, params)] == expected
        view = handheld.show(handheld.load_cart(session, picker))
        row = direct.execute(connection, picks._PICK_ROW, {"p_task": task["id"]}).one()
    # The cart as loaded directly: the same, with the location now confirmed.
    assert view["task"] == handheld_view["task"] | {"location_confirmed": True}
    assert view["batch"] == handheld_view["batch"]
    assert row.status is TaskStatus.OPEN


def test_the_engines_cursor_events_see_each_statement(sample_db):
    seen: list[str] = []

    def record(_connection, _cursor, statement, *_rest):
        seen.append(statement)

    event.listen(sample_db.engine, "after_cursor_execute", record)
    try:
        with sample_db.write() as session:
            direct.execute(session.connection(), _INSERT, _row("a"))
    finally:
        event.remove(sample_db.engine, "after_cursor_execute", record)
    assert any(statement.startswith("INSERT INTO direct_sample") for statement in seen)


class _Sample:
    """The scratch table as an ORM class, for savepoints around ORM work."""

    name: str
    colour: Colour
    flag: bool
    doc: dict[str, Any]


registry().map_imperatively(_Sample, _sample)


def _names(db: Database) -> list[str]:
    with db.read() as session:
        return list(session.scalars(select(_sample.c.name).order_by(_sample.c.name)))


def _sample_object(name: str) -> _Sample:
    sample = _Sample()
    sample.name, sample.colour, sample.flag, sample.doc = name, Colour.RED, True, {}
    return sample


def test_a_savepoint_keeps_its_block_or_undoes_it_alone(sample_db):
    with sample_db.write() as session:
        connection = session.connection()
        direct.execute(connection, _INSERT, _row("before"))
        with direct.savepoint(session):
            direct.execute(connection, _INSERT, _row("kept"))
        with pytest.raises(RuntimeError), direct.savepoint(session):
            direct.execute(connection, _INSERT, _row("undone"))
            raise RuntimeError("the block fails")
        with direct.savepoint(session):
            direct.execute(connection, _INSERT, _row("outer"))
            with pytest.raises(exc.IntegrityError), direct.savepoint(session):
                direct.execute(connection, _INSERT, _row("inner"))
                direct.execute(connection, _INSERT, _row("kept"))  # a duplicate: the driver fails
        direct.execute(
            connection, _INSERT, _row("after")
        )  # the transaction goes on (PostgreSQL too)
    assert _names(sample_db) == ["after", "before", "kept", "outer"]


def test_a_savepoint_flushes_orm_work_inside_it_and_forgets_it_when_undone(sample_db):
    with sample_db.write() as session:
        with direct.savepoint(session):
            session.add(_sample_object("added"))
        assert not session.new  # flushed before the RELEASE, so inside the savepoint
        session.expunge_all()
        with pytest.raises(RuntimeError), direct.savepoint(session):
            session.add(_sample_object("flushed then undone"))
            session.flush()
            raise RuntimeError("the block fails")
        # The rolled-back object is not in the session any more: the commit cannot bring it back.
        assert not session.identity_map and not session.new
    assert _names(sample_db) == ["added"]


def test_a_session_holding_objects_gets_the_orm_savepoint(sample_db):
    with sample_db.write() as session:
        session.add(_sample_object("held"))
    with sample_db.write() as session:
        held = session.scalars(select(_Sample)).one()
        with pytest.raises(RuntimeError), direct.savepoint(session):
            held.colour = Colour.BLUE
            session.flush()
            raise RuntimeError("the block fails")
        # begin_nested's rollback expired the object: it reads what the database holds.
        assert held.colour is Colour.RED
    assert _names(sample_db) == ["held"]
