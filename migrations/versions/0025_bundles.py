"""bundles: 一件事 applications over several services (bundle_application, bundle_part)

Revision ID: 0025_bundles
Revises: 0024_intake_ops
Create Date: 2026-12-03 13:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0025_bundles'
down_revision = '0024_intake_ops'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'bundle_application',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('reference', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column('bundle_code', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column('bundle_version_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('precheck_passed', sa.Boolean(), nullable=True),
        sa.Column('auto_accepted', sa.Boolean(), nullable=False),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('submitted_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.CheckConstraint("status IN ('open', 'submitted')",
                           name='ck_bundle_application_status'),
        sa.ForeignKeyConstraint(['bundle_version_id'], ['definition_version.id']),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('token'),
        sa.UniqueConstraint('reference'),
    )
    op.create_index(op.f('ix_bundle_application_bundle_code'), 'bundle_application',
                    ['bundle_code'])
    op.create_index(op.f('ix_bundle_application_user_id'), 'bundle_application', ['user_id'])
    op.create_table(
        'bundle_part',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('bundle_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('service_code', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column('needs', sa.JSON(), nullable=False),
        sa.Column('draft_id', sa.Integer(), nullable=False),
        sa.Column('application_id', sa.Integer(), nullable=True),
        sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.CheckConstraint("status IN ('open', 'waiting', 'started')",
                           name='ck_bundle_part_status'),
        sa.ForeignKeyConstraint(['bundle_id'], ['bundle_application.id']),
        sa.ForeignKeyConstraint(['draft_id'], ['draft.id']),
        sa.ForeignKeyConstraint(['application_id'], ['application.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('bundle_id', 'service_code'),
        sa.UniqueConstraint('draft_id'),
        sa.UniqueConstraint('application_id'),
    )
    op.create_index(op.f('ix_bundle_part_bundle_id'), 'bundle_part', ['bundle_id'])


def downgrade() -> None:
    op.drop_index(op.f('ix_bundle_part_bundle_id'), table_name='bundle_part')
    op.drop_table('bundle_part')
    op.drop_index(op.f('ix_bundle_application_user_id'), table_name='bundle_application')
    op.drop_index(op.f('ix_bundle_application_bundle_code'), table_name='bundle_application')
    op.drop_table('bundle_application')
