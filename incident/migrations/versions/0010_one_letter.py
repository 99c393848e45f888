"""one letter per person: a notice covers every law that protects its reader

A notice to people covers the obligations owed to them under several laws, and each
delivery says which of them its letter meets for its recipient.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 04:30:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('covers', sa.JSON(), nullable=False, server_default='[]'))
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('meets', sqlmodel.sql.sqltypes.AutoString(length=1000),
                                      nullable=False, server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_column('meets')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_column('covers')
