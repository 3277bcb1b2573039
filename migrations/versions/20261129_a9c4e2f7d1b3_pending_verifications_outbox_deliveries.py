"""pending verifications (re-run when the department is back) and per-subscriber outbox deliveries

Revision ID: a9c4e2f7d1b3
Revises: d7e5a1c3b9f2
Create Date: 2026-11-29 12:50:00
"""
from alembic import op
import sqlalchemy as sa
import app.db


revision = 'a9c4e2f7d1b3'
down_revision = 'd7e5a1c3b9f2'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('outbox_delivery',
    sa.Column('message_id', sa.String(length=32), nullable=False),
    sa.Column('interface_code', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('sent_at', app.db.UTCDateTime(), nullable=True),
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['outbox_message.id'], name=op.f('fk_outbox_delivery_message_id_outbox_message'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_delivery')),
    sa.UniqueConstraint('message_id', 'interface_code', name=op.f('uq_outbox_delivery_message_id_interface_code'))
    )
    op.create_index('ix_outbox_delivery_status', 'outbox_delivery', ['status'], unique=False)
    with op.batch_alter_table('verification_snapshot') as batch:
        batch.add_column(sa.Column('retry_state', sa.String(length=16), nullable=True))
        batch.create_index(batch.f('ix_verification_snapshot_retry_state'), ['retry_state'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('verification_snapshot') as batch:
        batch.drop_index(batch.f('ix_verification_snapshot_retry_state'))
        batch.drop_column('retry_state')
    op.drop_index('ix_outbox_delivery_status', table_name='outbox_delivery')
    op.drop_table('outbox_delivery')
