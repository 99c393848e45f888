"""assessments confirmed by an approver

An assessment that would end a duty which applies now is recorded as pending: the one
before it stays in force until an approver other than its author confirms it.
`pending` marks it, `ends` names the duties it would end, `confirmed_at`/`confirmed_by`
record the confirmation. Existing assessments were all in force: not pending.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 06:20:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('incident_assessments', schema=None) as batch_op:
        # server_default fills the rows already there: every one of them is in force.
        batch_op.add_column(sa.Column('pending', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.add_column(sa.Column('ends', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('confirmed_at', sqlmodel.sql.sqltypes.UTCDateTime(),
                                      nullable=True))
        batch_op.add_column(sa.Column('confirmed_by', sqlmodel.sql.sqltypes.AutoString(length=300),
                                      nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('incident_assessments', schema=None) as batch_op:
        batch_op.drop_column('confirmed_by')
        batch_op.drop_column('confirmed_at')
        batch_op.drop_column('ends')
        batch_op.drop_column('pending')
