"""institution: banks, developers, agents, courts and collectives as organisations (their accounts belong to one;
an operator may close its port); institution_batch / _item / institution_filing: batch filing with an
idempotency key per item. Every existing institution account gets an organisation of its own (its name and USCC
are encrypted on the account and cannot be read here: the name is the username until the demo data or an
operator completes it).

Revision ID: b7d9f1a3c5e7
Revises: a9f3d5b7c1e2
Create Date: 2026-12-06 07:05:43.690851
"""
import uuid
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa
import app.db


revision = 'b7d9f1a3c5e7'
down_revision = 'a9f3d5b7c1e2'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('institution',
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('uscc', sa.String(length=18), nullable=True),
    sa.Column('institution_type', sa.String(length=16), nullable=False),
    sa.Column('tenant_id', sa.String(length=12), nullable=True),
    sa.Column('port_open', sa.Boolean(), nullable=False),
    sa.Column('port_reason', sa.String(length=500), nullable=True),
    sa.Column('port_changed_by', sa.String(length=32), nullable=True),
    sa.Column('port_changed_at', app.db.UTCDateTime(), nullable=True),
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('created_at', app.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', app.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.code'], name=op.f('fk_institution_tenant_id_tenant')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_institution')),
    sa.UniqueConstraint('uscc', name=op.f('uq_institution_uscc'))
    )
    with op.batch_alter_table('institution', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_institution_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('institution_batch',
    sa.Column('institution_id', sa.String(length=32), nullable=False),
    sa.Column('submitted_by', sa.String(length=32), nullable=False),
    sa.Column('created_at', app.db.UTCDateTime(), nullable=False),
    sa.Column('item_count', sa.Integer(), nullable=False),
    sa.Column('accepted_count', sa.Integer(), nullable=False),
    sa.Column('refused_count', sa.Integer(), nullable=False),
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['institution_id'], ['institution.id'], name=op.f('fk_institution_batch_institution_id_institution')),
    sa.ForeignKeyConstraint(['submitted_by'], ['app_user.id'], name=op.f('fk_institution_batch_submitted_by_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_institution_batch'))
    )
    with op.batch_alter_table('institution_batch', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_institution_batch_institution_id'), ['institution_id'], unique=False)

    op.create_table('institution_batch_item',
    sa.Column('batch_id', sa.String(length=32), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=64), nullable=True),
    sa.Column('business_type', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('replayed', sa.Boolean(), nullable=False),
    sa.Column('case_id', sa.String(length=32), nullable=True),
    sa.Column('code', sa.String(length=64), nullable=True),
    sa.Column('message', sa.String(length=1000), nullable=True),
    sa.Column('errors', sa.JSON(), nullable=True),
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['institution_batch.id'], name=op.f('fk_institution_batch_item_batch_id_institution_batch')),
    sa.ForeignKeyConstraint(['case_id'], ['reg_case.id'], name=op.f('fk_institution_batch_item_case_id_reg_case')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_institution_batch_item')),
    sa.UniqueConstraint('batch_id', 'position', name='uq_institution_batch_item_position')
    )
    with op.batch_alter_table('institution_batch_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_institution_batch_item_batch_id'), ['batch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_institution_batch_item_case_id'), ['case_id'], unique=False)

    op.create_table('institution_filing',
    sa.Column('institution_id', sa.String(length=32), nullable=False),
    sa.Column('idempotency_key', sa.String(length=64), nullable=False),
    sa.Column('content_sha256', sa.String(length=64), nullable=False),
    sa.Column('business_type', sa.String(length=64), nullable=False),
    sa.Column('case_id', sa.String(length=32), nullable=False),
    sa.Column('created_at', app.db.UTCDateTime(), nullable=False),
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['reg_case.id'], name=op.f('fk_institution_filing_case_id_reg_case')),
    sa.ForeignKeyConstraint(['institution_id'], ['institution.id'], name=op.f('fk_institution_filing_institution_id_institution')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_institution_filing')),
    sa.UniqueConstraint('institution_id', 'idempotency_key', name='uq_institution_filing_key')
    )
    with op.batch_alter_table('institution_filing', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_institution_filing_case_id'), ['case_id'], unique=False)

    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('institution_id', sa.String(length=32), nullable=True))
        batch_op.create_index(batch_op.f('ix_app_user_institution_id'), ['institution_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_app_user_institution_id_institution'), 'institution', ['institution_id'], ['id'])

    _attach_institution_accounts()


def _attach_institution_accounts() -> None:
    bind = op.get_bind()
    users = sa.table('app_user', sa.column('id', sa.String), sa.column('username', sa.String),
                     sa.column('kind', sa.String), sa.column('institution_type', sa.String),
                     sa.column('institution_id', sa.String))
    institution = sa.table('institution', sa.column('id', sa.String), sa.column('name', sa.String),
                           sa.column('uscc', sa.String), sa.column('institution_type', sa.String),
                           sa.column('port_open', sa.Boolean), sa.column('created_at', app.db.UTCDateTime()),
                           sa.column('updated_at', app.db.UTCDateTime()))
    now = datetime.now(timezone.utc)
    rows = bind.execute(sa.select(users.c.id, users.c.username, users.c.institution_type)
                        .where(users.c.kind == 'institution')).all()
    for user_id, username, kind in rows:
        org_id = uuid.uuid4().hex
        op.execute(institution.insert().values(id=org_id, name=username, uscc=None, institution_type=kind or 'bank',
                                               port_open=True, created_at=now, updated_at=now))
        op.execute(users.update().where(users.c.id == user_id).values(institution_id=org_id))


def downgrade() -> None:
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_app_user_institution_id_institution'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_app_user_institution_id'))
        batch_op.drop_column('institution_id')

    with op.batch_alter_table('institution_filing', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_institution_filing_case_id'))

    op.drop_table('institution_filing')
    with op.batch_alter_table('institution_batch_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_institution_batch_item_case_id'))
        batch_op.drop_index(batch_op.f('ix_institution_batch_item_batch_id'))

    op.drop_table('institution_batch_item')
    with op.batch_alter_table('institution_batch', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_institution_batch_institution_id'))

    op.drop_table('institution_batch')
    with op.batch_alter_table('institution', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_institution_tenant_id'))

    op.drop_table('institution')
