"""history series index

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 09:30:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("metric_row", schema=None) as batch_op:
        batch_op.create_index(
            "ix_metric_row_series", ["source_id", "fetch_group", "local_date"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("metric_row", schema=None) as batch_op:
        batch_op.drop_index("ix_metric_row_series")
