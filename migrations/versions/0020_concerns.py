"""concerns raised about how a partnership engages

Revision ID: 0020_concerns
Revises: 0019_engagement_plans
Create Date: 2026-12-03 12:30:00
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0020_concerns'
down_revision = '0019_engagement_plans'
branch_labels = None
depends_on = None


def _user_fk(column):
    return sa.ForeignKeyConstraint([column], ['users.id'],
                                   name=op.f(f'fk_concerns_{column}_users'),
                                   ondelete='SET NULL')


def upgrade():
    op.create_table(
        'concerns',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('partnership_id', sa.Integer(), nullable=False),
        sa.Column('raised_by_id', sa.Integer(), nullable=True),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=True),
        sa.Column('token_hash', sa.String(length=64), nullable=True),
        sa.Column('category', sa.Enum('not_accessible', 'not_enough_notice', 'not_listened_to',
                                      'funding_process', 'other', name='concerncategory',
                                      native_enum=False, create_constraint=False, length=40),
                  nullable=False),
        sa.Column('details', sa.Text(), nullable=False),
        sa.Column('forum_id', sa.Integer(), nullable=True),
        sa.Column('meeting_id', sa.Integer(), nullable=True),
        sa.Column('consent_to_publish', sa.Boolean(), nullable=False),
        sa.Column('anonymous', sa.Boolean(), nullable=False),
        sa.Column('status', sa.Enum('open', 'acknowledged', 'responded', 'closed',
                                    name='concernstatus', native_enum=False,
                                    create_constraint=False, length=40), nullable=False),
        sa.Column('raised_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('acknowledged_by_id', sa.Integer(), nullable=True),
        sa.Column('response', sa.Text(), nullable=True),
        sa.Column('responded_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('responded_by_id', sa.Integer(), nullable=True),
        sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('closed_by_id', sa.Integer(), nullable=True),
        sa.Column('withheld_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('withheld_by_id', sa.Integer(), nullable=True),
        sa.Column('withheld_reason', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['partnership_id'], ['partnerships.id'],
                                name=op.f('fk_concerns_partnership_id_partnerships'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['forum_id'], ['forums.id'],
                                name=op.f('fk_concerns_forum_id_forums'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'],
                                name=op.f('fk_concerns_meeting_id_meetings'),
                                ondelete='SET NULL'),
        _user_fk('raised_by_id'),
        _user_fk('acknowledged_by_id'),
        _user_fk('responded_by_id'),
        _user_fk('closed_by_id'),
        _user_fk('withheld_by_id'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_concerns')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_concerns_token_hash')),
    )
    op.create_index('ix_concerns_partnership_status_raised', 'concerns',
                    ['partnership_id', 'status', 'raised_at'])
    op.create_index('ix_concerns_partnership_raised', 'concerns',
                    ['partnership_id', 'raised_at'])
    op.create_index('ix_concerns_raised_by_id', 'concerns', ['raised_by_id'])


def downgrade():
    op.drop_index('ix_concerns_raised_by_id', table_name='concerns')
    op.drop_index('ix_concerns_partnership_raised', table_name='concerns')
    op.drop_index('ix_concerns_partnership_status_raised', table_name='concerns')
    op.drop_table('concerns')
