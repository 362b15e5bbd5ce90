"""scheduler claims, run log and gaps

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('day_gap',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('local_date', sa.Date(), nullable=False),
    sa.Column('fetch_group', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['source_id'], ['source.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('source_id', 'local_date', 'fetch_group')
    )
    with op.batch_alter_table('day_gap', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_day_gap_source_id'), ['source_id'], unique=False)

    op.create_table('run_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('local_date', sa.Date(), nullable=False),
    sa.Column('fetch_group', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('calls', sa.Integer(), nullable=False),
    sa.Column('late', sa.Boolean(), nullable=False),
    sa.Column('estimated', sa.Boolean(), nullable=False),
    sa.Column('error', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('owner', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
    sa.ForeignKeyConstraint(['source_id'], ['source.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('run_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_run_log_source_id'), ['source_id'], unique=False)

    op.create_table('snapshot_claim',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('local_date', sa.Date(), nullable=False),
    sa.Column('owner', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['source_id'], ['source.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('source_id', 'local_date')
    )
    with op.batch_alter_table('snapshot_claim', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_snapshot_claim_source_id'), ['source_id'], unique=False)

    with op.batch_alter_table('quota_call', schema=None) as batch_op:
        batch_op.add_column(sa.Column('owner', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True))

    with op.batch_alter_table('source', schema=None) as batch_op:
        batch_op.add_column(sa.Column('complete_through', sa.Date(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('source', schema=None) as batch_op:
        batch_op.drop_column('complete_through')

    with op.batch_alter_table('quota_call', schema=None) as batch_op:
        batch_op.drop_column('owner')

    with op.batch_alter_table('snapshot_claim', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_snapshot_claim_source_id'))

    op.drop_table('snapshot_claim')
    with op.batch_alter_table('run_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_run_log_source_id'))

    op.drop_table('run_log')
    with op.batch_alter_table('day_gap', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_day_gap_source_id'))

    op.drop_table('day_gap')
