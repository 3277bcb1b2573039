"""power_of_attorney: an agent institution's recorded 授权委托书; reg_case names the one it was filed under

Revision ID: a9c4e6f8b2d5
Revises: c3e5a7b9d1f4
Create Date: 2026-12-06 07:30:00
"""
from alembic import op
import sqlalchemy as sa

import app.db


revision = 'a9c4e6f8b2d5'
down_revision = 'c3e5a7b9d1f4'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'power_of_attorney',
        sa.Column('agent_id', sa.String(length=32), nullable=False),
        sa.Column('principal_name_enc', sa.LargeBinary(), nullable=True),
        sa.Column('principal_id_enc', sa.LargeBinary(), nullable=True),
        sa.Column('principal_bidx', sa.String(length=32), nullable=True),
        sa.Column('business_types', sa.JSON(), nullable=False),
        sa.Column('unit_codes', sa.JSON(), nullable=False),
        sa.Column('valid_from', sa.Date(), nullable=False),
        sa.Column('valid_until', sa.Date(), nullable=False),
        sa.Column('notarial_no', sa.String(length=64), nullable=True),
        sa.Column('created_at', app.db.UTCDateTime(), nullable=False),
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(['agent_id'], ['app_user.id'], name=op.f('fk_power_of_attorney_agent_id_app_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_power_of_attorney')),
    )
    with op.batch_alter_table('power_of_attorney', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_power_of_attorney_agent_id'), ['agent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_power_of_attorney_principal_bidx'), ['principal_bidx'], unique=False)
    with op.batch_alter_table('reg_case', schema=None) as batch_op:
        batch_op.add_column(sa.Column('power_of_attorney_id', sa.String(length=32), nullable=True))
        batch_op.create_index(batch_op.f('ix_reg_case_power_of_attorney_id'), ['power_of_attorney_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_reg_case_power_of_attorney_id_power_of_attorney'),
                                    'power_of_attorney', ['power_of_attorney_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('reg_case', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_reg_case_power_of_attorney_id_power_of_attorney'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_reg_case_power_of_attorney_id'))
        batch_op.drop_column('power_of_attorney_id')
    with op.batch_alter_table('power_of_attorney', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_power_of_attorney_principal_bidx'))
        batch_op.drop_index(batch_op.f('ix_power_of_attorney_agent_id'))
    op.drop_table('power_of_attorney')
