"""counts of people and records as 64-bit integers

An incident's estimated people and records may exceed 2**31-1 (a compilation of leaked
credentials runs to billions of records); the API accepts up to 10,000,000,000. SQLite's
INTEGER is 64-bit already; PostgreSQL's is not.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 02:30:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ('estimated_subjects', 'estimated_records')


def upgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    for column in COLUMNS:
        op.alter_column('incidents', column, type_=sa.BigInteger(), existing_nullable=True)


def downgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    for column in COLUMNS:
        op.alter_column('incidents', column, type_=sa.Integer(), existing_nullable=True)
