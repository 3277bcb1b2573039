"""access log of reads (material views, register queries), unchained beside the audit chain; task index
(case_id, status) replaces (case_id)

Revision ID: a4c6e8f0b2d1
Revises: a8c4e2f6b1d3
Create Date: 2026-11-29 13:00:00
"""
from alembic import op
import sqlalchemy as sa
import app.db


revision = 'a4c6e8f0b2d1'
down_revision = 'a8c4e2f6b1d3'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('access_log',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('at', app.db.UTCDateTime(), nullable=False),
    sa.Column('actor_id', sa.String(length=32), nullable=True),
    sa.Column('tenant_id', sa.String(length=12), nullable=True),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('object_type', sa.String(length=32), nullable=False),
    sa.Column('object_id', sa.String(length=64), nullable=True),
    sa.Column('after', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_access_log'))
    )
    op.create_index(op.f('ix_access_log_action'), 'access_log', ['action'], unique=False)
    op.create_index(op.f('ix_access_log_actor_id'), 'access_log', ['actor_id'], unique=False)
    op.create_index(op.f('ix_access_log_at'), 'access_log', ['at'], unique=False)
    op.create_index(op.f('ix_access_log_tenant_id'), 'access_log', ['tenant_id'], unique=False)
    op.create_index('ix_access_log_object', 'access_log', ['object_id', 'at'], unique=False)
    op.create_index('ix_task_case_status', 'task', ['case_id', 'status'], unique=False)
    op.drop_index('ix_task_case_id', table_name='task')


def downgrade() -> None:
    op.create_index('ix_task_case_id', 'task', ['case_id'], unique=False)
    op.drop_index('ix_task_case_status', table_name='task')
    op.drop_index('ix_access_log_object', table_name='access_log')
    op.drop_index(op.f('ix_access_log_tenant_id'), table_name='access_log')
    op.drop_index(op.f('ix_access_log_at'), table_name='access_log')
    op.drop_index(op.f('ix_access_log_actor_id'), table_name='access_log')
    op.drop_index(op.f('ix_access_log_action'), table_name='access_log')
    op.drop_table('access_log')
