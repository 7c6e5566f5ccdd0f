"""indexes for lists at scale: organisations by sort name, meetings for calendars

Revision ID: 0011_bench_indexes
Revises: 0010_outbox_retries
Create Date: 2026-12-03 04:10:00

The organisation directory sorts by name ignoring case; a stored lower-case copy of the
name (``sort_name``, filled here for existing rows) lets it read its first page from an
index. Meetings get an index that covers what lists and calendar feeds filter on and
what a feed's fingerprint sums, so neither reads meeting rows.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011_bench_indexes'
down_revision = '0010_outbox_retries'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sort_name', sa.String(length=160), server_default='',
                                      nullable=False))
    bind = op.get_bind()
    organisations = sa.table('organisations', sa.column('id', sa.Integer),
                             sa.column('name', sa.String), sa.column('sort_name', sa.String))
    # Python's lower(), as the model's, not the database's (SQLite's is ASCII only).
    rows = bind.execute(sa.select(organisations.c.id, organisations.c.name)).all()
    for row_id, name in rows:
        bind.execute(organisations.update().where(organisations.c.id == row_id)
                     .values(sort_name=name.lower()))
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.create_index('ix_organisations_sort_name', ['sort_name', 'id'], unique=False)
    with op.batch_alter_table('meetings', schema=None) as batch_op:
        batch_op.create_index('ix_meetings_forum_calendar',
                              ['forum_id', 'starts_at', 'ends_at', 'visibility', 'status',
                               'updated_at'], unique=False)


def downgrade():
    with op.batch_alter_table('meetings', schema=None) as batch_op:
        batch_op.drop_index('ix_meetings_forum_calendar')
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.drop_index('ix_organisations_sort_name')
        batch_op.drop_column('sort_name')
