"""exception log and audit chain anchor

Revision ID: a8b3c5d7e9f1
Revises: a5c1e7d3f9b2
Create Date: 2026-11-29 12:39:50

The exception log (unhandled errors, without personal data) and the audit chain's anchor: where the kept
chain starts once retention has purged its oldest entries (existing chains start at the genesis hash).
"""
from alembic import op
import sqlalchemy as sa
import app.db


revision = 'a8b3c5d7e9f1'
down_revision = 'a5c1e7d3f9b2'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('exception_log',
    sa.Column('at', app.db.UTCDateTime(), nullable=False),
    sa.Column('exc_type', sa.String(length=128), nullable=False),
    sa.Column('method', sa.String(length=8), nullable=True),
    sa.Column('path', sa.String(length=300), nullable=True),
    sa.Column('endpoint', sa.String(length=128), nullable=True),
    sa.Column('actor_id', sa.String(length=32), nullable=True),
    sa.Column('tenant_id', sa.String(length=12), nullable=True),
    sa.Column('business_no', sa.String(length=32), nullable=True),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('frames', sa.JSON(), nullable=False),
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exception_log'))
    )
    with op.batch_alter_table('exception_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_exception_log_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_exception_log_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_exception_log_business_no'), ['business_no'], unique=False)
        batch_op.create_index(batch_op.f('ix_exception_log_exc_type'), ['exc_type'], unique=False)
        batch_op.create_index(batch_op.f('ix_exception_log_fingerprint'), ['fingerprint'], unique=False)

    with op.batch_alter_table('audit_head', schema=None) as batch_op:
        batch_op.add_column(sa.Column('anchor_seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False,
                                      server_default='0'))
        batch_op.add_column(sa.Column('anchor_hash', sa.String(length=64), nullable=False,
                                      server_default='0' * 64))



def downgrade() -> None:
    with op.batch_alter_table('audit_head', schema=None) as batch_op:
        batch_op.drop_column('anchor_hash')
        batch_op.drop_column('anchor_seq')

    with op.batch_alter_table('exception_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_exception_log_fingerprint'))
        batch_op.drop_index(batch_op.f('ix_exception_log_exc_type'))
        batch_op.drop_index(batch_op.f('ix_exception_log_business_no'))
        batch_op.drop_index(batch_op.f('ix_exception_log_at'))
        batch_op.drop_index(batch_op.f('ix_exception_log_actor_id'))

    op.drop_table('exception_log')
