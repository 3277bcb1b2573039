"""realty_unit: the surveyed outline (宗地图 / 房产分户图) and the parcel's land area, for the certificate's 附图

Revision ID: d4e8a2c6f1b3
Revises: b6e1c3a5d7f9
Create Date: 2026-12-05 00:20:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'd4e8a2c6f1b3'
down_revision = 'b6e1c3a5d7f9'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('realty_unit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('land_area_m2', sa.Numeric(precision=12, scale=2), nullable=True))
        batch_op.add_column(sa.Column('outline', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('realty_unit', schema=None) as batch_op:
        batch_op.drop_column('outline')
        batch_op.drop_column('land_area_m2')
