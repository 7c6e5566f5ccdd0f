"""meetings of the partnership itself: meetings.partnership_id and meeting_series.partnership_id
(backfilled from the forum), forum_id nullable there and on meeting_actions;
partnerships.notice_days

Revision ID: 0015_partnership_meetings
Revises: 0014_placement_started
Create Date: 2026-12-03 09:10:00
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015_partnership_meetings'
down_revision = '0014_placement_started'
branch_labels = None
depends_on = None

_BACKFILL = ("UPDATE {table} SET partnership_id = (SELECT forums.partnership_id FROM forums "
             "WHERE forums.id = {table}.forum_id)")


def upgrade():
    with op.batch_alter_table('partnerships', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notice_days', sa.Integer(), server_default='5',
                                      nullable=False))


    for table in ('meeting_series', 'meetings'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('partnership_id', sa.Integer(), nullable=True))
        op.execute(_BACKFILL.format(table=table))
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column('partnership_id', existing_type=sa.Integer(), nullable=False)
            batch_op.alter_column('forum_id', existing_type=sa.Integer(), nullable=True)
            batch_op.create_foreign_key(
                batch_op.f(f'fk_{table}_partnership_id_partnerships'), 'partnerships',
                ['partnership_id'], ['id'], ondelete='CASCADE')

    with op.batch_alter_table('meeting_series', schema=None) as batch_op:
        batch_op.create_index('ix_meeting_series_partnership_id', ['partnership_id'],
                              unique=False)
    with op.batch_alter_table('meetings', schema=None) as batch_op:
        batch_op.create_index('ix_meetings_partnership_starts',
                              ['partnership_id', 'starts_at'], unique=False)
    with op.batch_alter_table('meeting_actions', schema=None) as batch_op:
        batch_op.alter_column('forum_id', existing_type=sa.Integer(), nullable=True)


def downgrade():
    # A meeting of the partnership itself has no place in the older schema: its rows
    # (and their actions, series) go.
    op.execute("DELETE FROM meeting_actions WHERE forum_id IS NULL")
    op.execute("DELETE FROM meetings WHERE forum_id IS NULL")
    op.execute("DELETE FROM meeting_series WHERE forum_id IS NULL")
    with op.batch_alter_table('meeting_actions', schema=None) as batch_op:
        batch_op.alter_column('forum_id', existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table('meetings', schema=None) as batch_op:
        batch_op.drop_index('ix_meetings_partnership_starts')
    with op.batch_alter_table('meeting_series', schema=None) as batch_op:
        batch_op.drop_index('ix_meeting_series_partnership_id')
    for table in ('meetings', 'meeting_series'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f(f'fk_{table}_partnership_id_partnerships'),
                                     type_='foreignkey')
            batch_op.alter_column('forum_id', existing_type=sa.Integer(), nullable=False)
            batch_op.drop_column('partnership_id')
    with op.batch_alter_table('partnerships', schema=None) as batch_op:
        batch_op.drop_column('notice_days')
