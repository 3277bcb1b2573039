"""workflow_state: the instance stored zlib-compressed (``state`` bytes) instead of indented JSON text

Issue 18 (stored bytes per case): the JSON of a finished 二手房转移 instance is ~9.7 KB and repeats the same
keys, spec names and task ids in every task; compact JSON compressed with zlib behind a one-byte format tag
(app/engine/state_format.py) is ~1.8 KB. Existing rows are converted in both directions: upgrade re-dumps
each text compactly and compresses it; downgrade stores the decompressed JSON text again (SpiffWorkflow reads
either). The conversion is self-contained here so later changes to the app's format do not change it.

Revision ID: f2a4c6e8b0d1
Revises: e3b7c9d1f5a2
Create Date: 2026-12-06 01:00:00
"""
import json
import zlib
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = 'f2a4c6e8b0d1'
down_revision = 'e3b7c9d1f5a2'
branch_labels = None
depends_on = None

ZLIB_JSON = 1  # app/engine/state_format.py's format tag, frozen as of this revision
BATCH = 500


def _pack(text: str) -> bytes:
    compact = json.dumps(json.loads(text), separators=(",", ":"), ensure_ascii=False)
    return bytes([ZLIB_JSON]) + zlib.compress(compact.encode("utf-8"))


def _unpack(blob: bytes) -> str:
    data = bytes(blob)
    if not data or data[0] != ZLIB_JSON:
        raise ValueError(f"unknown workflow state format {data[:1]!r}")
    return zlib.decompress(data[1:]).decode("utf-8")


def _convert(source: str, target: str, convert: Callable[[Any], Any]) -> None:
    """Rewrite every row's ``source`` into ``target``, a batch of rows at a time (keyset on the key)."""
    conn = op.get_bind()
    state = sa.table("workflow_state", sa.column("case_id", sa.String), sa.column(source), sa.column(target))
    last = ""
    while True:
        rows = conn.execute(sa.select(state.c.case_id, state.c[source]).where(state.c.case_id > last)
                            .order_by(state.c.case_id).limit(BATCH)).all()
        if not rows:
            return
        for case_id, value in rows:
            conn.execute(state.update().where(state.c.case_id == case_id).values({target: convert(value)}))
        last = rows[-1][0]


def upgrade() -> None:
    with op.batch_alter_table('workflow_state', schema=None) as batch_op:
        batch_op.add_column(sa.Column('state', sa.LargeBinary(), nullable=True))
    _convert('state_json', 'state', _pack)
    with op.batch_alter_table('workflow_state', schema=None) as batch_op:
        batch_op.alter_column('state', existing_type=sa.LargeBinary(), nullable=False)
        batch_op.drop_column('state_json')


def downgrade() -> None:
    with op.batch_alter_table('workflow_state', schema=None) as batch_op:
        batch_op.add_column(sa.Column('state_json', sa.Text(), nullable=True))
    _convert('state', 'state_json', _unpack)
    with op.batch_alter_table('workflow_state', schema=None) as batch_op:
        batch_op.alter_column('state_json', existing_type=sa.Text(), nullable=False)
        batch_op.drop_column('state')
