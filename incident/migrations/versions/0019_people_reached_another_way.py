"""people reached another way

A person a notice by e-mail did not reach (no address, a permanent failure, a hard bounce)
is reached another way, and that is recorded: `other_contacts` (a postal letter, a call, a
public communication where the law allows one). Subjects may carry a postal address for
the letters. An obligation met by a notification names it (`met_by`), so that a person
found unreached afterwards (a hard bounce) reopens it.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05 15:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0019'
down_revision: str | None = '0018'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('incident_obligations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('met_by', sa.Integer(), nullable=True))
    with op.batch_alter_table('subjects', schema=None) as batch_op:
        batch_op.add_column(sa.Column('postal_address', sa.Text(), nullable=True))
    op.create_table(
        'other_contacts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('delivery_id', sa.Integer(), nullable=False),
        sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('recorded_at', sa.DateTime(), nullable=False),
        sa.Column('recorded_by', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('basis', sa.Text(), nullable=True),
        sa.Column('batch', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.ForeignKeyConstraint(['delivery_id'], ['deliveries.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('other_contacts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_other_contacts_delivery_id'), ['delivery_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_other_contacts_batch'), ['batch'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('other_contacts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_other_contacts_batch'))
        batch_op.drop_index(batch_op.f('ix_other_contacts_delivery_id'))
    op.drop_table('other_contacts')
    with op.batch_alter_table('subjects', schema=None) as batch_op:
        batch_op.drop_column('postal_address')
    with op.batch_alter_table('incident_obligations', schema=None) as batch_op:
        batch_op.drop_column('met_by')
