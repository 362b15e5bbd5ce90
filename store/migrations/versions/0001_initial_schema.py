"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('quota_call',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('utc_day', sa.Date(), nullable=False),
    sa.Column('slot', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=True),
    sa.Column('fetch_group', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('purpose', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('reserved_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('status_code', sa.Integer(), nullable=True),
    sa.Column('error', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('project_key', 'utc_day', 'slot')
    )
    op.create_table('workspace',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('timezone', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('source',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('label', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('project_key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('token_fingerprint', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('token_encrypted', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('status_reason', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('source', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_source_project_key'), ['project_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_source_workspace_id'), ['workspace_id'], unique=False)

    op.create_table('raw_response',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('quota_call_id', sa.Integer(), nullable=True),
    sa.Column('fetch_group', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('body_gz', sa.LargeBinary(), nullable=False),
    sa.Column('body_bytes', sa.Integer(), nullable=False),
    sa.Column('body_sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.ForeignKeyConstraint(['source_id'], ['source.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('raw_response', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_raw_response_quota_call_id'), ['quota_call_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_raw_response_source_id'), ['source_id'], unique=False)

    op.create_table('snapshot',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('local_date', sa.Date(), nullable=False),
    sa.Column('fetch_group', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('dimensions', sa.JSON(), nullable=False),
    sa.Column('num_days', sa.Integer(), nullable=False),
    sa.Column('window_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('window_end', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('late', sa.Boolean(), nullable=False),
    sa.Column('estimated', sa.Boolean(), nullable=False),
    sa.Column('raw_response_id', sa.Integer(), nullable=True),
    sa.Column('row_count', sa.Integer(), nullable=False),
    sa.Column('ranked_count', sa.Integer(), nullable=False),
    sa.Column('truncated_blocks', sa.JSON(), nullable=False),
    sa.Column('unknown_blocks', sa.JSON(), nullable=False),
    sa.Column('warnings', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['source_id'], ['source.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('source_id', 'local_date', 'fetch_group')
    )
    with op.batch_alter_table('snapshot', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_snapshot_source_id'), ['source_id'], unique=False)

    op.create_table('metric_row',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('snapshot_id', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('local_date', sa.Date(), nullable=False),
    sa.Column('fetch_group', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('dimension_hash', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('url', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('url_raw', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('device', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('country', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('browser', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('os', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('medium', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('campaign', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('sessions', sa.Integer(), nullable=True),
    sa.Column('bot_sessions', sa.Integer(), nullable=True),
    sa.Column('distinct_users', sa.Integer(), nullable=True),
    sa.Column('pages_per_session', sa.Float(), nullable=True),
    sa.Column('scroll_depth', sa.Float(), nullable=True),
    sa.Column('engagement_time_ms', sa.Integer(), nullable=True),
    sa.Column('total_time_ms', sa.Integer(), nullable=True),
    sa.Column('dead_clicks', sa.Integer(), nullable=True),
    sa.Column('dead_clicks_sessions_pct', sa.Float(), nullable=True),
    sa.Column('dead_clicks_pages', sa.Integer(), nullable=True),
    sa.Column('excessive_scroll', sa.Integer(), nullable=True),
    sa.Column('excessive_scroll_sessions_pct', sa.Float(), nullable=True),
    sa.Column('excessive_scroll_pages', sa.Integer(), nullable=True),
    sa.Column('rage_clicks', sa.Integer(), nullable=True),
    sa.Column('rage_clicks_sessions_pct', sa.Float(), nullable=True),
    sa.Column('rage_clicks_pages', sa.Integer(), nullable=True),
    sa.Column('quick_backs', sa.Integer(), nullable=True),
    sa.Column('quick_backs_sessions_pct', sa.Float(), nullable=True),
    sa.Column('quick_backs_pages', sa.Integer(), nullable=True),
    sa.Column('script_errors', sa.Integer(), nullable=True),
    sa.Column('script_errors_sessions_pct', sa.Float(), nullable=True),
    sa.Column('script_errors_pages', sa.Integer(), nullable=True),
    sa.Column('error_clicks', sa.Integer(), nullable=True),
    sa.Column('error_clicks_sessions_pct', sa.Float(), nullable=True),
    sa.Column('error_clicks_pages', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['snapshot_id'], ['snapshot.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('source_id', 'local_date', 'fetch_group', 'dimension_hash')
    )
    with op.batch_alter_table('metric_row', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_metric_row_snapshot_id'), ['snapshot_id'], unique=False)

    op.create_table('ranked_row',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('snapshot_id', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('local_date', sa.Date(), nullable=False),
    sa.Column('fetch_group', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('list_name', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('url', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('count', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['snapshot_id'], ['snapshot.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('snapshot_id', 'list_name', 'rank')
    )
    with op.batch_alter_table('ranked_row', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ranked_row_snapshot_id'), ['snapshot_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('ranked_row', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ranked_row_snapshot_id'))

    op.drop_table('ranked_row')
    with op.batch_alter_table('metric_row', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_metric_row_snapshot_id'))

    op.drop_table('metric_row')
    with op.batch_alter_table('snapshot', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_snapshot_source_id'))

    op.drop_table('snapshot')
    with op.batch_alter_table('raw_response', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_raw_response_source_id'))
        batch_op.drop_index(batch_op.f('ix_raw_response_quota_call_id'))

    op.drop_table('raw_response')
    with op.batch_alter_table('source', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_source_workspace_id'))
        batch_op.drop_index(batch_op.f('ix_source_project_key'))

    op.drop_table('source')
    op.drop_table('workspace')
    op.drop_table('quota_call')
