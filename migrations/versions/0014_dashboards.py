"""dashboards: an index on flow_event (type, at, instance_id)

The dashboards' correction rate and reasons for return read flow_event by type (and for the
returns by time): without it both scanned the whole table (EXPLAIN QUERY PLAN: "SCAN
flow_event", 405,565 rows for 100,000 applications; bench/dashboards.py).

Revision ID: 0014_dashboards
Revises: 0011_ledger
Create Date: 2026-12-03 03:20:00
"""

from __future__ import annotations

from alembic import op

revision = '0014_dashboards'
down_revision = '0011_ledger'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('flow_event', schema=None) as batch_op:
        batch_op.create_index('ix_flow_event_type_at', ['type', 'at', 'instance_id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('flow_event', schema=None) as batch_op:
        batch_op.drop_index('ix_flow_event_type_at')
