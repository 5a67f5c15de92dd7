"""Hot-path Core statements run straight on the driver's cursor, typed as SQLAlchemy types them.

``Connection.execute`` costs about 80 µs of Python per statement (execution context, cache
key, result object) against 10-20 µs for SQLite's own work, and a handheld pick runs about
twenty statements: at 250 scans/s that overhead alone was a third of a core. Here a Core
statement is compiled once per dialect by SQLAlchemy, and each call is one execute on the
DBAPI cursor of the session's connection, inside its transaction and savepoints. Parameters
and result columns keep SQLAlchemy's own type processing (enums, booleans, date-times,
JSON), so the rows read and written are the same as through ``Connection.execute``; tests
compare the two on SQLite and PostgreSQL.

Only statements without expanding ``IN`` parameters are accepted (write ``IN`` over a
fixed list as ``OR``), because their SQL is rendered per call.
"""

from __future__ import annotations

import itertools
from collections import namedtuple
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, exc
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

_Processor = Callable[[Any], Any] | None


class Rows:
    """What one statement returned: its rows (named tuples) and the rows it changed."""

    __slots__ = ("_rows", "rowcount")

    def __init__(self, rows: list[Any], rowcount: int) -> None:
        self._rows = rows
        self.rowcount = rowcount

    def __iter__(self) -> Iterator[Any]:
        return iter(self._rows)

    def all(self) -> list[Any]:
        """Every row."""
        return self._rows

    def first(self) -> Any:
        """The first row, or None."""
        return self._rows[0] if self._rows else None

    def one(self) -> Any:
        """The only row; an error when there is none or more than one."""
        if len(self._rows) != 1:
            raise exc.NoResultFound if not self._rows else exc.MultipleResultsFound
        return self._rows[0]

    def one_or_none(self) -> Any:
        """The only row, or None; an error when there are several."""
        if len(self._rows) > 1:
            raise exc.MultipleResultsFound
        return self._rows[0] if self._rows else None

    def scalar_one(self) -> Any:
        """The first column of the only row."""
        return self.one()[0]

    def scalar(self) -> Any:
        """The first column of the first row, or None."""
        return self._rows[0][0] if self._rows else None


