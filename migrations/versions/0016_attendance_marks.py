"""attendance of forum members who did not register (meeting_attendance)

Revision ID: 0016_attendance_marks
Revises: 0015_partnership_meetings
Create Date: 2026-12-03 09:30:00
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016_attendance_marks'
down_revision = '0015_partnership_meetings'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'meeting_attendance',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('meeting_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('attendance', sa.Enum('present', 'apologies', 'absent', name='attendance',
                                        native_enum=False, length=40), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'],
                                name=op.f('fk_meeting_attendance_meeting_id_meetings'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_meeting_attendance_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_meeting_attendance')),
        sa.UniqueConstraint('meeting_id', 'user_id',
                            name=op.f('uq_meeting_attendance_meeting_id_user_id')),
    )
    with op.batch_alter_table('meeting_attendance', schema=None) as batch_op:
        batch_op.create_index('ix_meeting_attendance_user_id', ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('meeting_attendance', schema=None) as batch_op:
        batch_op.drop_index('ix_meeting_attendance_user_id')
    op.drop_table('meeting_attendance')
