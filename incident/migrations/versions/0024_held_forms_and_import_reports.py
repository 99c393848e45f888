"""held forms and import reports

A refused web form's messages and typed values, held for the page the browser is sent back
to (read once, bound to the browser's session, gone after minutes, never a secret field);
and the report of each subject import started from the page (counts and rejected lines),
kept for a day for the roles that may import.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06 10:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0024'
down_revision: str | None = '0023'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'held_forms',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('owner', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column('page', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column('held', sa.JSON(), nullable=False),
        sa.Column('expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_held_forms_owner_page', 'held_forms', ['owner', 'page'])
    op.create_index(op.f('ix_held_forms_expires_at'), 'held_forms', ['expires_at'])
    op.create_table(
        'subject_imports',
        sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('started_by', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column('filename', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column('system', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('strict', sa.Boolean(), nullable=False),
        sa.Column('phase', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column('report', sa.JSON(), nullable=True),
        sa.Column('refusal', sa.Text(), nullable=False),
        sa.Column('errors', sa.JSON(), nullable=False),
        sa.Column('ended_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(op.f('ix_subject_imports_expires_at'), 'subject_imports', ['expires_at'])


def downgrade() -> None:
    op.drop_index(op.f('ix_subject_imports_expires_at'), table_name='subject_imports')
    op.drop_table('subject_imports')
    op.drop_index(op.f('ix_held_forms_expires_at'), table_name='held_forms')
    op.drop_index('ix_held_forms_owner_page', table_name='held_forms')
    op.drop_table('held_forms')
