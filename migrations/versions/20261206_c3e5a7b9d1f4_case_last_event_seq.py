"""reg_case: the number of the case's last progress event (the next event takes it + 1, no max() per event)

Revision ID: c3e5a7b9d1f4
Revises: e5a7c9d1f3b4
Create Date: 2026-12-06 04:20:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'c3e5a7b9d1f4'
down_revision = 'e5a7c9d1f3b4'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('reg_case', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_event_seq', sa.Integer(), nullable=False, server_default='0'))
    op.execute("UPDATE reg_case SET last_event_seq = (SELECT coalesce(max(case_event.seq), 0) FROM case_event "
               "WHERE case_event.case_id = reg_case.id)")


def downgrade() -> None:
    with op.batch_alter_table('reg_case', schema=None) as batch_op:
        batch_op.drop_column('last_event_seq')
