"""review inbox: an index for "done by me" (done_by, done_at)

Revision ID: 0007_web
Revises: 0006
Create Date: 2026-12-02 13:30:00
"""

from __future__ import annotations

from alembic import op

revision = '0007_web'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('flow_task', schema=None) as batch_op:
        batch_op.create_index('ix_flow_task_done_by', ['done_by', 'done_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('flow_task', schema=None) as batch_op:
        batch_op.drop_index('ix_flow_task_done_by')
