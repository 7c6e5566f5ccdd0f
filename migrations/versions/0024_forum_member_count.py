"""forums keep their count of active members

Revision ID: 0024_forum_member_count
Revises: 0023_member_listing
Create Date: 2026-12-03 15:20:00

``forums.member_count``, kept by ``forums/counts.py`` in the same transaction as each
membership's change, filled here from the memberships already there.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0024_forum_member_count'
down_revision = '0023_member_listing'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('forums', schema=None) as batch_op:
        batch_op.add_column(sa.Column('member_count', sa.Integer(), server_default='0',
                                      nullable=False))
    forums = sa.table('forums', sa.column('id', sa.Integer),
                      sa.column('member_count', sa.Integer))
    members = sa.table('forum_members', sa.column('id', sa.Integer),
                       sa.column('forum_id', sa.Integer), sa.column('status', sa.String))
    counted = (sa.select(sa.func.count(members.c.id))
               .where(members.c.forum_id == forums.c.id, members.c.status == 'active')
               .scalar_subquery())
    op.get_bind().execute(forums.update().values(member_count=counted))


def downgrade():
    with op.batch_alter_table('forums', schema=None) as batch_op:
        batch_op.drop_column('member_count')
