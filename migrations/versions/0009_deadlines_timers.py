"""time: deadlines (flow_deadline) and durable timers (flow_timer)

A deadline is one running clock of an instance (a task's or a statutory period of the
application), with pause, restart and extension; a timer is something the worker does at its
due time (remind, act on a timeout, deem an intake accepted), fired once.

Revision ID: 0009_time
Revises: 0008_inbox
Create Date: 2026-12-02 17:10:33.964894
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0009_time'
down_revision = '0008_inbox'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('flow_deadline',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=True),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('scope', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('task_seq', sa.Integer(), nullable=True),
    sa.Column('node', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('purpose', sqlmodel.sql.sqltypes.AutoString(length=48), nullable=False),
    sa.Column('unit', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.Column('extension_limit', sa.Integer(), nullable=False),
    sa.Column('extended', sa.Integer(), nullable=False),
    sa.Column('calendar_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('calendar_version_id', sa.Integer(), nullable=True),
    sa.Column('started_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('segment_start', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('elapsed', sa.Integer(), nullable=False),
    sa.Column('due_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('overdue', sa.Boolean(), nullable=False),
    sa.Column('restarts', sa.Integer(), nullable=False),
    sa.Column('paused_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('pause_reason', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('pause_note', sa.Text(), nullable=False),
    sa.Column('pending_extension', sa.JSON(), nullable=True),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('ended_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.CheckConstraint("state IN ('running', 'paused', 'done', 'cancelled')", name='ck_flow_deadline_state'),
    sa.CheckConstraint("unit IN ('working_days', 'natural_days', 'hours', 'working_hours')", name='ck_flow_deadline_unit'),
    sa.CheckConstraint('amount > 0', name='ck_flow_deadline_amount'),
    sa.ForeignKeyConstraint(['calendar_version_id'], ['definition_version.id'], ),
    sa.ForeignKeyConstraint(['instance_id'], ['flow_instance.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('instance_id', 'seq')
    )
    with op.batch_alter_table('flow_deadline', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_flow_deadline_instance_id'), ['instance_id'], unique=False)
        batch_op.create_index('ix_flow_deadline_running_due', ['state', 'due_at'], unique=False)

    op.create_table('flow_timer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=True),
    sa.Column('deadline_seq', sa.Integer(), nullable=True),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=48), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('due_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('lease_until', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('claimed_by', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('fired_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.CheckConstraint("state IN ('pending', 'claimed', 'done', 'cancelled', 'failed')", name='ck_flow_timer_state'),
    sa.ForeignKeyConstraint(['instance_id'], ['flow_instance.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key')
    )
    with op.batch_alter_table('flow_timer', schema=None) as batch_op:
        batch_op.create_index('ix_flow_timer_due', ['state', 'due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_flow_timer_instance_id'), ['instance_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('flow_timer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_flow_timer_instance_id'))
        batch_op.drop_index('ix_flow_timer_due')

    op.drop_table('flow_timer')
    with op.batch_alter_table('flow_deadline', schema=None) as batch_op:
        batch_op.drop_index('ix_flow_deadline_running_due')
        batch_op.drop_index(batch_op.f('ix_flow_deadline_instance_id'))

    op.drop_table('flow_deadline')
