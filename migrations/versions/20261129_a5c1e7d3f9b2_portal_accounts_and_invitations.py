"""portal accounts: SMS sign-in codes, database rate limits, co-applicant invitations, verification level

Revision ID: a5c1e7d3f9b2
Revises: a9c4e2f7d1b3
Create Date: 2026-11-29 12:41:16.089641
"""
from alembic import op
import sqlalchemy as sa
import app.db


revision = 'a5c1e7d3f9b2'
down_revision = 'a9c4e2f7d1b3'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('rate_event',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('key', sa.String(length=96), nullable=False),
    sa.Column('at', app.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rate_event'))
    )
    with op.batch_alter_table('rate_event', schema=None) as batch_op:
        batch_op.create_index('ix_rate_event_key_at', ['key', 'at'], unique=False)

    op.create_table('sms_code',
    sa.Column('phone_bidx', sa.String(length=32), nullable=False),
    sa.Column('purpose', sa.String(length=16), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', app.db.UTCDateTime(), nullable=False),
    sa.Column('expires_at', app.db.UTCDateTime(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('used_at', app.db.UTCDateTime(), nullable=True),
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sms_code'))
    )
    with op.batch_alter_table('sms_code', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sms_code_phone_bidx'), ['phone_bidx'], unique=False)

    op.create_table('invitation',
    sa.Column('case_id', sa.String(length=32), nullable=False),
    sa.Column('party_role', sa.String(length=32), nullable=False),
    sa.Column('phone_enc', sa.LargeBinary(), nullable=True),
    sa.Column('phone_bidx', sa.String(length=32), nullable=True),
    sa.Column('invited_by', sa.String(length=32), nullable=False),
    sa.Column('created_at', app.db.UTCDateTime(), nullable=False),
    sa.Column('expires_at', app.db.UTCDateTime(), nullable=False),
    sa.Column('opened_at', app.db.UTCDateTime(), nullable=True),
    sa.Column('opened_by', sa.String(length=32), nullable=True),
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('tenant_id', sa.String(length=12), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['reg_case.id'], name=op.f('fk_invitation_case_id_reg_case'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['invited_by'], ['app_user.id'], name=op.f('fk_invitation_invited_by_app_user')),
    sa.ForeignKeyConstraint(['opened_by'], ['app_user.id'], name=op.f('fk_invitation_opened_by_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invitation'))
    )
    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invitation_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_invitation_phone_bidx'), ['phone_bidx'], unique=False)
        batch_op.create_index(batch_op.f('ix_invitation_tenant_id'), ['tenant_id'], unique=False)

    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('verification_level', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('terms_accepted_at', app.db.UTCDateTime(), nullable=True))
    # Accounts verified before this revision were entered by staff or demo data.
    op.execute("UPDATE app_user SET verification_level = 'registered' WHERE verified_at IS NOT NULL")



def downgrade() -> None:
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.drop_column('terms_accepted_at')
        batch_op.drop_column('verification_level')

    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invitation_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_invitation_phone_bidx'))
        batch_op.drop_index(batch_op.f('ix_invitation_case_id'))

    op.drop_table('invitation')
    with op.batch_alter_table('sms_code', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sms_code_phone_bidx'))

    op.drop_table('sms_code')
    with op.batch_alter_table('rate_event', schema=None) as batch_op:
        batch_op.drop_index('ix_rate_event_key_at')

    op.drop_table('rate_event')
