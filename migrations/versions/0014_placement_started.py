"""who marked a placement started (the participant or the host, from the start date)

Revision ID: 0014_placement_started
Revises: 0013_submitted_forms
Create Date: 2026-12-03 09:30:00
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014_placement_started'
down_revision = '0013_submitted_forms'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('placements', schema=None) as batch_op:
        batch_op.add_column(sa.Column('started_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_placements_started_by_id_users'),
                                    'users', ['started_by_id'], ['id'], ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('placements', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_placements_started_by_id_users'),
                                 type_='foreignkey')
        batch_op.drop_column('started_by_id')
