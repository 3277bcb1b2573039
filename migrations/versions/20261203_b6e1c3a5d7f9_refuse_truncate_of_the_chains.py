"""refuse TRUNCATE of register_entry and audit_entry (statement-level triggers, PostgreSQL)

The row trigger refuses UPDATE/DELETE of register entries, but TRUNCATE fires no row trigger: one statement
emptied the book. The app's role owns no table and has no TRUNCATE privilege (README "Security"); these
triggers stop the owner too, short of disabling them — which the signed checkpoints then reveal.

Revision ID: b6e1c3a5d7f9
Revises: b9e3c5a7d1f2
Create Date: 2026-12-03 16:30:00
"""
from alembic import op


revision = 'b6e1c3a5d7f9'
down_revision = 'b9e3c5a7d1f2'
branch_labels = None
depends_on = None

TABLES = ('register_entry', 'audit_entry')


def upgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute("""
        CREATE FUNCTION chain_refuse_truncate() RETURNS trigger AS $$
        BEGIN
            RAISE EXCEPTION '% is append-only: TRUNCATE refused (只能追加，不能清空)', TG_TABLE_NAME;
        END;
        $$ LANGUAGE plpgsql;
    """)
    for table in TABLES:
        op.execute(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                   "FOR EACH STATEMENT EXECUTE FUNCTION chain_refuse_truncate()")


def downgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    for table in TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
    op.execute("DROP FUNCTION IF EXISTS chain_refuse_truncate()")
