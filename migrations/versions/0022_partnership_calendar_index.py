"""a covering index for a partnership's meetings (lists and its calendar feed)

Revision ID: 0022_partnership_calendar_index
Revises: 0021_annual_reports
Create Date: 2026-12-03 15:00:00

The partnership feed's fingerprint (``feeds._partnership_fingerprint_by_slug``) counts
and sums the partnership's meetings in the feed; with every column it reads in the
index (as ``ix_meetings_forum_calendar`` does for forums), it reads no meeting rows.
It replaces ``ix_meetings_partnership_starts``, whose columns it begins with.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0022_partnership_calendar_index'
down_revision = '0021_annual_reports'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('meetings', schema=None) as batch_op:
        batch_op.create_index('ix_meetings_partnership_calendar',
                              ['partnership_id', 'starts_at', 'ends_at', 'visibility',
                               'status', 'updated_at', 'id'], unique=False)
        batch_op.drop_index('ix_meetings_partnership_starts')


def downgrade():
    with op.batch_alter_table('meetings', schema=None) as batch_op:
        batch_op.create_index('ix_meetings_partnership_starts',
                              ['partnership_id', 'starts_at'], unique=False)
        batch_op.drop_index('ix_meetings_partnership_calendar')
