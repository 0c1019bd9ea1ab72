"""workspace: service working copies, publish requests, effective dates

The admin console's service workspace (docs/console.md): one row per service with its
department, owner and status; its working copy (files as text, the optimistic-lock revision,
undo and redo); four-eyes publish requests; and the date from which a published version applies
to new applications.

Revision ID: 0012_workspace
Revises: 0011_ledger
Create Date: 2026-12-03 02:09:47.893785
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0012_workspace'
down_revision = '0011_ledger'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('service_workspace',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('department_code', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('four_eyes', sa.Boolean(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.CheckConstraint("status IN ('draft', 'live', 'archived')", name='ck_service_workspace_status'),
    sa.ForeignKeyConstraint(['owner_id'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    with op.batch_alter_table('service_workspace', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_workspace_department_code'),
                              ['department_code'], unique=False)

    op.create_table('service_draft',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('files', sa.JSON(), nullable=False),
    sa.Column('base_versions', sa.JSON(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('undo_stack', sa.JSON(), nullable=False),
    sa.Column('redo_stack', sa.JSON(), nullable=False),
    sa.Column('updated_by', sa.Integer(), nullable=True),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['updated_by'], ['user_account.id'], ),
    sa.ForeignKeyConstraint(['workspace_id'], ['service_workspace.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('workspace_id')
    )
    op.create_table('service_publish_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('live_versions', sa.JSON(), nullable=False),
    sa.Column('effective_from', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('requested_by', sa.Integer(), nullable=False),
    sa.Column('requested_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('decided_by', sa.Integer(), nullable=True),
    sa.Column('decided_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'approved', 'withdrawn')",
                       name='ck_service_publish_request_status'),
    sa.ForeignKeyConstraint(['decided_by'], ['user_account.id'], ),
    sa.ForeignKeyConstraint(['requested_by'], ['user_account.id'], ),
    sa.ForeignKeyConstraint(['workspace_id'], ['service_workspace.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('service_publish_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_publish_request_workspace_id'),
                              ['workspace_id'], unique=False)

    with op.batch_alter_table('definition_version', schema=None) as batch_op:
        batch_op.add_column(sa.Column('effective_from', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('definition_version', schema=None) as batch_op:
        batch_op.drop_column('effective_from')

    with op.batch_alter_table('service_publish_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_service_publish_request_workspace_id'))

    op.drop_table('service_publish_request')
    op.drop_table('service_draft')
    with op.batch_alter_table('service_workspace', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_service_workspace_department_code'))

    op.drop_table('service_workspace')
