"""audit_entry: ``hash`` and ``prev_hash`` stored as their 32 bytes instead of 64 hex characters

Issue 18 (stored bytes per case: 18 audit entries per finished case, 2 digests each). The digests are
still computed over, compared and shown as hex (app/db.py ``HexDigest`` converts at the column), so no entry's
content or hash changes: this is a change of storage, converted losslessly both ways, and the chain verifies
before and after. On PostgreSQL ``ALTER … USING decode/encode`` (no row trigger fires); on SQLite the table
is copied with the new type, then each value converted.

Revision ID: a8c0e2f4b6d3
Revises: f2a4c6e8b0d1
Create Date: 2026-12-06 01:10:00
"""
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = 'a8c0e2f4b6d3'
down_revision = 'f2a4c6e8b0d1'
branch_labels = None
depends_on = None

COLUMNS = ('hash', 'prev_hash')


def _unhex(value: Any) -> bytes | None:
    """SQLite 3.40 has no unhex(): the copied value is the hex text (or its bytes, if the copy cast it)."""
    if value is None:
        return None
    if isinstance(value, (bytes, bytearray, memoryview)):
        value = bytes(value).decode('ascii')
    return bytes.fromhex(value)


def upgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == 'postgresql':
        for column in COLUMNS:
            op.execute(f"ALTER TABLE audit_entry ALTER COLUMN {column} TYPE bytea USING decode({column}, 'hex')")
        return
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        for column in COLUMNS:
            batch_op.alter_column(column, existing_type=sa.String(length=64), type_=sa.LargeBinary(),
                                  existing_nullable=False)
    conn.connection.driver_connection.create_function('h18_unhex', 1, _unhex, deterministic=True)
    op.execute("UPDATE audit_entry SET hash = h18_unhex(hash), prev_hash = h18_unhex(prev_hash)")


def downgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == 'postgresql':
        for column in COLUMNS:
            op.execute(f"ALTER TABLE audit_entry ALTER COLUMN {column} TYPE varchar(64) USING encode({column}, 'hex')")
        return
    op.execute("UPDATE audit_entry SET hash = lower(hex(hash)), prev_hash = lower(hex(prev_hash))")
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        for column in COLUMNS:
            batch_op.alter_column(column, existing_type=sa.LargeBinary(), type_=sa.String(length=64),
                                  existing_nullable=False)
