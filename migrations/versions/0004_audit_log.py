"""audit log of supervisor actions

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


def downgrade() -> None:
    """Revert this revision."""
    dialect = op.get_bind().dialect.name
    for statement in triggers.drop_statements(dialect, TABLE):
        op.execute(statement)
    op.drop_index(op.f("ix_audit_log_user_id"), table_name=TABLE)
    op.drop_index("ix_audit_log_at", table_name=TABLE)
    op.drop_table(TABLE)
