"""signed checkpoints of the timeline

Every chain's head, signed with a key kept outside the database, in a chain of checkpoints
of their own; the copy that counts is the log outside the database.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 05:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'audit_checkpoints',
        sa.Column('number', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('signature', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('last_event_id', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('number'),
    )


def downgrade() -> None:
    op.drop_table('audit_checkpoints')
