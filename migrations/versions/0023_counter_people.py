"""counter people: the applicant a counter clerk serves (person or enterprise), mandates
(代办), drafts and applications made for them or by their agent, and an account's verified
ID number

Revision ID: 0023_counter_people
Revises: 0022_service_ratings
Create Date: 2026-12-03 12:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0023_counter_people'
down_revision = '0022_service_ratings'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'person',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('public_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('id_number', sqlmodel.sql.sqltypes.AutoString(length=18), nullable=False),
        sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('verified_by', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column('verified_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('created_by', sa.Integer(), nullable=True),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.CheckConstraint("kind IN ('person', 'enterprise')", name='ck_person_kind'),
        sa.ForeignKeyConstraint(['created_by'], ['user_account.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('public_id'),
        sa.UniqueConstraint('id_number'),
    )
    op.create_table(
        'mandate',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('public_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('principal_id', sa.Integer(), nullable=False),
        sa.Column('agent_id', sa.Integer(), nullable=False),
        sa.Column('services', sa.JSON(), nullable=False),
        sa.Column('expires_on', sa.Date(), nullable=False),
        sa.Column('evidence', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('created_by', sa.Integer(), nullable=True),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['principal_id'], ['person.id']),
        sa.ForeignKeyConstraint(['agent_id'], ['person.id']),
        sa.ForeignKeyConstraint(['created_by'], ['user_account.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('public_id'),
    )
    op.create_index(op.f('ix_mandate_principal_id'), 'mandate', ['principal_id'])
    op.create_index(op.f('ix_mandate_agent_id'), 'mandate', ['agent_id'])
    for table in ('draft', 'application'):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column('person_id', sa.Integer(), nullable=True))
            batch.add_column(sa.Column('mandate_id', sa.Integer(), nullable=True))
            batch.create_index(batch.f(f'ix_{table}_person_id'), ['person_id'])
            batch.create_foreign_key(f'fk_{table}_person_id', 'person', ['person_id'], ['id'])
            batch.create_foreign_key(f'fk_{table}_mandate_id', 'mandate', ['mandate_id'],
                                     ['id'])
    with op.batch_alter_table('user_account') as batch:
        batch.add_column(sa.Column('id_number', sqlmodel.sql.sqltypes.AutoString(length=18),
                                   nullable=True))
        batch.add_column(sa.Column('id_verified_by', sqlmodel.sql.sqltypes.AutoString(length=64),
                                   nullable=True))
        batch.add_column(sa.Column('id_verified_at', sqlmodel.sql.sqltypes.UTCDateTime(),
                                   nullable=True))
        batch.create_unique_constraint('uq_user_account_id_number', ['id_number'])


def downgrade() -> None:
    with op.batch_alter_table('user_account') as batch:
        batch.drop_constraint('uq_user_account_id_number', type_='unique')
        batch.drop_column('id_verified_at')
        batch.drop_column('id_verified_by')
        batch.drop_column('id_number')
    for table in ('application', 'draft'):
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(f'fk_{table}_mandate_id', type_='foreignkey')
            batch.drop_constraint(f'fk_{table}_person_id', type_='foreignkey')
            batch.drop_index(batch.f(f'ix_{table}_person_id'))
            batch.drop_column('mandate_id')
            batch.drop_column('person_id')
    op.drop_index(op.f('ix_mandate_agent_id'), table_name='mandate')
    op.drop_index(op.f('ix_mandate_principal_id'), table_name='mandate')
    op.drop_table('mandate')
    op.drop_table('person')
