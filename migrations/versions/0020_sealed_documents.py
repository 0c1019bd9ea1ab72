"""sealed documents: the files the platform sealed and their verification codes, and the
decision documents waiting to be sealed (issue 16)

Revision ID: 0020_sealed_documents
Revises: 0019_contact_preferences
Create Date: 2026-12-03 09:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0020_sealed_documents'
down_revision = '0019_contact_preferences'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'sealed_document',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('signer_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('media_type', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column('file_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('storage_key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('purpose', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column('reference', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column('application_id', sa.Integer(), nullable=True),
        sa.Column('sealed_by', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column('signed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['application_id'], ['application.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('code'),
    )
    op.create_index(op.f('ix_sealed_document_sha256'), 'sealed_document', ['sha256'])
    op.create_index(op.f('ix_sealed_document_application_id'), 'sealed_document',
                    ['application_id'])
    op.create_table(
        'decision_job',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('application_id', sa.Integer(), nullable=False),
        sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('data', sa.JSON(), nullable=False),
        sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('last_error', sa.Text(), nullable=False),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('done_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.CheckConstraint("state IN ('pending', 'done', 'failed')",
                           name='ck_decision_job_state'),
        sa.ForeignKeyConstraint(['application_id'], ['application.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('application_id', 'kind'),
    )
    op.create_index('ix_decision_job_due', 'decision_job', ['state', 'next_attempt_at'])


def downgrade() -> None:
    op.drop_index('ix_decision_job_due', table_name='decision_job')
    op.drop_table('decision_job')
    op.drop_index(op.f('ix_sealed_document_application_id'), table_name='sealed_document')
    op.drop_index(op.f('ix_sealed_document_sha256'), table_name='sealed_document')
    op.drop_table('sealed_document')
