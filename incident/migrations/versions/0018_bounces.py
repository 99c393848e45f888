"""bounce reports

Every delivery is sent with a return path of its own; a bounce that comes back to it (over
SMTP to the bounce listener, or read from a mailbox over IMAP) is kept here, at most its
first MiB, with what was read in it. A delivery may now be "bounced" (a plain string
column: no change to `deliveries`).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05 13:15:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0018'
down_revision: str | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'bounce_reports',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('received_at', sa.DateTime(), nullable=False),
        sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column('delivery_id', sa.Integer(), nullable=True),
        sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
        sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column('diagnostic', sa.Text(), nullable=True),
        sa.Column('parsed', sa.Boolean(), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('raw', sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(['delivery_id'], ['deliveries.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('bounce_reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bounce_reports_delivery_id'), ['delivery_id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('bounce_reports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bounce_reports_delivery_id'))
    op.drop_table('bounce_reports')
