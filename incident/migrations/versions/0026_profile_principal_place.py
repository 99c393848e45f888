"""profile principal place

The organisation profile's principal place of business, to the subdivision (US-WI): laws
that bind by establishment in a subdivision read it (Wis. Stat. 134.98(2)(a)). Empty for the
profiles already stored: their country alone, as before.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-06 10:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0026'
down_revision: str | None = '0025'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('organisation_profile', schema=None) as batch_op:
        batch_op.add_column(sa.Column('principal_place', sa.String(length=6),
                                      nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('organisation_profile', schema=None) as batch_op:
        batch_op.drop_column('principal_place')
