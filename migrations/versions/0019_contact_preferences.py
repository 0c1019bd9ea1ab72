"""contact preferences: whether a person wants notifications by email and by SMS

Revision ID: 0019_contact_preferences
Revises: 0018_notifications
Create Date: 2026-12-03 09:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0019_contact_preferences'
down_revision = '0018_notifications'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Existing accounts keep what they had: a channel with an address or number is on.
    with op.batch_alter_table('user_account') as batch:
        batch.add_column(sa.Column('notify_email', sa.Boolean(), nullable=False,
                                   server_default=sa.true()))
        batch.add_column(sa.Column('notify_sms', sa.Boolean(), nullable=False,
                                   server_default=sa.true()))
    with op.batch_alter_table('user_account') as batch:
        batch.alter_column('notify_email', server_default=None)
        batch.alter_column('notify_sms', server_default=None)


def downgrade() -> None:
    with op.batch_alter_table('user_account') as batch:
        batch.drop_column('notify_sms')
        batch.drop_column('notify_email')
