"""outbox_message.ordering_key: messages of one key (a case's business number) are delivered in creation order

An index on (ordering_key, status, created_at) answers "is an older message of this key still pending?" for
each due message the deliverers consider. The messages still waiting (pending) get their key from the payload's
business_no, as new ones do; sent and dead ones need none (they hold nothing back).

Revision ID: b8d2f4a6c0e1
Revises: a8c0e2f4b6d3
Create Date: 2026-12-06 01:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'b8d2f4a6c0e1'
down_revision = 'a8c0e2f4b6d3'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox_message') as batch:
        batch.add_column(sa.Column('ordering_key', sa.String(length=64), nullable=True))
    op.create_index('ix_outbox_order', 'outbox_message', ['ordering_key', 'status', 'created_at'])
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("UPDATE outbox_message SET ordering_key = left(payload::jsonb ->> 'business_no', 64) "
                   "WHERE status = 'pending'")
    else:
        op.execute("UPDATE outbox_message SET ordering_key = substr(json_extract(payload, '$.business_no'), 1, 64) "
                   "WHERE status = 'pending'")


def downgrade() -> None:
    op.drop_index('ix_outbox_order', table_name='outbox_message')
    with op.batch_alter_table('outbox_message') as batch:
        batch.drop_column('ordering_key')
