"""federated_case: applications crossing levels (filed nationally, routed by the province, accepted by a city)
and the progress and e-certificates reported upward; collected_checkpoint: the cities' register-log checkpoints
kept at the province

Revision ID: b7c1d3e5f7a9
Revises: b7c3d9e1f5a2
Create Date: 2026-12-06 10:00:00
"""
from alembic import op
import sqlalchemy as sa

from app.db import UTCDateTime


revision = 'b7c1d3e5f7a9'
down_revision = 'b7c3d9e1f5a2'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'federated_case',
        sa.Column('origin_code', sa.String(length=6), nullable=False),
        sa.Column('origin_ref', sa.String(length=64), nullable=False),
        sa.Column('content_sha256', sa.String(length=64), nullable=False),
        sa.Column('business_type', sa.String(length=64), nullable=False),
        sa.Column('unit_code', sa.String(length=32), nullable=False),
        sa.Column('applicant_user_id', sa.String(length=32), nullable=True),
        sa.Column('applicant_bidx', sa.String(length=32), nullable=True),
        sa.Column('city_code', sa.String(length=6), nullable=False),
        sa.Column('case_id', sa.String(length=32), nullable=True),
        sa.Column('business_no', sa.String(length=32), nullable=True),
        sa.Column('status', sa.String(length=32), nullable=False),
        sa.Column('status_label', sa.String(length=32), nullable=False),
        sa.Column('steps', sa.JSON(), nullable=False),
        sa.Column('certificates', sa.JSON(), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('updated_at', UTCDateTime(), nullable=False),
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_federated_case')),
        sa.UniqueConstraint('origin_code', 'origin_ref', name=op.f('uq_federated_case_origin_code_origin_ref')),
    )
    op.create_index(op.f('ix_federated_case_applicant_user_id'), 'federated_case', ['applicant_user_id'],
                    unique=False)
    op.create_index(op.f('ix_federated_case_applicant_bidx'), 'federated_case', ['applicant_bidx'], unique=False)
    op.create_index(op.f('ix_federated_case_business_no'), 'federated_case', ['business_no'], unique=False)
    op.create_table(
        'collected_checkpoint',
        sa.Column('city_code', sa.String(length=6), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('record', sa.JSON(), nullable=False),
        sa.Column('consistent', sa.Boolean(), nullable=False),
        sa.Column('received_at', UTCDateTime(), nullable=False),
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_collected_checkpoint')),
        sa.UniqueConstraint('city_code', 'seq', name=op.f('uq_collected_checkpoint_city_code_seq')),
    )


def downgrade() -> None:
    op.drop_table('collected_checkpoint')
    op.drop_index(op.f('ix_federated_case_business_no'), table_name='federated_case')
    op.drop_index(op.f('ix_federated_case_applicant_bidx'), table_name='federated_case')
    op.drop_index(op.f('ix_federated_case_applicant_user_id'), table_name='federated_case')
    op.drop_table('federated_case')
