"""intake_ops: decisions at intake (容缺受理 holds, 告知承诺 commitments, the credit bar list)
and the counter's queue numbers

Revision ID: 0024_intake_ops
Revises: 0023_counter_people
Create Date: 2026-12-03 12:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0024_intake_ops'
down_revision = '0023_counter_people'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'intake_hold',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('application_id', sa.Integer(), nullable=False),
        sa.Column('materials', sa.JSON(), nullable=False),
        sa.Column('due_on', sa.Date(), nullable=False),
        sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('created_by', sa.Integer(), nullable=True),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('received_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.CheckConstraint("state IN ('pending', 'received')", name='ck_intake_hold_state'),
        sa.ForeignKeyConstraint(['application_id'], ['application.id']),
        sa.ForeignKeyConstraint(['created_by'], ['user_account.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('application_id'),
    )
    op.create_table(
        'intake_commitment',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('application_id', sa.Integer(), nullable=False),
        sa.Column('department_code', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('confirmed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('recorded_by', sa.Integer(), nullable=True),
        sa.Column('verify_by', sa.Date(), nullable=False),
        sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('verified_by', sa.Integer(), nullable=True),
        sa.Column('verified_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('revoked', sa.Boolean(), nullable=False),
        sa.CheckConstraint("state IN ('pending', 'kept', 'broken')",
                           name='ck_intake_commitment_state'),
        sa.ForeignKeyConstraint(['application_id'], ['application.id']),
        sa.ForeignKeyConstraint(['recorded_by'], ['user_account.id']),
        sa.ForeignKeyConstraint(['verified_by'], ['user_account.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('application_id'),
    )
    op.create_index(op.f('ix_intake_commitment_department_code'), 'intake_commitment',
                    ['department_code'])
    op.create_table(
        'credit_bar',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('id_number', sqlmodel.sql.sqltypes.AutoString(length=18), nullable=False),
        sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('application_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('lifted_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['application_id'], ['application.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(op.f('ix_credit_bar_id_number'), 'credit_bar', ['id_number'])
    op.create_table(
        'queue_ticket',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('window', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('reference', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('taken_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('called_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('called_by', sa.Integer(), nullable=True),
        sa.CheckConstraint("state IN ('waiting', 'called', 'done', 'missed')",
                           name='ck_queue_ticket_state'),
        sa.ForeignKeyConstraint(['called_by'], ['user_account.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('window', 'day', 'number'),
    )
    op.create_index('ix_queue_ticket_waiting', 'queue_ticket', ['window', 'day', 'state'])
    op.create_index(op.f('ix_queue_ticket_called_by'), 'queue_ticket', ['called_by'])


def downgrade() -> None:
    op.drop_index(op.f('ix_queue_ticket_called_by'), table_name='queue_ticket')
    op.drop_index('ix_queue_ticket_waiting', table_name='queue_ticket')
    op.drop_table('queue_ticket')
    op.drop_index(op.f('ix_credit_bar_id_number'), table_name='credit_bar')
    op.drop_table('credit_bar')
    op.drop_index(op.f('ix_intake_commitment_department_code'), table_name='intake_commitment')
    op.drop_table('intake_commitment')
    op.drop_table('intake_hold')
