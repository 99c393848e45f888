"""delivery queues

A notice to many people is queued a part at a time: `delivery_queues` keeps, per
notification still being queued, what its deliveries are made from and how far it got.
`ix_deliveries_notification_id` goes: `uq_delivery` and `ix_deliveries_progress` both begin
with the notification, and every index of `deliveries` is written again on each change of
a delivery's state.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-06 02:30:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0027'
down_revision: str | None = '0026'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'delivery_queues',
        sa.Column('notification_id', sa.Integer(), nullable=False),
        sa.Column('plan', sa.JSON(), nullable=False),
        sa.Column('after', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('remaining', sa.Integer(), nullable=False),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['notification_id'], ['notifications.id']),
        sa.PrimaryKeyConstraint('notification_id'),
    )
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_deliveries_notification_id')


def downgrade() -> None:
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_deliveries_notification_id', ['notification_id'], unique=False)
    op.drop_table('delivery_queues')
