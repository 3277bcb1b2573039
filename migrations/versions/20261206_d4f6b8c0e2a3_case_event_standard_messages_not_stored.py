"""case_event.message nullable: a standard text (rendered from kind, stage, decision and the case's business
number: app/casefile/event_messages.py) is not stored

Issue 18 (stored bytes per case). Existing rows keep their messages (they are read as they are). Downgrade
writes the standard text back into the rows that have none, then makes the column NOT NULL again.

Revision ID: d4f6b8c0e2a3
Revises: c3e5a7b9d1f2
Create Date: 2026-12-06 04:40:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'd4f6b8c0e2a3'
down_revision = 'c3e5a7b9d1f2'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('case_event', schema=None) as batch_op:
        batch_op.alter_column('message', existing_type=sa.String(length=500), nullable=True)


def downgrade() -> None:
    from app.casefile.event_messages import standard_message

    conn = op.get_bind()
    events = sa.table('case_event', sa.column('id'), sa.column('message', sa.String()))
    rows = conn.execute(sa.text("SELECT e.id, e.kind, e.stage, e.decision, c.business_no FROM case_event e"
                                " JOIN reg_case c ON c.id = e.case_id WHERE e.message IS NULL")).all()
    for event_id, kind, stage, decision, business_no in rows:
        text = standard_message(kind, stage, decision, business_no) or ""
        conn.execute(events.update().where(events.c.id == event_id).values(message=text))
    with op.batch_alter_table('case_event', schema=None) as batch_op:
        batch_op.alter_column('message', existing_type=sa.String(length=500), nullable=False)
