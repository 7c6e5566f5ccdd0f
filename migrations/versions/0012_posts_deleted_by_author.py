"""forum posts their authors deleted: when (the text is erased)

Revision ID: 0012_posts_deleted_by_author
Revises: 0011_bench_indexes
Create Date: 2026-12-03 06:40:00
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012_posts_deleted_by_author'
down_revision = '0011_bench_indexes'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('forum_posts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('forum_posts', schema=None) as batch_op:
        batch_op.drop_column('deleted_at')
