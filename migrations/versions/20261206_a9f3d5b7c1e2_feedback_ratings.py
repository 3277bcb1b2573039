"""好差评: feedback_rating (one rating per service and person) and feedback_link (the SMS rating link)

Revision ID: a9f3d5b7c1e2
Revises: a7c9e1b3d5f2
Create Date: 2026-12-06 08:00:00
"""
from alembic import op
import sqlalchemy as sa

import app.db


revision = 'a9f3d5b7c1e2'
down_revision = 'a7c9e1b3d5f2'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('feedback_rating',
    sa.Column('subject_key', sa.String(length=48), nullable=False),
    sa.Column('case_id', sa.String(length=32), nullable=True),
    sa.Column('appointment_id', sa.String(length=32), nullable=True),
    sa.Column('reference', sa.String(length=32), nullable=False),
    sa.Column('business_type_code', sa.String(length=64), nullable=False),
    sa.Column('stage', sa.String(length=16), nullable=False),
    sa.Column('clerk_id', sa.String(length=32), nullable=True),
    sa.Column('rater_id', sa.String(length=32), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('comment_enc', sa.LargeBinary(), nullable=True),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.Column('created_at', app.db.UTCDateTime(), nullable=False),
    sa.Column('follow_up_case_id', sa.String(length=32), nullable=True),
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('tenant_id', sa.String(length=12), nullable=False),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointment.id'],
                            name=op.f('fk_feedback_rating_appointment_id_appointment'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['case_id'], ['reg_case.id'], name=op.f('fk_feedback_rating_case_id_reg_case'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['clerk_id'], ['app_user.id'], name=op.f('fk_feedback_rating_clerk_id_app_user')),
    sa.ForeignKeyConstraint(['follow_up_case_id'], ['reg_case.id'],
                            name=op.f('fk_feedback_rating_follow_up_case_id_reg_case')),
    sa.ForeignKeyConstraint(['rater_id'], ['app_user.id'], name=op.f('fk_feedback_rating_rater_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback_rating')),
    sa.UniqueConstraint('subject_key', 'rater_id', name=op.f('uq_feedback_rating_subject_key_rater_id'))
    )
    with op.batch_alter_table('feedback_rating', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feedback_rating_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_feedback_rating_follow_up_case_id'), ['follow_up_case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_feedback_rating_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index('ix_feedback_rating_stats', ['tenant_id', 'created_at'], unique=False)
    op.create_table('feedback_link',
    sa.Column('subject_key', sa.String(length=48), nullable=False),
    sa.Column('rater_id', sa.String(length=32), nullable=False),
    sa.Column('created_at', app.db.UTCDateTime(), nullable=False),
    sa.Column('expires_at', app.db.UTCDateTime(), nullable=False),
    sa.Column('used_at', app.db.UTCDateTime(), nullable=True),
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('tenant_id', sa.String(length=12), nullable=False),
    sa.ForeignKeyConstraint(['rater_id'], ['app_user.id'], name=op.f('fk_feedback_link_rater_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback_link')),
    sa.UniqueConstraint('subject_key', 'rater_id', name=op.f('uq_feedback_link_subject_key_rater_id'))
    )
    with op.batch_alter_table('feedback_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feedback_link_tenant_id'), ['tenant_id'], unique=False)


def downgrade() -> None:
    op.drop_table('feedback_link')
    op.drop_table('feedback_rating')
