"""federation_navigation (the national entrance's 去办理 records), definition_package (a province's signed
business-type packages), definition_adoption and definition_override (a city's adopted and locally kept types)

Revision ID: b7c3d9e1f5a2
Revises: d8e2f4a6b1c3
Create Date: 2026-12-06 10:00:00
"""
from alembic import op
import sqlalchemy as sa

from app.db import UTCDateTime


revision = 'b7c3d9e1f5a2'
down_revision = 'd8e2f4a6b1c3'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'federation_navigation',
        sa.Column('user_id', sa.String(length=32), nullable=False),
        sa.Column('business_type_code', sa.String(length=64), nullable=False),
        sa.Column('business_type_name', sa.String(length=128), nullable=False),
        sa.Column('target_code', sa.String(length=6), nullable=False),
        sa.Column('province_code', sa.String(length=6), nullable=False),
        sa.Column('city_code', sa.String(length=6), nullable=False),
        sa.Column('unit_code', sa.String(length=28), nullable=True),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_federation_navigation')),
    )
    op.create_index(op.f('ix_federation_navigation_user_id'), 'federation_navigation', ['user_id'], unique=False)
    op.create_table(
        'definition_package',
        sa.Column('business_type_code', sa.String(length=64), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('content_sha256', sa.String(length=64), nullable=False),
        sa.Column('package_sha256', sa.String(length=64), nullable=False),
        sa.Column('package', sa.Text(), nullable=False),
        sa.Column('signature', sa.String(length=128), nullable=False),
        sa.Column('published_by', sa.String(length=32), nullable=True),
        sa.Column('published_at', UTCDateTime(), nullable=False),
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_definition_package')),
        sa.UniqueConstraint('business_type_code', 'version',
                            name=op.f('uq_definition_package_business_type_code_version')),
    )
    op.create_index(op.f('ix_definition_package_business_type_code'), 'definition_package', ['business_type_code'],
                    unique=False)
    op.create_table(
        'definition_adoption',
        sa.Column('business_type_code', sa.String(length=64), nullable=False),
        sa.Column('province_code', sa.String(length=6), nullable=False),
        sa.Column('package_version', sa.Integer(), nullable=False),
        sa.Column('package_sha256', sa.String(length=64), nullable=False),
        sa.Column('process_version_id', sa.String(length=32), nullable=False),
        sa.Column('forced', sa.Boolean(), nullable=False),
        sa.Column('adopted_by', sa.String(length=32), nullable=True),
        sa.Column('adopted_at', UTCDateTime(), nullable=False),
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_definition_adoption')),
    )
    op.create_index(op.f('ix_definition_adoption_business_type_code'), 'definition_adoption',
                    ['business_type_code'], unique=False)
    op.create_table(
        'definition_override',
        sa.Column('business_type_code', sa.String(length=64), nullable=False),
        sa.Column('reason', sa.String(length=200), nullable=False),
        sa.Column('marked_by', sa.String(length=32), nullable=True),
        sa.Column('marked_at', UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('business_type_code', name=op.f('pk_definition_override')),
    )


def downgrade() -> None:
    op.drop_table('definition_override')
    op.drop_index(op.f('ix_definition_adoption_business_type_code'), table_name='definition_adoption')
    op.drop_table('definition_adoption')
    op.drop_index(op.f('ix_definition_package_business_type_code'), table_name='definition_package')
    op.drop_table('definition_package')
    op.drop_index(op.f('ix_federation_navigation_user_id'), table_name='federation_navigation')
    op.drop_table('federation_navigation')
