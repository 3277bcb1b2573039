"""power_of_attorney: 撤销 (revoked_at, revoked_by, revoke_reason) — no new filing may use a revoked 委托书

Revision ID: b7d2f4a6c8e1
Revises: b7d9f1a3c5e7
Create Date: 2026-12-06 08:00:00
"""
from alembic import op
import sqlalchemy as sa

import app.db


revision = 'b7d2f4a6c8e1'
down_revision = 'b7d9f1a3c5e7'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('power_of_attorney', schema=None) as batch_op:
        batch_op.add_column(sa.Column('revoked_at', app.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('revoked_by', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('revoke_reason', sa.String(length=200), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_power_of_attorney_revoked_by_app_user'),
                                    'app_user', ['revoked_by'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('power_of_attorney', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_power_of_attorney_revoked_by_app_user'), type_='foreignkey')
        batch_op.drop_column('revoke_reason')
        batch_op.drop_column('revoked_by')
        batch_op.drop_column('revoked_at')
