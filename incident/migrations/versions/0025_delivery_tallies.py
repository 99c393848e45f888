"""delivery tallies

Each notification's deliveries counted by state (`delivery_tallies`), kept with every change
of a delivery's state, so its progress is read from a few rows; filled here from the
deliveries already stored.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-05 23:40:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0025'
down_revision: str | None = '0024'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'delivery_tallies',
        sa.Column('notification_id', sa.Integer(), nullable=False),
        sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['notification_id'], ['notifications.id']),
        sa.PrimaryKeyConstraint('notification_id', 'state'),
    )
    op.execute("INSERT INTO delivery_tallies (notification_id, state, count) "
               "SELECT notification_id, state, COUNT(*) FROM deliveries "
               "GROUP BY notification_id, state")


def downgrade() -> None:
    op.drop_table('delivery_tallies')
