"""single sign-on

A user made at their first sign-in with the organisation's identity provider is marked as
such (`source`: local or sso), with the provider's subject identifier (`sso_subject`).

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-05 17:10:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0023'
down_revision: str | None = '0022'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=10),
                                      nullable=False, server_default='local'))
        batch_op.add_column(sa.Column('sso_subject',
                                      sqlmodel.sql.sqltypes.AutoString(length=255),
                                      nullable=True))
    op.create_index(op.f('ix_users_sso_subject'), 'users', ['sso_subject'], unique=True)


def downgrade() -> None:
    op.drop_index(op.f('ix_users_sso_subject'), table_name='users')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('sso_subject')
        batch_op.drop_column('source')
