"""party: share and share mode of a party member filled from the register's current holders (co-owners)

Revision ID: b9e3c5a7d1f2
Revises: a4c6e8f0b2d1
Create Date: 2026-12-03 16:20:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'b9e3c5a7d1f2'
down_revision = 'a4c6e8f0b2d1'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('party', schema=None) as batch_op:
        batch_op.add_column(sa.Column('share', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('share_mode', sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('party', schema=None) as batch_op:
        batch_op.drop_column('share_mode')
        batch_op.drop_column('share')
