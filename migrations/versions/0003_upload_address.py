"""stored_upload.uploaded_from: the client address, for the per-address upload cap

Revision ID: 0003_upload_address
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0003_upload_address'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('stored_upload', schema=None) as batch_op:
        batch_op.add_column(sa.Column('uploaded_from', sqlmodel.sql.sqltypes.AutoString(length=45),
                                      nullable=True))
        batch_op.create_index(batch_op.f('ix_stored_upload_uploaded_from'), ['uploaded_from'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('stored_upload', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stored_upload_uploaded_from'))
        batch_op.drop_column('uploaded_from')
