"""notifications: the outbox of messages to people (site, email, sms) and where to reach them

Revision ID: 0018_notifications
Revises: 0017_connector_results
Create Date: 2026-12-03 07:35:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0018_notifications'
down_revision = '0017_connector_results'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('user_account') as batch:
        batch.add_column(sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=254),
                                   nullable=True))
        batch.add_column(sa.Column('phone', sqlmodel.sql.sqltypes.AutoString(length=32),
                                   nullable=True))
        batch.add_column(sa.Column('language', sqlmodel.sql.sqltypes.AutoString(length=8),
                                   nullable=True))
    op.create_table(
        'notification',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('reference', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('recipient', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column('language', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column('subject', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('link', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('last_error', sa.Text(), nullable=False),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('sent_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('read_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('key'),
    )
    op.create_index('ix_notification_due', 'notification', ['state', 'next_attempt_at'])
    op.create_index('ix_notification_inbox', 'notification', ['user_id', 'channel', 'state'])


def downgrade() -> None:
    op.drop_index('ix_notification_inbox', table_name='notification')
    op.drop_index('ix_notification_due', table_name='notification')
    op.drop_table('notification')
    with op.batch_alter_table('user_account') as batch:
        batch.drop_column('language')
        batch.drop_column('phone')
        batch.drop_column('email')
