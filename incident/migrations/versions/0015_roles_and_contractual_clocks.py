"""roles and contractual clocks

The organisation profile says what the organisation usually is toward the data it holds
(controller, processor, ...) and lists its counterparties, each with the contract's clock to
tell it of a breach; an incident records its own roles and the counterparties it involves.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 06:20:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('organisation_profile', schema=None) as batch_op:
        batch_op.add_column(sa.Column('roles', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('counterparties', sa.JSON(), nullable=False,
                                      server_default='[]'))
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('parties', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_column('parties')
    with op.batch_alter_table('organisation_profile', schema=None) as batch_op:
        batch_op.drop_column('counterparties')
        batch_op.drop_column('roles')
