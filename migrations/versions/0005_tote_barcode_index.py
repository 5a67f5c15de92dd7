"""index on the tote barcode, which every tote scan looks up

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 02:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_index("ix_batch_order_tote_barcode", "batch_order", ["tote_barcode"])


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_batch_order_tote_barcode", table_name="batch_order")
