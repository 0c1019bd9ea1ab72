"""points: evaluations pinned to a rule-set version

An application (and its draft) pins the rule-set version of its service; each scoring of its
answers is a points_evaluation row, never changed (a new score is a new row).

Revision ID: 0010_points
Revises: 0009_time
Create Date: 2026-12-02 21:04:06.184857
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0010_points'
down_revision = '0009_time'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('points_evaluation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('rules_version_id', sa.Integer(), nullable=False),
    sa.Column('rule_set', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('total', sa.Float(), nullable=False),
    sa.Column('eligible', sa.Boolean(), nullable=False),
    sa.Column('grade', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('result', sa.JSON(), nullable=False),
    sa.Column('answers_version', sa.Integer(), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('reason_text', sa.Text(), nullable=False),
    sa.Column('supersedes_id', sa.Integer(), nullable=True),
    sa.Column('actor_name', sqlmodel.sql.sqltypes.AutoString(length=150), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['application.id'], ),
    sa.ForeignKeyConstraint(['rules_version_id'], ['definition_version.id'], ),
    sa.ForeignKeyConstraint(['supersedes_id'], ['points_evaluation.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('points_evaluation', schema=None) as batch_op:
        batch_op.create_index('ix_points_evaluation_application', ['application_id', 'id'], unique=False)

    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rules_version_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_application_rules_version', 'definition_version', ['rules_version_id'], ['id'])

    with op.batch_alter_table('draft', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rules_version_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_draft_rules_version', 'definition_version', ['rules_version_id'], ['id'])



def downgrade() -> None:
    with op.batch_alter_table('draft', schema=None) as batch_op:
        batch_op.drop_constraint('fk_draft_rules_version', type_='foreignkey')
        batch_op.drop_column('rules_version_id')

    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.drop_constraint('fk_application_rules_version', type_='foreignkey')
        batch_op.drop_column('rules_version_id')

    with op.batch_alter_table('points_evaluation', schema=None) as batch_op:
        batch_op.drop_index('ix_points_evaluation_application')

    op.drop_table('points_evaluation')
