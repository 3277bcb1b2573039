"""party: digest of the content a party's signature covers, and when a change voided its confirmation;
change_proposal (a co-applicant's proposed changes, accepted or declined by the creator)

Revision ID: c1d2e3f4a5b6
Revises: c05e7a1b2d49
Create Date: 2026-12-03 16:30:00
"""
from alembic import op
import sqlalchemy as sa
import app.db


revision = 'c1d2e3f4a5b6'
down_revision = 'c05e7a1b2d49'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('party') as batch:
        batch.add_column(sa.Column('signed_content_sha256', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('confirmation_voided_at', app.db.UTCDateTime(), nullable=True))
    op.create_table('change_proposal',
    sa.Column('case_id', sa.String(length=32), nullable=False),
    sa.Column('party_role', sa.String(length=32), nullable=False),
    sa.Column('proposed_by', sa.String(length=32), nullable=False),
    sa.Column('changes_enc', sa.LargeBinary(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', app.db.UTCDateTime(), nullable=False),
    sa.Column('decided_at', app.db.UTCDateTime(), nullable=True),
    sa.Column('decided_by', sa.String(length=32), nullable=True),
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('tenant_id', sa.String(length=12), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['reg_case.id'], name=op.f('fk_change_proposal_case_id_reg_case'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['decided_by'], ['app_user.id'], name=op.f('fk_change_proposal_decided_by_app_user')),
    sa.ForeignKeyConstraint(['proposed_by'], ['app_user.id'], name=op.f('fk_change_proposal_proposed_by_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_change_proposal'))
    )
    with op.batch_alter_table('change_proposal', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_change_proposal_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_change_proposal_tenant_id'), ['tenant_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('change_proposal', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_change_proposal_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_change_proposal_case_id'))
    op.drop_table('change_proposal')
    with op.batch_alter_table('party') as batch:
        batch.drop_column('confirmation_voided_at')
        batch.drop_column('signed_content_sha256')
