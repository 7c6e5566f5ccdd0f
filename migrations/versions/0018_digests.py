"""digests: how far each person's daily or weekly digest of each forum and partnership
has gone (the digest levels themselves are new values of the level column, stored as
text, so that column does not change)

Revision ID: 0018_digests
Revises: 0017_notification_settings
Create Date: 2026-12-04 09:00:00
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0018_digests'
down_revision = '0017_notification_settings'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'digest_cursors',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('forum_id', sa.Integer(), nullable=True),
        sa.Column('partnership_id', sa.Integer(), nullable=True),
        sa.Column('sent_until', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint('(forum_id IS NULL) <> (partnership_id IS NULL)',
                           name=op.f('ck_digest_cursors_one_scope')),
        sa.ForeignKeyConstraint(['forum_id'], ['forums.id'],
                                name=op.f('fk_digest_cursors_forum_id_forums'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['partnership_id'], ['partnerships.id'],
                                name=op.f('fk_digest_cursors_partnership_id_partnerships'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_digest_cursors_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_digest_cursors')),
        sa.UniqueConstraint('user_id', 'forum_id', name='uq_digest_cursors_user_forum'),
        sa.UniqueConstraint('user_id', 'partnership_id',
                            name='uq_digest_cursors_user_partnership'),
    )


def downgrade():
    op.drop_table('digest_cursors')
