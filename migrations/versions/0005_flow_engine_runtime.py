"""flow engine runtime: instances, tokens, tasks, events, outbox, messages, delegations,
answer versions; applications and drafts pin a flow version; application status constrained

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 13:13:14.792038
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

_APPLICATION_STATUS_CHECK = (
    "status IN ('draft', 'submitted', 'correction_requested', 'accepted', 'in_progress', "
    "'publicizing', 'waiting_external', 'returned', 'approved', 'rejected', 'withdrawn', "
    "'abandoned', 'completed')")


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def upgrade() -> None:
    op.create_table('flow_delegation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('delegate_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('ends_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('cancelled', sa.Boolean(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.CheckConstraint('ends_at > starts_at', name='ck_flow_delegation_window'),
    sa.ForeignKeyConstraint(['delegate_id'], ['user_account.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('flow_delegation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_flow_delegation_user_id'), ['user_id'], unique=False)

    op.create_table('answer_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['application.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('application_id', 'number')
    )
    with op.batch_alter_table('answer_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_answer_version_application_id'), ['application_id'], unique=False)

    op.create_table('flow_instance',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=True),
    sa.Column('flow_code', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('flow_version_id', sa.Integer(), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('applicant_id', sa.Integer(), nullable=True),
    sa.Column('clerk_id', sa.Integer(), nullable=True),
    sa.Column('department_code', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('vars', sa.JSON(), nullable=False),
    sa.Column('next_seq', sa.Integer(), nullable=False),
    sa.Column('clock_paused', sa.Boolean(), nullable=False),
    sa.Column('overdue', sa.Boolean(), nullable=False),
    sa.Column('started_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('ended_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("status IN ('draft', 'submitted', 'correction_requested', 'accepted', 'in_progress', 'publicizing', 'waiting_external', 'returned', 'approved', 'rejected', 'withdrawn', 'abandoned', 'completed')", name='ck_flow_instance_status'),
    sa.ForeignKeyConstraint(['applicant_id'], ['user_account.id'], ),
    sa.ForeignKeyConstraint(['application_id'], ['application.id'], ),
    sa.ForeignKeyConstraint(['clerk_id'], ['user_account.id'], ),
    sa.ForeignKeyConstraint(['flow_version_id'], ['definition_version.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('application_id')
    )
    op.create_table('flow_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=True),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('type', sqlmodel.sql.sqltypes.AutoString(length=48), nullable=False),
    sa.Column('node', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('task_seq', sa.Integer(), nullable=True),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('on_behalf_of', sa.Integer(), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['user_account.id'], ),
    sa.ForeignKeyConstraint(['instance_id'], ['flow_instance.id'], ),
    sa.ForeignKeyConstraint(['on_behalf_of'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('instance_id', 'seq')
    )
    with op.batch_alter_table('flow_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_flow_event_instance_id'), ['instance_id'], unique=False)

    op.create_table('flow_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('message_key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('sender', sqlmodel.sql.sqltypes.AutoString(length=150), nullable=False),
    sa.Column('received_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('duplicates', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['instance_id'], ['flow_instance.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('instance_id', 'name', 'message_key')
    )
    with op.batch_alter_table('flow_message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_flow_message_instance_id'), ['instance_id'], unique=False)

    op.create_table('flow_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=True),
    sa.Column('token_seq', sa.Integer(), nullable=False),
    sa.Column('node', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('hook', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('done_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.CheckConstraint("state IN ('pending', 'done', 'failed', 'cancelled')", name='ck_flow_outbox_state'),
    sa.ForeignKeyConstraint(['instance_id'], ['flow_instance.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('flow_outbox', schema=None) as batch_op:
        batch_op.create_index('ix_flow_outbox_due', ['state', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_flow_outbox_instance_id'), ['instance_id'], unique=False)

    op.create_table('flow_task',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=True),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('token_seq', sa.Integer(), nullable=False),
    sa.Column('node', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('candidate_role', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('candidate_department', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('on_behalf_of', sa.Integer(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('added_by', sa.Integer(), nullable=True),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('claimed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('done_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('done_by', sa.Integer(), nullable=True),
    sa.Column('due_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("state IN ('open', 'claimed', 'done', 'cancelled', 'transferred', 'expired')", name='ck_flow_task_state'),
    sa.ForeignKeyConstraint(['added_by'], ['user_account.id'], ),
    sa.ForeignKeyConstraint(['assignee_id'], ['user_account.id'], ),
    sa.ForeignKeyConstraint(['done_by'], ['user_account.id'], ),
    sa.ForeignKeyConstraint(['instance_id'], ['flow_instance.id'], ),
    sa.ForeignKeyConstraint(['on_behalf_of'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('instance_id', 'seq')
    )
    with op.batch_alter_table('flow_task', schema=None) as batch_op:
        batch_op.create_index('ix_flow_task_assignee_open', ['assignee_id', 'state', 'due_at'], unique=False)
        batch_op.create_index('ix_flow_task_group_open', ['candidate_department', 'candidate_role', 'state', 'due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_flow_task_instance_id'), ['instance_id'], unique=False)

    op.create_table('flow_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=True),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('node', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('split_seq', sa.Integer(), nullable=True),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('arrived_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('left_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.CheckConstraint("state IN ('active', 'waiting', 'done', 'cancelled')", name='ck_flow_token_state'),
    sa.ForeignKeyConstraint(['instance_id'], ['flow_instance.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('instance_id', 'seq')
    )
    with op.batch_alter_table('flow_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_flow_token_instance_id'), ['instance_id'], unique=False)

    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.add_column(sa.Column('flow_version_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('answers_version', sa.Integer(), nullable=False,
                                      server_default='1'))
        batch_op.create_foreign_key('fk_application_flow_version', 'definition_version',
                                    ['flow_version_id'], ['id'])
        batch_op.create_check_constraint('ck_application_status', _APPLICATION_STATUS_CHECK)

    with op.batch_alter_table('draft', schema=None) as batch_op:
        batch_op.add_column(sa.Column('flow_version_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_draft_flow_version', 'definition_version',
                                    ['flow_version_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('draft', schema=None) as batch_op:
        if not _sqlite():  # SQLite's batch copy drops the key with its column
            batch_op.drop_constraint('fk_draft_flow_version', type_='foreignkey')
        batch_op.drop_column('flow_version_id')

    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.drop_constraint('ck_application_status', type_='check')
        if not _sqlite():
            batch_op.drop_constraint('fk_application_flow_version', type_='foreignkey')
        batch_op.drop_column('answers_version')
        batch_op.drop_column('flow_version_id')

    with op.batch_alter_table('flow_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_flow_token_instance_id'))

    op.drop_table('flow_token')
    with op.batch_alter_table('flow_task', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_flow_task_instance_id'))
        batch_op.drop_index('ix_flow_task_group_open')
        batch_op.drop_index('ix_flow_task_assignee_open')

    op.drop_table('flow_task')
    with op.batch_alter_table('flow_outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_flow_outbox_instance_id'))
        batch_op.drop_index('ix_flow_outbox_due')

    op.drop_table('flow_outbox')
    with op.batch_alter_table('flow_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_flow_message_instance_id'))

    op.drop_table('flow_message')
    with op.batch_alter_table('flow_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_flow_event_instance_id'))

    op.drop_table('flow_event')
    op.drop_table('flow_instance')
    with op.batch_alter_table('answer_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_answer_version_application_id'))

    op.drop_table('answer_version')
    with op.batch_alter_table('flow_delegation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_flow_delegation_user_id'))

    op.drop_table('flow_delegation')
