"""outbox: back-off (next_attempt_at) and claims (claimed_by, claimed_until)

Messages that had failed for good under the old limit of 5 attempts become due again
(the limit is now 28 attempts over more than a day): most of them were spent by an
unreachable server, which no longer costs an attempt.

Revision ID: 0010_outbox_retries
Revises: 0009_org_email_domains
Create Date: 2026-12-10 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010_outbox_retries'
down_revision = '0009_org_email_domains'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('claimed_by', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_column('claimed_until')
        batch_op.drop_column('claimed_by')
        batch_op.drop_column('next_attempt_at')
