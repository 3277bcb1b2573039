"""Electronic archives (issue 19 part 2): archive_package (one signed, time-stamped DA/T 48 package per ended
case: 档号, 类别, 保管期限, counts, SHA-256, fixity and export state), archive_file (each document's SHA-256),
archive_holder (blind indexes for search by holder) and archive_consultation (调阅 with its purpose).

On PostgreSQL a trigger refuses to delete a package before its 保管期限 ends (a permanent one never) and to
change what was recorded when it was built (档号, 保管期限, the stored file and its digests): only the fixity
and export columns change afterwards. The app's role may only add archive files and holder rows
(app/db_roles.py).

Revision ID: a7c9e1b3d5f2
Revises: a9c4e6f8b2d5
Create Date: 2026-12-06 07:06:36.176425
"""
from alembic import op
import sqlalchemy as sa
import app.db


revision = 'a7c9e1b3d5f2'
down_revision = 'a9c4e6f8b2d5'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('archive_package',
    sa.Column('case_id', sa.String(length=32), nullable=False),
    sa.Column('archive_no', sa.String(length=64), nullable=False),
    sa.Column('business_no', sa.String(length=32), nullable=False),
    sa.Column('unit_code', sa.String(length=28), nullable=True),
    sa.Column('business_type_code', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('retention', sa.String(length=8), nullable=False),
    sa.Column('retain_until', app.db.UTCDateTime(), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('item_count', sa.Integer(), nullable=False),
    sa.Column('page_count', sa.Integer(), nullable=False),
    sa.Column('storage_key', sa.String(length=128), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('signed_digest', sa.String(length=64), nullable=False),
    sa.Column('stamped_at', app.db.UTCDateTime(), nullable=True),
    sa.Column('built_at', app.db.UTCDateTime(), nullable=False),
    sa.Column('fixity_checked_at', app.db.UTCDateTime(), nullable=True),
    sa.Column('fixity_ok', sa.Boolean(), nullable=True),
    sa.Column('fixity_problem', sa.String(length=500), nullable=True),
    sa.Column('exported_dir_at', app.db.UTCDateTime(), nullable=True),
    sa.Column('exported_http_at', app.db.UTCDateTime(), nullable=True),
    sa.Column('export_receipt', sa.String(length=64), nullable=True),
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('tenant_id', sa.String(length=12), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['reg_case.id'], name=op.f('fk_archive_package_case_id_reg_case')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_archive_package')),
    sa.UniqueConstraint('archive_no', name=op.f('uq_archive_package_archive_no')),
    sa.UniqueConstraint('case_id', name=op.f('uq_archive_package_case_id'))
    )
    with op.batch_alter_table('archive_package', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_archive_package_built_at'), ['built_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_archive_package_business_no'), ['business_no'], unique=False)
        batch_op.create_index(batch_op.f('ix_archive_package_exported_http_at'), ['exported_http_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_archive_package_fixity_checked_at'), ['fixity_checked_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_archive_package_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_archive_package_unit_code'), ['unit_code'], unique=False)

    op.create_table('archive_consultation',
    sa.Column('package_id', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('purpose', sa.String(length=200), nullable=False),
    sa.Column('opened_at', app.db.UTCDateTime(), nullable=False),
    sa.Column('expires_at', app.db.UTCDateTime(), nullable=False),
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('tenant_id', sa.String(length=12), nullable=False),
    sa.ForeignKeyConstraint(['package_id'], ['archive_package.id'], name=op.f('fk_archive_consultation_package_id_archive_package')),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_archive_consultation_user_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_archive_consultation'))
    )
    with op.batch_alter_table('archive_consultation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_archive_consultation_package_id'), ['package_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_archive_consultation_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_archive_consultation_user_id'), ['user_id'], unique=False)

    op.create_table('archive_file',
    sa.Column('package_id', sa.String(length=32), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('content_type', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('pages', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('tenant_id', sa.String(length=12), nullable=False),
    sa.ForeignKeyConstraint(['package_id'], ['archive_package.id'], name=op.f('fk_archive_file_package_id_archive_package')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_archive_file')),
    sa.UniqueConstraint('package_id', 'seq', name=op.f('uq_archive_file_package_id_seq'))
    )
    with op.batch_alter_table('archive_file', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_archive_file_package_id'), ['package_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_archive_file_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('archive_holder',
    sa.Column('package_id', sa.String(length=32), nullable=False),
    sa.Column('bidx', sa.String(length=32), nullable=False),
    sa.Column('tenant_id', sa.String(length=12), nullable=False),
    sa.ForeignKeyConstraint(['package_id'], ['archive_package.id'], name=op.f('fk_archive_holder_package_id_archive_package')),
    sa.PrimaryKeyConstraint('package_id', 'bidx', name=op.f('pk_archive_holder'))
    )
    with op.batch_alter_table('archive_holder', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_archive_holder_bidx'), ['bidx'], unique=False)
        batch_op.create_index(batch_op.f('ix_archive_holder_tenant_id'), ['tenant_id'], unique=False)



    if op.get_bind().dialect.name == 'postgresql':
        op.execute("""
            CREATE FUNCTION archive_package_kept() RETURNS trigger AS $$
            BEGIN
                IF TG_OP = 'DELETE' THEN
                    RAISE EXCEPTION 'archive % is kept until its term (档案保管期限未满，不得删除)', OLD.archive_no;
                END IF;
                RAISE EXCEPTION 'archive % is fixed once built (档案归档内容不得修改)', OLD.archive_no;
            END;
            $$ LANGUAGE plpgsql;
        """)
        op.execute("""
            CREATE TRIGGER archive_package_no_early_delete BEFORE DELETE ON archive_package
            FOR EACH ROW WHEN (OLD.retain_until IS NULL OR OLD.retain_until > now())
            EXECUTE FUNCTION archive_package_kept();
        """)
        op.execute("""
            CREATE TRIGGER archive_package_fixed BEFORE UPDATE ON archive_package
            FOR EACH ROW WHEN (OLD.case_id IS DISTINCT FROM NEW.case_id OR OLD.archive_no IS DISTINCT FROM NEW.archive_no
                               OR OLD.retention IS DISTINCT FROM NEW.retention
                               OR OLD.retain_until IS DISTINCT FROM NEW.retain_until
                               OR OLD.storage_key IS DISTINCT FROM NEW.storage_key
                               OR OLD.sha256 IS DISTINCT FROM NEW.sha256
                               OR OLD.signed_digest IS DISTINCT FROM NEW.signed_digest)
            EXECUTE FUNCTION archive_package_kept();
        """)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP TRIGGER IF EXISTS archive_package_fixed ON archive_package")
        op.execute("DROP TRIGGER IF EXISTS archive_package_no_early_delete ON archive_package")
        op.execute("DROP FUNCTION IF EXISTS archive_package_kept()")
    with op.batch_alter_table('archive_holder', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_archive_holder_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_archive_holder_bidx'))

    op.drop_table('archive_holder')
    with op.batch_alter_table('archive_file', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_archive_file_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_archive_file_package_id'))

    op.drop_table('archive_file')
    with op.batch_alter_table('archive_consultation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_archive_consultation_user_id'))
        batch_op.drop_index(batch_op.f('ix_archive_consultation_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_archive_consultation_package_id'))

    op.drop_table('archive_consultation')
    with op.batch_alter_table('archive_package', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_archive_package_unit_code'))
        batch_op.drop_index(batch_op.f('ix_archive_package_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_archive_package_fixity_checked_at'))
        batch_op.drop_index(batch_op.f('ix_archive_package_exported_http_at'))
        batch_op.drop_index(batch_op.f('ix_archive_package_business_no'))
        batch_op.drop_index(batch_op.f('ix_archive_package_built_at'))

    op.drop_table('archive_package')
