"""points: ledgers of civic and green points

People (by ID number, linked to a user), accounts (a person's, and each ledger's issuance,
redemption and expiry accounts), journal entries with their postings (double entry), earned
lots with their expiry, and reward stock.

Revision ID: 0011_ledger
Revises: 0011_preview
Create Date: 2026-12-02 21:11:46.311215
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0011_ledger'
down_revision = '0011_preview'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ledger_reward',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ledger', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('initial', sa.Integer(), nullable=False),
    sa.Column('stock', sa.Integer(), nullable=False),
    sa.CheckConstraint('stock >= 0', name='ck_ledger_reward_stock'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('ledger', 'code', name='uq_ledger_reward_code')
    )
    op.create_table('ledger_person',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('id_number', sqlmodel.sql.sqltypes.AutoString(length=18), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('id_number', name='uq_ledger_person_id_number'),
    sa.UniqueConstraint('user_id', name='uq_ledger_person_user')
    )
    op.create_table('ledger_account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ledger', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('holder', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('balance', sa.Integer(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.CheckConstraint("kind <> 'person' OR balance >= 0", name='ck_ledger_account_balance'),
    sa.CheckConstraint("kind IN ('person', 'issuance', 'redemption', 'expiry')", name='ck_ledger_account_kind'),
    sa.ForeignKeyConstraint(['person_id'], ['ledger_person.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('ledger', 'holder', name='uq_ledger_account_holder')
    )
    with op.batch_alter_table('ledger_account', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ledger_account_person_id'), ['person_id'], unique=False)

    op.create_table('ledger_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ledger', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('ledger_version', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('event_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('event_type', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=True),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Float(), nullable=True),
    sa.Column('requested', sa.Integer(), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('flagged', sa.Boolean(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('reward_code', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=True),
    sa.Column('reward_count', sa.Integer(), nullable=True),
    sa.Column('occurred_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.CheckConstraint("kind IN ('earn', 'redeem', 'expire')", name='ck_ledger_entry_kind'),
    sa.CheckConstraint("status IN ('posted', 'capped', 'refused')", name='ck_ledger_entry_status'),
    sa.ForeignKeyConstraint(['account_id'], ['ledger_account.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('ledger', 'event_id', name='uq_ledger_entry_event')
    )
    with op.batch_alter_table('ledger_entry', schema=None) as batch_op:
        batch_op.create_index('ix_ledger_entry_account', ['account_id', 'occurred_at'], unique=False)

    op.create_table('ledger_lot',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ledger', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('remaining', sa.Integer(), nullable=False),
    sa.Column('earned_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.CheckConstraint('remaining >= 0 AND remaining <= points', name='ck_ledger_lot_remaining'),
    sa.ForeignKeyConstraint(['account_id'], ['ledger_account.id'], ),
    sa.ForeignKeyConstraint(['entry_id'], ['ledger_entry.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('ledger_lot', schema=None) as batch_op:
        batch_op.create_index('ix_ledger_lot_account', ['account_id', 'expires_at'], unique=False)
        batch_op.create_index('ix_ledger_lot_expiry', ['ledger', 'expires_at'], unique=False)

    op.create_table('ledger_posting',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['ledger_account.id'], ),
    sa.ForeignKeyConstraint(['entry_id'], ['ledger_entry.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('ledger_posting', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ledger_posting_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ledger_posting_entry_id'), ['entry_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('ledger_posting', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ledger_posting_entry_id'))
        batch_op.drop_index(batch_op.f('ix_ledger_posting_account_id'))

    op.drop_table('ledger_posting')
    with op.batch_alter_table('ledger_lot', schema=None) as batch_op:
        batch_op.drop_index('ix_ledger_lot_expiry')
        batch_op.drop_index('ix_ledger_lot_account')

    op.drop_table('ledger_lot')
    with op.batch_alter_table('ledger_entry', schema=None) as batch_op:
        batch_op.drop_index('ix_ledger_entry_account')

    op.drop_table('ledger_entry')
    with op.batch_alter_table('ledger_account', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ledger_account_person_id'))

    op.drop_table('ledger_account')
    op.drop_table('ledger_person')
    op.drop_table('ledger_reward')
