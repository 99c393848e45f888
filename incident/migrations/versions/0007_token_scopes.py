"""token scopes and expiry

Every API token gets a scope (read or write) and an optional expiry. Tokens that
existed before keep what they could do: scope write, no expiry.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 00:30:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        # server_default fills the rows already there; new rows always name their scope.
        batch_op.add_column(sa.Column('scope', sqlmodel.sql.sqltypes.AutoString(length=10),
                                      nullable=False, server_default='write'))
        batch_op.add_column(sa.Column('expires_at', sqlmodel.sql.sqltypes.UTCDateTime(),
                                      nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_column('expires_at')
        batch_op.drop_column('scope')
