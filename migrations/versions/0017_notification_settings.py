"""email settings: levels per forum and partnership, a default, personal kinds switched
off; each outbox message's kind and one-click unsubscribe link

Revision ID: 0017_notification_settings
Revises: 0016_attendance_marks
Create Date: 2026-12-03 10:30:00
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017_notification_settings'
down_revision = '0016_attendance_marks'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'notification_defaults',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('level', sa.Enum('every', 'about_me', 'none', name='level',
                                   native_enum=False, create_constraint=False, length=20),
                  nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_notification_defaults_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', name=op.f('pk_notification_defaults')),
    )
    op.create_table(
        'notification_levels',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('forum_id', sa.Integer(), nullable=True),
        sa.Column('partnership_id', sa.Integer(), nullable=True),
        sa.Column('level', sa.Enum('every', 'about_me', 'none', name='level',
                                   native_enum=False, create_constraint=False, length=20),
                  nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint('(forum_id IS NULL) <> (partnership_id IS NULL)',
                           name=op.f('ck_notification_levels_one_scope')),
        sa.ForeignKeyConstraint(['forum_id'], ['forums.id'],
                                name=op.f('fk_notification_levels_forum_id_forums'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['partnership_id'], ['partnerships.id'],
                                name=op.f('fk_notification_levels_partnership_id_partnerships'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_notification_levels_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_levels')),
        sa.UniqueConstraint('user_id', 'forum_id', name='uq_notification_levels_user_forum'),
        sa.UniqueConstraint('user_id', 'partnership_id',
                            name='uq_notification_levels_user_partnership'),
    )
    op.create_table(
        'notification_kinds_off',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_notification_kinds_off_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', 'kind', name=op.f('pk_notification_kinds_off')),
    )
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=40), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('unsubscribe_url', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_column('unsubscribe_url')
        batch_op.drop_column('kind')
    op.drop_table('notification_kinds_off')
    op.drop_table('notification_levels')
    op.drop_table('notification_defaults')
