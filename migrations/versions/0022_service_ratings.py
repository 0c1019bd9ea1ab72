"""service ratings: 好差评 ratings of finished applications and the 回访 tasks of 差评

Revision ID: 0022_service_ratings
Revises: 0021_materials
Create Date: 2026-12-03 12:29:08
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0022_service_ratings'
down_revision = '0021_materials'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('service_rating',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('reference', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('service_code', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('department_code', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('window_code', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('clerk_id', sa.Integer(), nullable=True),
    sa.Column('rater_id', sa.Integer(), nullable=True),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('finished_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('rated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('excluded', sa.Boolean(), nullable=False),
    sa.Column('appeal_state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('appeal_reason', sa.Text(), nullable=False),
    sa.Column('appeal_by', sa.Integer(), nullable=True),
    sa.Column('appeal_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('appeal_decided_by', sa.Integer(), nullable=True),
    sa.Column('appeal_decided_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('appeal_note', sa.Text(), nullable=False),
    sa.CheckConstraint("appeal_state IN ('none', 'requested', 'upheld', 'dismissed')", name='ck_service_rating_appeal_state'),
    sa.CheckConstraint("source IN ('applicant', 'default')", name='ck_service_rating_source'),
    sa.CheckConstraint('level BETWEEN 1 AND 5', name='ck_service_rating_level'),
    sa.ForeignKeyConstraint(['appeal_by'], ['user_account.id'], ),
    sa.ForeignKeyConstraint(['appeal_decided_by'], ['user_account.id'], ),
    sa.ForeignKeyConstraint(['application_id'], ['application.id'], ),
    sa.ForeignKeyConstraint(['clerk_id'], ['user_account.id'], ),
    sa.ForeignKeyConstraint(['rater_id'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('application_id')
    )
    with op.batch_alter_table('service_rating', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_rating_department_code'), ['department_code'], unique=False)
        batch_op.create_index('ix_service_rating_rated_at', ['rated_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_service_rating_service_code'), ['service_code'], unique=False)

    op.create_table('rating_follow_up',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rating_id', sa.Integer(), nullable=False),
    sa.Column('department_code', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('done_by', sa.Integer(), nullable=True),
    sa.Column('done_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('visit_note', sa.Text(), nullable=False),
    sa.Column('reply', sa.Text(), nullable=False),
    sa.CheckConstraint("state IN ('open', 'done')", name='ck_rating_follow_up_state'),
    sa.ForeignKeyConstraint(['done_by'], ['user_account.id'], ),
    sa.ForeignKeyConstraint(['rating_id'], ['service_rating.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('rating_id')
    )
    with op.batch_alter_table('rating_follow_up', schema=None) as batch_op:
        batch_op.create_index('ix_rating_follow_up_open', ['department_code', 'state', 'due_on'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('rating_follow_up', schema=None) as batch_op:
        batch_op.drop_index('ix_rating_follow_up_open')

    op.drop_table('rating_follow_up')
    with op.batch_alter_table('service_rating', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_service_rating_service_code'))
        batch_op.drop_index('ix_service_rating_rated_at')
        batch_op.drop_index(batch_op.f('ix_service_rating_department_code'))

    op.drop_table('service_rating')
