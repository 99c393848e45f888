"""incident circumstances

The facts the breach laws turn on, recorded on the incident: encryption and its key,
redaction, a documented risk-of-harm determination, a law-enforcement request to delay.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 06:20:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('circumstances', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_column('circumstances')
