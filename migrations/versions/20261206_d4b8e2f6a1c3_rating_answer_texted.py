"""feedback_rating.answer_texted_at: when the rater was texted that his 差评's follow-up was answered (once only)

Revision ID: d4b8e2f6a1c3
Revises: b7d2f4a6c8e1
Create Date: 2026-12-06 08:40:00
"""
from alembic import op
import sqlalchemy as sa

import app.db


revision = 'd4b8e2f6a1c3'
down_revision = 'b7d2f4a6c8e1'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('feedback_rating', schema=None) as batch_op:
        batch_op.add_column(sa.Column('answer_texted_at', app.db.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('feedback_rating', schema=None) as batch_op:
        batch_op.drop_column('answer_texted_at')
