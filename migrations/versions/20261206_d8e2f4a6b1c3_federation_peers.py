"""federation_peer (the platforms this one trusts, by division code, with their Ed25519 public keys) and
federation_nonce (nonces already accepted from them, until expiry)

Revision ID: d8e2f4a6b1c3
Revises: d4b8e2f6a1c3
Create Date: 2026-12-06 08:40:00
"""
from alembic import op
import sqlalchemy as sa

from app.db import UTCDateTime


revision = 'd8e2f4a6b1c3'
down_revision = 'd4b8e2f6a1c3'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'federation_peer',
        sa.Column('code', sa.String(length=6), nullable=False),
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('level', sa.String(length=8), nullable=False),
        sa.Column('base_url', sa.String(length=255), nullable=False),
        sa.Column('public_key', sa.Text(), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('code', name=op.f('pk_federation_peer')),
    )
    op.create_table(
        'federation_nonce',
        sa.Column('peer_code', sa.String(length=6), nullable=False),
        sa.Column('nonce', sa.String(length=64), nullable=False),
        sa.Column('expires_at', UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('peer_code', 'nonce', name=op.f('pk_federation_nonce')),
    )
    op.create_index(op.f('ix_federation_nonce_expires_at'), 'federation_nonce', ['expires_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_federation_nonce_expires_at'), table_name='federation_nonce')
    op.drop_table('federation_nonce')
    op.drop_table('federation_peer')
