"""reg_case.origin_code, origin_ref: where an application began when another platform sent it (issue 20)

Revision ID: c3f5a7e9b1d4
Revises: b7c1d3e5f7a9
Create Date: 2026-12-06 11:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'c3f5a7e9b1d4'
down_revision = 'b7c1d3e5f7a9'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('reg_case') as batch:
        batch.add_column(sa.Column('origin_code', sa.String(length=6), nullable=True))
        batch.add_column(sa.Column('origin_ref', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('reg_case') as batch:
        batch.drop_column('origin_ref')
        batch.drop_column('origin_code')
