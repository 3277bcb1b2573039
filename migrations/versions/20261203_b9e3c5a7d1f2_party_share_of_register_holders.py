"""party: share and share mode of a party member filled from the register's current holders (co-owners)

Revision ID: b9e3c5a7d1f2
Revises: b7d9f1a3c5e8
Create Date: 2026-12-03 16:20:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'b9e3c5a7d1f2'
down_revision = 'b7d9f1a3c5e8'
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
