"""deliveries claimed and counted from indexes

A notification's progress is its deliveries counted by state, asked for every few
seconds by the page and the API while a notice to many people is sent. With the
notification and the state both in one index the count reads the index alone, not every
row of the table. And the outbox claims the oldest due first, by (next_attempt_at, id):
with the id in the due index too, PostgreSQL reads a claim off the index in order instead
of sorting every delivery due at the same instant (a whole notice's) for each claim.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05 10:00:00.000000
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0017'
down_revision: str | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_deliveries_progress', ['notification_id', 'state'],
                              unique=False)
        batch_op.drop_index('ix_deliveries_due')
        batch_op.create_index('ix_deliveries_due', ['state', 'next_attempt_at', 'id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_deliveries_due')
        batch_op.create_index('ix_deliveries_due', ['state', 'next_attempt_at'], unique=False)
        batch_op.drop_index('ix_deliveries_progress')
