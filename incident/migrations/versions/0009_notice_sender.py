"""the organisation speaks: its own sender, reply address and language; steps as reported

Notices and reports go out under the organisation's own name and address, with replies
to its DPO or a contact address, in its default language where a recipient's is missing.
A runbook step keeps how reports say it was done.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 03:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('organisation_profile', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sender', sa.JSON(), nullable=False, server_default='{}'))
        batch_op.add_column(sa.Column('language', sqlmodel.sql.sqltypes.AutoString(length=35),
                                      nullable=False, server_default='en'))
    with op.batch_alter_table('incident_steps', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reported_as', sqlmodel.sql.sqltypes.AutoString(length=300),
                                      nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('incident_steps', schema=None) as batch_op:
        batch_op.drop_column('reported_as')
    with op.batch_alter_table('organisation_profile', schema=None) as batch_op:
        batch_op.drop_column('language')
        batch_op.drop_column('sender')
