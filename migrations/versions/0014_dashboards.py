"""dashboards: indexes on flow_event (type, at, instance_id), flow_deadline (scope, state, ended_at)

The dashboards' correction rate and reasons for return read flow_event by type (and for the
returns by time): without the first index both scanned the whole table (EXPLAIN QUERY PLAN:
"SCAN flow_event", 405,565 rows for 100,000 applications; bench/dashboards.py). The handling
time reads the statutory clocks that ended in a range: without the second, SQLite took every
done clock of every scope through ix_flow_deadline_running_due (state=?) (238 ms, 146 ms with
it, 40,000 applications).

Revision ID: 0014_dashboards
Revises: 0013_staff
Create Date: 2026-12-03 03:20:00
"""

from __future__ import annotations

from alembic import op

revision = '0014_dashboards'
down_revision = '0013_staff'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('flow_event', schema=None) as batch_op:
        batch_op.create_index('ix_flow_event_type_at', ['type', 'at', 'instance_id'],
                              unique=False)
    with op.batch_alter_table('flow_deadline', schema=None) as batch_op:
        batch_op.create_index('ix_flow_deadline_closed', ['scope', 'state', 'ended_at'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('flow_deadline', schema=None) as batch_op:
        batch_op.drop_index('ix_flow_deadline_closed')
    with op.batch_alter_table('flow_event', schema=None) as batch_op:
        batch_op.drop_index('ix_flow_event_type_at')
