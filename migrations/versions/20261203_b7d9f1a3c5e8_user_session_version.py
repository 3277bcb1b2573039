"""user session version: bumped on logout, password change and disabling, revoking every session and token

Revision ID: b7d9f1a3c5e8
Revises: c1d2e3f4a5b6
Create Date: 2026-12-03 16:20:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'b7d9f1a3c5e8'
down_revision = 'c1d2e3f4a5b6'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.drop_column('session_version')
