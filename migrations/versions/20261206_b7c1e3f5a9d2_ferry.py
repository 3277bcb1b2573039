"""ferry (docs/ferry.md): export packages written (ferry_package) and return files accepted
(ferry_return_received) on the extranet; packages imported (ferry_import), the register copy (ferry_copy_entry,
ferry_copy_right), spatial-review results (ferry_review) and return files written (ferry_return_file) on the
intranet

Revision ID: b7c1e3f5a9d2
Revises: c3f5a7e9b1d4
Create Date: 2026-12-06 10:00:00
"""
from alembic import op
import sqlalchemy as sa

from app.db import UTCDateTime


revision = 'b7c1e3f5a9d2'
down_revision = 'c3f5a7e9b1d4'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'ferry_package',
        sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('checkpoint_seq', sa.Integer(), nullable=False),
        sa.Column('file_name', sa.String(length=64), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('entries', sa.Integer(), nullable=False),
        sa.Column('business_nos', sa.JSON(), nullable=False),
        sa.Column('published', sa.Boolean(), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('seq', name=op.f('pk_ferry_package')),
    )
    op.create_table(
        'ferry_return_received',
        sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('nonce', sa.String(length=64), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('results', sa.Integer(), nullable=False),
        sa.Column('imported_at', UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('seq', name=op.f('pk_ferry_return_received')),
        sa.UniqueConstraint('nonce', name=op.f('uq_ferry_return_received_nonce')),
    )
    op.create_table(
        'ferry_import',
        sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('checkpoint_seq', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('checkpoint', sa.JSON(), nullable=False),
        sa.Column('entries', sa.Integer(), nullable=False),
        sa.Column('imported_at', UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('seq', name=op.f('pk_ferry_import')),
    )
    op.create_table(
        'ferry_copy_entry',
        sa.Column('unit_code', sa.String(length=40), nullable=False),
        sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('business_no', sa.String(length=32), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('recorded_at', sa.String(length=40), nullable=False),
        sa.Column('change', sa.JSON(), nullable=False),
        sa.Column('prev_hash', sa.String(length=64), nullable=False),
        sa.Column('hash', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('unit_code', 'seq', name=op.f('pk_ferry_copy_entry')),
    )
    op.create_index(op.f('ix_ferry_copy_entry_business_no'), 'ferry_copy_entry', ['business_no'], unique=False)
    op.create_table(
        'ferry_copy_right',
        sa.Column('right_id', sa.String(length=32), nullable=False),
        sa.Column('unit_code', sa.String(length=40), nullable=False),
        sa.Column('right_type', sa.String(length=32), nullable=False),
        sa.Column('holders', sa.JSON(), nullable=False),
        sa.Column('business_no', sa.String(length=32), nullable=False),
        sa.Column('current', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('right_id', name=op.f('pk_ferry_copy_right')),
    )
    op.create_index(op.f('ix_ferry_copy_right_unit_code'), 'ferry_copy_right', ['unit_code'], unique=False)
    op.create_table(
        'ferry_review',
        sa.Column('business_no', sa.String(length=32), nullable=False),
        sa.Column('unit_code', sa.String(length=40), nullable=True),
        sa.Column('passed', sa.Boolean(), nullable=False),
        sa.Column('remarks_enc', sa.LargeBinary(), nullable=True),
        sa.Column('reviewer', sa.String(length=64), nullable=False),
        sa.Column('reviewed_at', UTCDateTime(), nullable=False),
        sa.Column('return_seq', sa.Integer(), nullable=True),
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_ferry_review')),
    )
    op.create_index(op.f('ix_ferry_review_business_no'), 'ferry_review', ['business_no'], unique=False)
    op.create_index(op.f('ix_ferry_review_return_seq'), 'ferry_review', ['return_seq'], unique=False)
    op.create_table(
        'ferry_return_file',
        sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('nonce', sa.String(length=64), nullable=False),
        sa.Column('file_name', sa.String(length=64), nullable=False),
        sa.Column('results', sa.Integer(), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('seq', name=op.f('pk_ferry_return_file')),
        sa.UniqueConstraint('nonce', name=op.f('uq_ferry_return_file_nonce')),
    )


def downgrade() -> None:
    op.drop_table('ferry_return_file')
    op.drop_index(op.f('ix_ferry_review_return_seq'), table_name='ferry_review')
    op.drop_index(op.f('ix_ferry_review_business_no'), table_name='ferry_review')
    op.drop_table('ferry_review')
    op.drop_index(op.f('ix_ferry_copy_right_unit_code'), table_name='ferry_copy_right')
    op.drop_table('ferry_copy_right')
    op.drop_index(op.f('ix_ferry_copy_entry_business_no'), table_name='ferry_copy_entry')
    op.drop_table('ferry_copy_entry')
    op.drop_table('ferry_import')
    op.drop_table('ferry_return_received')
    op.drop_table('ferry_package')
