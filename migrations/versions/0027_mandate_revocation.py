"""mandate revocation: a mandate revoked before its end date, by the principal online or a
clerk at the counter, with who, when, where and why (docs/counter.md)

Revision ID: 0027_mandate_revocation
Revises: 0026_intake_followups
Create Date: 2026-12-03 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0027_mandate_revocation'
down_revision = '0026_intake_followups'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('mandate') as batch:
        batch.add_column(sa.Column('revoked_at', sqlmodel.sql.sqltypes.UTCDateTime(),
                                   nullable=True))
        batch.add_column(sa.Column('revoked_by', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('revoked_via', sqlmodel.sql.sqltypes.AutoString(length=16),
                                   nullable=True))
        batch.add_column(sa.Column('revoked_reason',
                                   sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True))
        batch.create_foreign_key('fk_mandate_revoked_by', 'user_account', ['revoked_by'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('mandate') as batch:
        batch.drop_constraint('fk_mandate_revoked_by', type_='foreignkey')
        batch.drop_column('revoked_reason')
        batch.drop_column('revoked_via')
        batch.drop_column('revoked_by')
        batch.drop_column('revoked_at')
