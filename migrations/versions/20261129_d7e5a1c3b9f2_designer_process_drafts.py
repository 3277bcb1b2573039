"""designer process drafts and analyst dictionaries

Revision ID: d7e5a1c3b9f2
Revises: f68940ce2863
Create Date: 2026-11-29 09:50:00
"""
from alembic import op
import sqlalchemy as sa
import app.db


revision = 'd7e5a1c3b9f2'
down_revision = 'f68940ce2863'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('dictionary_entry',
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('parent_code', sa.String(length=64), nullable=True),
    sa.Column('level', sa.String(length=16), nullable=True),
    sa.Column('effective_from', sa.Date(), nullable=True),
    sa.Column('effective_to', sa.Date(), nullable=True),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('updated_at', app.db.UTCDateTime(), nullable=False),
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dictionary_entry')),
    sa.UniqueConstraint('kind', 'code', name=op.f('uq_dictionary_entry_kind_code'))
    )
    op.create_index(op.f('ix_dictionary_entry_kind'), 'dictionary_entry', ['kind'], unique=False)
    op.create_table('process_draft',
    sa.Column('business_type_code', sa.String(length=64), nullable=False),
    sa.Column('bpmn_xml', sa.Text(), nullable=False),
    sa.Column('based_on_version_id', sa.String(length=32), nullable=True),
    sa.Column('author_id', sa.String(length=32), nullable=True),
    sa.Column('updated_at', app.db.UTCDateTime(), nullable=False),
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['based_on_version_id'], ['process_version.id'], name=op.f('fk_process_draft_based_on_version_id_process_version')),
    sa.ForeignKeyConstraint(['business_type_code'], ['business_type.code'], name=op.f('fk_process_draft_business_type_code_business_type')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_process_draft')),
    sa.UniqueConstraint('business_type_code', name=op.f('uq_process_draft_business_type_code'))
    )


def downgrade() -> None:
    op.drop_table('process_draft')
    op.drop_index(op.f('ix_dictionary_entry_kind'), table_name='dictionary_entry')
    op.drop_table('dictionary_entry')
