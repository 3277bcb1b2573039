"""working-day calendar: holiday plans entered by operators; what each task's due date was counted from

Revision ID: b7d2f4a6c8e0
Revises: a4c6e8f0b2d1
Create Date: 2026-12-03 16:40:00
"""
from alembic import op
import sqlalchemy as sa
import app.db


revision = 'b7d2f4a6c8e0'
down_revision = 'a4c6e8f0b2d1'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('workday_schedule',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('holidays', sa.JSON(), nullable=False),
    sa.Column('workdays', sa.JSON(), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('entered_by', sa.String(length=32), nullable=True),
    sa.Column('entered_at', app.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['entered_by'], ['app_user.id'], name=op.f('fk_workday_schedule_entered_by_app_user')),
    sa.PrimaryKeyConstraint('year', name=op.f('pk_workday_schedule'))
    )
    with op.batch_alter_table('task') as batch:
        batch.add_column(sa.Column('due_from', sa.Date(), nullable=True))
        batch.add_column(sa.Column('due_days', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('task') as batch:
        batch.drop_column('due_days')
        batch.drop_column('due_from')
    op.drop_table('workday_schedule')
