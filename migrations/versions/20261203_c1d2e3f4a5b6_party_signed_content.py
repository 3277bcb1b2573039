"""party: digest of the content a party's signature covers, and when a change voided its confirmation

Revision ID: c1d2e3f4a5b6
Revises: a4c6e8f0b2d1
Create Date: 2026-12-03 16:30:00
"""
from alembic import op
import sqlalchemy as sa
import app.db


revision = 'c1d2e3f4a5b6'
down_revision = 'a4c6e8f0b2d1'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('party') as batch:
        batch.add_column(sa.Column('signed_content_sha256', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('confirmation_voided_at', app.db.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('party') as batch:
        batch.drop_column('confirmation_voided_at')
        batch.drop_column('signed_content_sha256')
