"""materials: the material library (电子材料库) and what links a draft's file to it

Revision ID: 0021_materials
Revises: 0020_sealed_documents
Create Date: 2026-12-03 09:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0021_materials'
down_revision = '0020_sealed_documents'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'material',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('public_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('owner', sqlmodel.sql.sqltypes.AutoString(length=18), nullable=False),
        sa.Column('owner_kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('type_code', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('mime', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column('original_name', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column('storage', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('storage_key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('issuer', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('issued_on', sa.Date(), nullable=True),
        sa.Column('expires_on', sa.Date(), nullable=True),
        sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('trust_level', sqlmodel.sql.sqltypes.AutoString(length=1), nullable=False),
        sa.Column('application_id', sa.Integer(), nullable=True),
        sa.Column('created_by', sa.Integer(), nullable=True),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.CheckConstraint("source IN ('uploaded', 'e_licence', 'decision')",
                           name='ck_material_source'),
        sa.CheckConstraint("trust_level IN ('A', 'B', 'C', 'D')",
                           name='ck_material_trust_level'),
        sa.ForeignKeyConstraint(['application_id'], ['application.id']),
        sa.ForeignKeyConstraint(['created_by'], ['user_account.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('public_id'),
    )
    op.create_index('ix_material_owner_type', 'material', ['owner', 'type_code'])
    op.create_index(op.f('ix_material_application_id'), 'material', ['application_id'])
    with op.batch_alter_table('stored_upload') as batch:
        batch.add_column(sa.Column('storage', sqlmodel.sql.sqltypes.AutoString(length=32),
                                   nullable=True))
        batch.add_column(sa.Column('storage_key', sqlmodel.sql.sqltypes.AutoString(length=200),
                                   nullable=True))
        batch.add_column(sa.Column('material_id', sa.Integer(), nullable=True))
        batch.create_index(batch.f('ix_stored_upload_material_id'), ['material_id'])
        batch.create_foreign_key('fk_stored_upload_material_id', 'material', ['material_id'],
                                 ['id'])


def downgrade() -> None:
    with op.batch_alter_table('stored_upload') as batch:
        batch.drop_constraint('fk_stored_upload_material_id', type_='foreignkey')
        batch.drop_index(batch.f('ix_stored_upload_material_id'))
        batch.drop_column('material_id')
        batch.drop_column('storage_key')
        batch.drop_column('storage')
    op.drop_index(op.f('ix_material_application_id'), table_name='material')
    op.drop_index('ix_material_owner_type', table_name='material')
    op.drop_table('material')
