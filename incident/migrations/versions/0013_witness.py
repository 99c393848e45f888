"""checkpoints mailed to a witness: a notification may concern no incident

Each signed checkpoint can go through the outbox to a witness address; such a message
belongs to no incident.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 05:40:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.alter_column('incident_id', existing_type=sa.Uuid(), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM delivery_attempts WHERE delivery_id IN (SELECT d.id FROM deliveries d "
               "JOIN notifications n ON n.id = d.notification_id WHERE n.incident_id IS NULL)")
    op.execute("DELETE FROM sent_messages WHERE delivery_id IN (SELECT d.id FROM deliveries d "
               "JOIN notifications n ON n.id = d.notification_id WHERE n.incident_id IS NULL)")
    op.execute("DELETE FROM deliveries WHERE notification_id IN "
               "(SELECT id FROM notifications WHERE incident_id IS NULL)")
    op.execute("DELETE FROM notification_versions WHERE notification_id IN "
               "(SELECT id FROM notifications WHERE incident_id IS NULL)")
    op.execute("DELETE FROM notifications WHERE incident_id IS NULL")
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.alter_column('incident_id', existing_type=sa.Uuid(), nullable=False)
