"""realty_unit: trigram indexes for the 坐落 substring search on PostgreSQL (pg_trgm), none on SQLite

Two GIN indexes: the address's own trigrams (terms of 3 characters or more) and those of the address with
every character doubled (2-character terms such as 文三: their doubled form 文文三三 has trigrams). A larger
statistics sample on both, so the planner knows how common a term is (a page of a common term is read in
unit-code order and stops at 51 rows; a rare one comes from the index). CREATE EXTENSION needs the tables'
owner (migrations run as the owner; the app role bdcdj_app only reads and writes rows).

Revision ID: e3b7c9d1f5a2
Revises: e7c3a9d1b5f2
Create Date: 2026-12-05 22:30:00
"""
from alembic import op

revision = 'e3b7c9d1f5a2'
down_revision = 'e7c3a9d1b5f2'
branch_labels = None
depends_on = None

PAIRS = r"regexp_replace(location, '(.)', '\1\1', 'g')"


def upgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute("CREATE INDEX ix_realty_unit_location_trgm ON realty_unit USING gin (location gin_trgm_ops)")
    op.execute(f"CREATE INDEX ix_realty_unit_location_pairs ON realty_unit USING gin ({PAIRS} gin_trgm_ops)")
    op.execute("ALTER TABLE realty_unit ALTER COLUMN location SET STATISTICS 1000")
    op.execute("ALTER INDEX ix_realty_unit_location_pairs ALTER COLUMN 1 SET STATISTICS 1000")


def downgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute("DROP INDEX ix_realty_unit_location_pairs")
    op.execute("DROP INDEX ix_realty_unit_location_trgm")
    op.execute("ALTER TABLE realty_unit ALTER COLUMN location SET STATISTICS -1")
