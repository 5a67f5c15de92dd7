"""audit log of supervisor actions, and time indexes on the event log for the KPIs

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from wms.db import triggers

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "audit_log"
# (name, table, columns): the KPIs read the event log by time range.
TIME_INDEXES = (
    ("ix_movement_kind_created_at", "movement", ["kind", "created_at"]),
    ("ix_scan_event_received_at", "scan_event", ["received_at"]),
    ("ix_pick_task_done_at", "pick_task", ["done_at"]),
    ("ix_order_event_status_at", "order_event", ["status", "at"]),
)


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        TABLE,
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
            autoincrement=True,
        ),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("username", sa.String(length=40), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("target", sa.String(length=80), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name=op.f("fk_audit_log_user_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index("ix_audit_log_at", TABLE, ["at"], unique=False)
    op.create_index(op.f("ix_audit_log_user_id"), TABLE, ["user_id"], unique=False)
    dialect = op.get_bind().dialect.name
    for statement in triggers.create_statements(dialect, TABLE):
        op.execute(statement)
    for name, table, columns in TIME_INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    """Revert this revision."""
    for name, table, _columns in TIME_INDEXES:
        op.drop_index(name, table_name=table)
    dialect = op.get_bind().dialect.name
    for statement in triggers.drop_statements(dialect, TABLE):
        op.execute(statement)
    op.drop_index(op.f("ix_audit_log_user_id"), table_name=TABLE)
    op.drop_index("ix_audit_log_at", table_name=TABLE)
    op.drop_table(TABLE)
