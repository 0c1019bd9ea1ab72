"""intake follow-ups: the statuses result_held (容缺: an approving end waiting for the promised
material) and revoked (an approval revoked for a broken 告知承诺); intake_hold state overdue;
the required materials a counter clerk marked 容缺 (draft.deferred_materials) and those an
application was sent without (application.outstanding_materials)

Revision ID: 0026_intake_followups
Revises: 0025_bundles
Create Date: 2026-12-03 16:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0026_intake_followups'
down_revision = '0025_bundles'
branch_labels = None
depends_on = None

_STATUSES = ("'draft', 'submitted', 'correction_requested', 'accepted', 'in_progress', "
             "'publicizing', 'waiting_external', 'returned', 'approved', 'rejected', 'withdrawn', "
             "'abandoned', 'completed'")
_NEW_STATUSES = _STATUSES + ", 'result_held', 'revoked'"
# (table, constraint, column, old values, new values)
_CHECKS = (
    ('application', 'ck_application_status', 'status', _STATUSES, _NEW_STATUSES),
    ('flow_instance', 'ck_flow_instance_status', 'status', _STATUSES, _NEW_STATUSES),
    ('intake_hold', 'ck_intake_hold_state', 'state', "'pending', 'received'",
     "'pending', 'received', 'overdue'"),
)


def _replace(new: bool) -> None:
    for table, name, column, old_values, new_values in _CHECKS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(name, type_='check')
            batch_op.create_check_constraint(
                name, f"{column} IN ({new_values if new else old_values})")


def upgrade() -> None:
    _replace(True)
    with op.batch_alter_table('draft', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deferred_materials', sa.JSON(), nullable=False,
                                      server_default='[]'))
    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.add_column(sa.Column('outstanding_materials', sa.JSON(), nullable=False,
                                      server_default='[]'))


def downgrade() -> None:
    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.drop_column('outstanding_materials')
    with op.batch_alter_table('draft', schema=None) as batch_op:
        batch_op.drop_column('deferred_materials')
    op.execute("UPDATE application SET status = 'approved' WHERE status = 'revoked'")
    op.execute("UPDATE flow_instance SET status = 'approved' WHERE status = 'revoked'")
    op.execute("UPDATE application SET status = 'in_progress' WHERE status = 'result_held'")
    op.execute("UPDATE flow_instance SET status = 'in_progress' WHERE status = 'result_held'")
    op.execute("UPDATE intake_hold SET state = 'pending' WHERE state = 'overdue'")
    _replace(False)
