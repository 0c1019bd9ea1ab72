"""review inbox: partial indexes on unclaimed group tasks in the list's order

(department, role, due, created, id) for narrow memberships read per department, and (role,
due, created, id, department) for wide ones read in due order; both only over open, unclaimed,
non-cc tasks. They replace ix_flow_task_group_open (department, role, state, due), which only
the inbox used.

Revision ID: 0008_inbox
Revises: 0007_web
Create Date: 2026-12-02 14:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008_inbox'
down_revision = '0007_web'
branch_labels = None
depends_on = None

GROUP_OPEN = "state = 'open' AND assignee_id IS NULL AND kind <> 'cc'"


def upgrade() -> None:
    with op.batch_alter_table('flow_task', schema=None) as batch_op:
        batch_op.drop_index('ix_flow_task_group_open')
        batch_op.create_index(
            'ix_flow_task_group_due',
            ['candidate_department', 'candidate_role', 'due_at', 'created_at', 'id'],
            unique=False, postgresql_where=sa.text(GROUP_OPEN), sqlite_where=sa.text(GROUP_OPEN))
        batch_op.create_index(
            'ix_flow_task_group_role_due',
            ['candidate_role', 'due_at', 'created_at', 'id', 'candidate_department'],
            unique=False, postgresql_where=sa.text(GROUP_OPEN), sqlite_where=sa.text(GROUP_OPEN))


def downgrade() -> None:
    with op.batch_alter_table('flow_task', schema=None) as batch_op:
        batch_op.drop_index('ix_flow_task_group_role_due')
        batch_op.drop_index('ix_flow_task_group_due')
        batch_op.create_index('ix_flow_task_group_open',
                              ['candidate_department', 'candidate_role', 'state', 'due_at'],
                              unique=False)
