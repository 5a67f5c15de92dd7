"""Database triggers that make history tables append-only, for SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import DDL, Table, event

from wms.db.schema import APPEND_ONLY_TABLES, metadata

__all__ = ["APPEND_ONLY_TABLES", "create_statements", "drop_statements"]

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION wms_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'table % is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'restrict_violation';
END $$
"""


def create_statements(dialect: str, table: str) -> list[str]:
    """SQL that makes ``table`` refuse UPDATE and DELETE on the given dialect."""
    if dialect == "sqlite":
        return [
            f"CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, 'table {table} is append-only: {op} refused'); END"
            for op in ("UPDATE", "DELETE")
        ]
    if dialect == "postgresql":
        return [
            PG_FUNCTION,
            f'CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON "{table}" '
            "FOR EACH ROW EXECUTE FUNCTION wms_refuse_change()",
            f'CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON "{table}" '
            "FOR EACH STATEMENT EXECUTE FUNCTION wms_refuse_change()",
        ]
    raise ValueError(f"unsupported database dialect {dialect!r}: use SQLite or PostgreSQL")


def drop_statements(dialect: str, table: str) -> list[str]:
    """SQL that removes what :func:`create_statements` made."""
    if dialect == "sqlite":
        return [f"DROP TRIGGER IF EXISTS {table}_no_{op}" for op in ("update", "delete")]
    return [
        f'DROP TRIGGER IF EXISTS {table}_append_only ON "{table}"',
        f'DROP TRIGGER IF EXISTS {table}_no_truncate ON "{table}"',
    ]


def _attach(table: Table) -> None:
    for dialect in ("sqlite", "postgresql"):
        for statement in create_statements(dialect, table.name):
            # DDL applies %-formatting; the PL/pgSQL body has literal % placeholders.
            ddl = DDL(statement.replace("%", "%%")).execute_if(dialect=dialect)  # type: ignore[no-untyped-call]
            event.listen(table, "after_create", ddl)


for _name in APPEND_ONLY_TABLES:
    _attach(metadata.tables[_name])