class _Plan:
    """One statement compiled for one dialect, with its parameter and column processing."""

    def __init__(self, statement: ClauseElement, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        assert isinstance(compiled, SQLCompiler)
        by_name = {name: bind for bind, name in compiled.bind_names.items()}
        if any(bind.expanding for bind in by_name.values()):
            raise ValueError("an expanding IN parameter is rendered per call: write it as OR")
        self.sql = compiled.string
        self.positional = compiled.positional
        names: Sequence[str] = compiled.positiontup or list(by_name)
        # Per parameter: (name, its processor), or (None, the processed constant).
        self.slots: list[tuple[str | None, Any]] = []
        for name in names:
            bind = by_name[name]
            process = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if bind.required:
                self.slots.append((name, process))
            else:
                value = bind.effective_value
                self.slots.append((None, process(value) if process is not None else value))
        self.names = names
        columns = list(getattr(statement, "selected_columns", None) or ())
        if not columns:
            columns = list(getattr(statement, "exported_columns", None) or ())
        self.columns = columns
        self.row: Any = (
            namedtuple("Row", [c.key or f"c{i}" for i, c in enumerate(columns)], rename=True)
            if columns
            else None
        )
        self.results: list[_Processor] | None = None  # set at the first execution

    def arguments(self, params: Mapping[str, Any]) -> Any:
        """The driver's parameters: a sequence (qmark) or a mapping (pyformat)."""
        values = []
        for name, process in self.slots:
            if name is None:
                values.append(process)
            else:
                value = params[name]
                values.append(process(value) if process is not None else value)
        if self.positional:
            return values
        return dict(zip(self.names, values, strict=True))

    def result_processors(self, dialect: Dialect, description: Sequence[Any]) -> list[_Processor]:
        """SQLAlchemy's processor of each result column (None where the driver's value fits)."""
        return [
            column.type.dialect_impl(dialect).result_processor(dialect, entry[1])
            for column, entry in zip(self.columns, description, strict=True)
        ]


# Statements are module constants: plans are kept per (statement, dialect) for the process.
_PLANS: dict[tuple[int, str], tuple[ClauseElement, _Plan]] = {}
_MOST_PLANS = 1000


def _plan(statement: ClauseElement, dialect: Dialect) -> _Plan:
    key = (id(statement), dialect.name)
    found = _PLANS.get(key)
    if found is None or found[0] is not statement:
        if len(_PLANS) >= _MOST_PLANS:
            _PLANS.clear()  # statements built per call would otherwise pile up here
        found = (statement, _Plan(statement, dialect))
        _PLANS[key] = found
    return found[1]


def execute(
    connection: Connection, statement: ClauseElement, params: Mapping[str, Any] | None = None
) -> Rows:
    """Run ``statement`` on ``connection``'s driver cursor, in its current transaction."""
    dialect = connection.dialect
    plan = _plan(statement, dialect)
    arguments = plan.arguments(params or {})
    cursor = connection.connection.cursor()
    # The engine's cursor events still see each statement (tests pause or count with them);
    # listeners are told, not asked: a retval=True listener cannot change what is run.
    dispatch = connection.dispatch
    try:
        if dispatch.before_cursor_execute:
            dispatch.before_cursor_execute(connection, cursor, plan.sql, arguments, None, False)
        cursor.execute(plan.sql, arguments)
        if dispatch.after_cursor_execute:
            dispatch.after_cursor_execute(connection, cursor, plan.sql, arguments, None, False)
        rows: list[Any] = []
        if cursor.description is not None and plan.row is not None:
            processors = plan.results
            if processors is None:
                processors = plan.results = plan.result_processors(dialect, cursor.description)
            make = plan.row._make
            if any(processors):
                rows = [
                    make(
                        [p(v) if p is not None else v for p, v in zip(processors, raw, strict=True)]
                    )
                    for raw in cursor.fetchall()
                ]
            else:
                rows = [make(raw) for raw in cursor.fetchall()]
        return Rows(rows, cursor.rowcount)
    except dialect.loaded_dbapi.Error as error:
        # The same exception classes as through Connection.execute (IntegrityError, ...).
        raise exc.DBAPIError.instance(
            plan.sql, arguments, error, dialect.loaded_dbapi.Error, dialect=dialect
        ) from error
    finally:
        cursor.close()


_SAVEPOINTS = itertools.count(1)


@contextmanager
def savepoint(session: Session) -> Iterator[None]:
    """A SAVEPOINT around the block, run on the driver's cursor: rolled back if the block raises.

    ``Session.begin_nested`` costs about 150 µs of Python for its SAVEPOINT and RELEASE,
    a fifth of a whole handheld scan. This one costs two driver calls. It is taken only
    while the session holds no ORM objects, so there is nothing of the session's to roll
    back with it: what the block loaded or added is flushed before the RELEASE, and
    thrown away (expunged) when the block raises. A session that holds objects gets
    ``begin_nested`` as before.
    """
    if session.identity_map or session.new or session.deleted:
        with session.begin_nested():
            yield
        return
    connection = session.connection()
    cursor = connection.connection.cursor()
    name = f"wms_savepoint_{next(_SAVEPOINTS)}"
    try:
        cursor.execute(f"SAVEPOINT {name}")
        try:
            yield
            session.flush()  # what the block added belongs inside the savepoint
        except BaseException:
            cursor.execute(f"ROLLBACK TO SAVEPOINT {name}")
            cursor.execute(f"RELEASE SAVEPOINT {name}")
            # Whatever the block loaded or added is now rolled back: the session forgets it.
            session.expunge_all()
            raise
        cursor.execute(f"RELEASE SAVEPOINT {name}")
    finally:
        cursor.close()
