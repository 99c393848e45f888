"""the exact bytes of every message sent

Each delivery sent keeps the message it handed to the mail server (zlib-compressed) with
its SHA-256, for the auditor's evidence pack.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 05:20:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'sent_messages',
        sa.Column('delivery_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('raw', sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(['delivery_id'], ['deliveries.id']),
        sa.PrimaryKeyConstraint('delivery_id'),
    )


def downgrade() -> None:
    op.drop_table('sent_messages')
