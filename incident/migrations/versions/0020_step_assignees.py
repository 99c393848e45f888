"""step assignees

A runbook step on an incident may be given to one person (`assignee_id`, a user), shown on
the checklist and changed there, over the API and from the CLI; each change is a timeline
event.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05 16:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0020'
down_revision: str | None = '0019'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('incident_steps', schema=None) as batch_op:
        batch_op.add_column(sa.Column('assignee_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_incident_steps_assignee_id_users', 'users',
                                    ['assignee_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('incident_steps', schema=None) as batch_op:
        batch_op.drop_constraint('fk_incident_steps_assignee_id_users', type_='foreignkey')
        batch_op.drop_column('assignee_id')
