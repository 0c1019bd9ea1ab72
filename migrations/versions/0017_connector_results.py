"""connector results: what other departments' systems answered, per draft or application

Revision ID: 0017_connector_results
Revises: 0016_plugin_health
Create Date: 2026-12-03 07:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0017_connector_results'
down_revision = '0016_plugin_health'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'connector_result',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('draft_id', sa.Integer(), nullable=True),
        sa.Column('application_id', sa.Integer(), nullable=True),
        sa.Column('service_code', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column('connector', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('query_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('purpose', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('person', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('params_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('values', sa.JSON(), nullable=True),
        sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('error', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column('transient', sa.Boolean(), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('fetched_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('checked_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.CheckConstraint("status IN ('ok', 'none', 'unverified')",
                           name='ck_connector_result_status'),
        sa.CheckConstraint("purpose IN ('prefill', 'verify')", name='ck_connector_result_purpose'),
        sa.ForeignKeyConstraint(['application_id'], ['application.id']),
        sa.ForeignKeyConstraint(['draft_id'], ['draft.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('connector_result', schema=None) as batch_op:
        batch_op.create_index('ix_connector_result_application',
                              ['application_id', 'connector', 'query_id'], unique=False)
        batch_op.create_index('ix_connector_result_draft', ['draft_id', 'connector', 'query_id'],
                              unique=False)
        batch_op.create_index('ix_connector_result_failed', ['status', 'checked_at'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('connector_result', schema=None) as batch_op:
        batch_op.drop_index('ix_connector_result_failed')
        batch_op.drop_index('ix_connector_result_draft')
        batch_op.drop_index('ix_connector_result_application')
    op.drop_table('connector_result')
