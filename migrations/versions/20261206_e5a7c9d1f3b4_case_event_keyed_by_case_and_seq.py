"""case_event: primary key (case_id, seq) instead of an id of its own

Issue 18 (stored bytes per case: ten events per finished case, 32 characters of id each that nothing refers
to). (case_id, seq) was already unique; as the primary key it also serves the case's timeline, so the separate
index on case_id goes too. Downgrade gives every event a new random id.

Revision ID: e5a7c9d1f3b4
Revises: d4f6b8c0e2a3
Create Date: 2026-12-06 04:50:00
"""
import uuid

import sqlalchemy as sa
from alembic import op

revision = 'e5a7c9d1f3b4'
down_revision = 'd4f6b8c0e2a3'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('case_event', schema=None) as batch_op:
        batch_op.drop_constraint('uq_case_event_case_id_seq', type_='unique')
        batch_op.drop_index('ix_case_event_case_id')
        batch_op.drop_constraint('pk_case_event', type_='primary')
        batch_op.drop_column('id')
        batch_op.create_primary_key('pk_case_event', ['case_id', 'seq'])


def downgrade() -> None:
    with op.batch_alter_table('case_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('id', sa.String(length=32), nullable=True))
    conn = op.get_bind()
    events = sa.table('case_event', sa.column('case_id'), sa.column('seq'), sa.column('id'))
    for case_id, seq in conn.execute(sa.select(events.c.case_id, events.c.seq)).all():
        conn.execute(events.update().where(events.c.case_id == case_id, events.c.seq == seq)
                     .values(id=uuid.uuid4().hex))
    with op.batch_alter_table('case_event', schema=None) as batch_op:
        batch_op.drop_constraint('pk_case_event', type_='primary')
        batch_op.alter_column('id', existing_type=sa.String(length=32), nullable=False)
        batch_op.create_primary_key('pk_case_event', ['id'])
        batch_op.create_unique_constraint('uq_case_event_case_id_seq', ['case_id', 'seq'])
        batch_op.create_index('ix_case_event_case_id', ['case_id'], unique=False)
