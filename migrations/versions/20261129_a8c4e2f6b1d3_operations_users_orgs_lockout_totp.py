"""operations: organisation tree, role categories, user sync key, lockout and TOTP

Revision ID: a8c4e2f6b1d3
Revises: 14dd7d52d997
Create Date: 2026-11-29 12:50:00
"""
from alembic import op
import sqlalchemy as sa
import app.db


revision = 'a8c4e2f6b1d3'
down_revision = '14dd7d52d997'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('org_unit',
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('parent_id', sa.String(length=32), nullable=True),
    sa.Column('tenant_id', sa.String(length=12), nullable=True),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['parent_id'], ['org_unit.id'], name=op.f('fk_org_unit_parent_id_org_unit')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.code'], name=op.f('fk_org_unit_tenant_id_tenant')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_org_unit')),
    sa.UniqueConstraint('code', name=op.f('uq_org_unit_code'))
    )
    op.create_index(op.f('ix_org_unit_parent_id'), 'org_unit', ['parent_id'], unique=False)
    op.create_index(op.f('ix_org_unit_tenant_id'), 'org_unit', ['tenant_id'], unique=False)
    with op.batch_alter_table('role') as batch:
        batch.add_column(sa.Column('category', sa.String(length=16), nullable=False, server_default='business'))
        batch.add_column(sa.Column('customised', sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table('app_user') as batch:
        batch.add_column(sa.Column('org_unit_id', sa.String(length=32), nullable=True))
        batch.add_column(sa.Column('external_id', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('institution_type', sa.String(length=16), nullable=True))
        batch.add_column(sa.Column('failed_logins', sa.Integer(), nullable=False, server_default='0'))
        batch.add_column(sa.Column('locked_until', app.db.UTCDateTime(), nullable=True))
        batch.add_column(sa.Column('totp_secret_enc', sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column('totp_enabled', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.create_index(batch.f('ix_app_user_org_unit_id'), ['org_unit_id'], unique=False)
        batch.create_unique_constraint(batch.f('uq_app_user_external_id'), ['external_id'])
        batch.create_foreign_key(batch.f('fk_app_user_org_unit_id_org_unit'), 'org_unit', ['org_unit_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('app_user') as batch:
        batch.drop_constraint(batch.f('fk_app_user_org_unit_id_org_unit'), type_='foreignkey')
        batch.drop_constraint(batch.f('uq_app_user_external_id'), type_='unique')
        batch.drop_index(batch.f('ix_app_user_org_unit_id'))
        for column in ('totp_enabled', 'totp_secret_enc', 'locked_until', 'failed_logins', 'institution_type',
                       'external_id', 'org_unit_id'):
            batch.drop_column(column)
    with op.batch_alter_table('role') as batch:
        batch.drop_column('customised')
        batch.drop_column('category')
    op.drop_index(op.f('ix_org_unit_tenant_id'), table_name='org_unit')
    op.drop_index(op.f('ix_org_unit_parent_id'), table_name='org_unit')
    op.drop_table('org_unit')
