"""alert mute, Clarity project id, remembered channel project

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 12:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("source", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "clarity_project_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True
            )
        )
    with op.batch_alter_table("alert_rule", schema=None) as batch_op:
        batch_op.add_column(sa.Column("muted_until", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "channel_choice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspace.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["source_id"], ["source.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("workspace_id", "channel"),
    )
    with op.batch_alter_table("channel_choice", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_channel_choice_workspace_id"), ["workspace_id"])
        batch_op.create_index(batch_op.f("ix_channel_choice_source_id"), ["source_id"])


def downgrade() -> None:
    with op.batch_alter_table("channel_choice", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_channel_choice_source_id"))
        batch_op.drop_index(batch_op.f("ix_channel_choice_workspace_id"))
    op.drop_table("channel_choice")
    with op.batch_alter_table("alert_rule", schema=None) as batch_op:
        batch_op.drop_column("muted_until")
    with op.batch_alter_table("source", schema=None) as batch_op:
        batch_op.drop_column("clarity_project_id")
