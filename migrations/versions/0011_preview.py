"""points: integrity flags and appeals

Flags a reviewer looks at (and clears with a reason), the draft field changes they count, and
appeals against one indicator of a score (one open appeal per application and indicator).

Revision ID: 0011_preview
Revises: 0010_points
Create Date: 2026-12-02 21:10:22.960768
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0011_preview'
down_revision = '0010_points'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('draft_field_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('draft_id', sa.Integer(), nullable=False),
    sa.Column('field', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('changed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['draft_id'], ['draft.id']),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('draft_field_change', schema=None) as batch_op:
        batch_op.create_index('ix_draft_field_change_draft', ['draft_id', 'field'], unique=False)

    op.create_table('points_flag',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('field', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.Column('message_zh', sa.Text(), nullable=False),
    sa.Column('message_en', sa.Text(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('cleared_by', sa.Integer(), nullable=True),
    sa.Column('cleared_by_name', sqlmodel.sql.sqltypes.AutoString(length=150), nullable=False),
    sa.Column('cleared_reason', sa.Text(), nullable=False),
    sa.Column('cleared_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.CheckConstraint("kind IN ('duplicate_id', 'contradicts_verified', 'implausible', 'repeated_edits')", name='ck_points_flag_kind'),
    sa.CheckConstraint("status IN ('open', 'cleared')", name='ck_points_flag_status'),
    sa.ForeignKeyConstraint(['application_id'], ['application.id']),
    sa.ForeignKeyConstraint(['cleared_by'], ['user_account.id']),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('points_flag', schema=None) as batch_op:
        batch_op.create_index('ix_points_flag_application', ['application_id', 'id'], unique=False)

    op.create_table('points_appeal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('evaluation_id', sa.Integer(), nullable=False),
    sa.Column('indicator', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('reasons', sa.Text(), nullable=False),
    sa.Column('materials', sa.JSON(), nullable=False),
    sa.Column('department_code', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('submit_key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('submitted_by', sa.Integer(), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('corrections', sa.JSON(), nullable=False),
    sa.Column('decision_reason', sa.Text(), nullable=False),
    sa.Column('decided_by', sa.Integer(), nullable=True),
    sa.Column('decided_by_name', sqlmodel.sql.sqltypes.AutoString(length=150), nullable=False),
    sa.Column('decided_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('new_evaluation_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.CheckConstraint("status IN ('open', 'upheld', 'dismissed')", name='ck_points_appeal_status'),
    sa.ForeignKeyConstraint(['application_id'], ['application.id']),
    sa.ForeignKeyConstraint(['decided_by'], ['user_account.id']),
    sa.ForeignKeyConstraint(['evaluation_id'], ['points_evaluation.id']),
    sa.ForeignKeyConstraint(['new_evaluation_id'], ['points_evaluation.id']),
    sa.ForeignKeyConstraint(['submitted_by'], ['user_account.id']),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('submit_key', name='uq_points_appeal_submit_key')
    )
    with op.batch_alter_table('points_appeal', schema=None) as batch_op:
        batch_op.create_index('ix_points_appeal_application', ['application_id', 'id'], unique=False)
        batch_op.create_index('ix_points_appeal_queue', ['status', 'department_code', 'created_at'], unique=False)
        batch_op.create_index('uq_points_appeal_open', ['application_id', 'indicator'], unique=True, postgresql_where=sa.text("status = 'open'"), sqlite_where=sa.text("status = 'open'"))



def downgrade() -> None:
    with op.batch_alter_table('points_appeal', schema=None) as batch_op:
        batch_op.drop_index('uq_points_appeal_open')
        batch_op.drop_index('ix_points_appeal_queue')
        batch_op.drop_index('ix_points_appeal_application')

    op.drop_table('points_appeal')
    with op.batch_alter_table('points_flag', schema=None) as batch_op:
        batch_op.drop_index('ix_points_flag_application')

    op.drop_table('points_flag')
    with op.batch_alter_table('draft_field_change', schema=None) as batch_op:
        batch_op.drop_index('ix_draft_field_change_draft')

    op.drop_table('draft_field_change')
