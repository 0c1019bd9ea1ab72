"""plugin health: plugin_event (application events waiting for plugins), plugin_health (each
plugin hook's last failure)

Revision ID: 0016_plugin_health
Revises: 0014_dashboards
Create Date: 2026-12-03 07:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0016_plugin_health'
down_revision = '0014_dashboards'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('plugin_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('reference', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('service', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=150), nullable=True),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('plugin_event', schema=None) as batch_op:
        batch_op.create_index('ix_plugin_event_due', ['next_attempt_at'], unique=False)

    op.create_table('plugin_health',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plugin', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('hook', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('last_failure_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('last_success_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('plugin', 'hook')
    )


def downgrade() -> None:
    op.drop_table('plugin_health')
    with op.batch_alter_table('plugin_event', schema=None) as batch_op:
        batch_op.drop_index('ix_plugin_event_due')
    op.drop_table('plugin_event')
