"""reg_case: the content digest a 申请书 is due for (rendered and signed by a job after the last signature)

Revision ID: f1a4c8e2b7d3
Revises: b8d2f4a6c0e1
Create Date: 2026-12-06 01:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'f1a4c8e2b7d3'
down_revision = 'b8d2f4a6c0e1'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('reg_case', schema=None) as batch_op:
        batch_op.add_column(sa.Column('application_form_due', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_reg_case_application_form_due'), ['application_form_due'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('reg_case', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reg_case_application_form_due'))
        batch_op.drop_column('application_form_due')
