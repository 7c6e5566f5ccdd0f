"""the site's revision, replaced by every committed change (the page cache's key)

Revision ID: 0025_site_revision
Revises: 0024_forum_member_count
Create Date: 2026-12-03 18:00:00

``site_revision`` holds one row, written by ``partnerships/revision.py`` as the last
statement of every transaction that changes data. No row until the first write, so
nothing is cached from a database upgraded and not yet written.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0025_site_revision'
down_revision = '0024_forum_member_count'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'site_revision',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('value', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_site_revision')),
    )


def downgrade():
    op.drop_table('site_revision')
