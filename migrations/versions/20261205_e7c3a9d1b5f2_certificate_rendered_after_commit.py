"""certificate: the page snapshot 缮证 numbered (encrypted) and when the job rendered it (制证中 until then)

Revision ID: e7c3a9d1b5f2
Revises: d4e8a2c6f1b3
Create Date: 2026-12-05 22:45:00
"""
from alembic import op
import sqlalchemy as sa

import app.db


revision = 'e7c3a9d1b5f2'
down_revision = 'd4e8a2c6f1b3'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.add_column(sa.Column('page_enc', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('rendered_at', app.db.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.drop_column('rendered_at')
        batch_op.drop_column('page_enc')
