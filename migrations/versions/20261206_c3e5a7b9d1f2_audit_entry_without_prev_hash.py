"""audit_entry: no ``prev_hash`` column: each entry's previous hash is the previous entry's ``hash``

Issue 18 (stored bytes per case: 18 audit entries per finished case, 32 bytes each for a copy of the previous
entry's hash). The chain is unchanged: every entry's ``hash`` is still sha256 over the previous entry's hash
and its own fields, and ``verify_chain`` recomputes each link from the previous row (from the head's anchor for
the first kept one), so an edited, removed or reordered entry is found as before. No digest changes.

Downgrade puts the column back, filled from the previous entry's hash (the anchor's for the first kept entry).

Revision ID: c3e5a7b9d1f2
Revises: f1a4c8e2b7d3
Create Date: 2026-12-06 04:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'c3e5a7b9d1f2'
down_revision = 'f1a4c8e2b7d3'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.drop_column('prev_hash')


def downgrade() -> None:
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('prev_hash', sa.LargeBinary(), nullable=True))
    conn = op.get_bind()
    anchor = conn.execute(sa.text("SELECT anchor_hash FROM audit_head WHERE id = 1")).scalar()
    previous = bytes.fromhex(anchor or "0" * 64)
    entries = sa.table('audit_entry', sa.column('seq'), sa.column('prev_hash', sa.LargeBinary()))
    rows = conn.execute(sa.text("SELECT seq, hash FROM audit_entry ORDER BY seq")).all()
    for seq, digest in rows:
        conn.execute(entries.update().where(entries.c.seq == seq).values(prev_hash=previous))
        previous = bytes(digest)
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.alter_column('prev_hash', existing_type=sa.LargeBinary(), nullable=False)
